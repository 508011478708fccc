"""Alembic migrations; `bot.migrate` runs them."""
