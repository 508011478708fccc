"""What the logs never show."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine


def test_a_database_error_never_carries_what_people_typed(engine: Engine) -> None:
    """SQLAlchemy puts a failed statement's parameters in its message (`[parameters: ...]`), and
    the message reaches the logs with the traceback: the engines hide them (hide_parameters)."""
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    typed = "Haluan oppia lukukoirista, puhelinnumeroni 040 123 4567"
    with pytest.raises(SQLAlchemyError) as failed, engine.connect() as connection:
        connection.execute(text("SELECT :learn FROM no_such_table"), {"learn": typed})
    assert "no_such_table" in str(failed.value)  # the error itself is still told
    assert typed not in str(failed.value) and "040 123" not in repr(failed.value)
