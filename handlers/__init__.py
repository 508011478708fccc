"""Thin Bolt listeners, one module per feature; each has `register(app, deps, router)`."""
