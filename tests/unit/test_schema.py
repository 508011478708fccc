"""The migrations build exactly the tables the models describe (a model changed without its
migration fails here, before a deployment's `db upgrade` would leave it out)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Engine

from models import Base


def test_the_migrations_build_the_models_tables(engine: Engine) -> None:
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
