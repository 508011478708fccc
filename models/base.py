"""The declarative base of the tables and the column types they share: times always in UTC
(`UTCDateTime`), enums stored as their values in short strings (`str_enum`)."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Enum, TypeDecorator
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase


class UTCDateTime(TypeDecorator[datetime]):
    """A datetime that is always UTC-aware in Python, on SQLite and on PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; services must pass aware datetimes")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON}


def str_enum(cls: type[enum.StrEnum], length: int = 16) -> Enum:
    """A Python enum stored as its values in a short string column (no database enum type)."""
    return Enum(cls, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e])
