"""Changes that reach across features: who manages and who is a coordinator (the pending suggestions follow), and a person's data (export, forget)."""
