"""Typed domain errors. Each carries a message key (from the catalogues) and its parameters;
the Slack side turns them into a reply in the user's language."""

from __future__ import annotations


class DomainError(Exception):
    """Something the user can be told about in words, not a bug."""

    key = "error.generic"

    def __init__(self, key: str | None = None, /, **params: object) -> None:
        self.key = key or type(self).key
        self.params = params
        super().__init__(self.key)


class NotFound(DomainError):
    key = "error.not_found"


class NotAllowed(DomainError):
    """The user may not do this (wrong person, not a coordinator, ...)."""

    key = "error.not_allowed"


class Conflict(DomainError):
    """The thing has changed under the user (already decided, stale state)."""

    key = "error.conflict"


class InvalidInput(DomainError):
    """Field errors for a form: field name -> (message key, params)."""

    key = "error.invalid_input"

    def __init__(self, fields: dict[str, tuple[str, dict[str, object]]]) -> None:
        super().__init__()
        self.fields = fields

    @classmethod
    def one(cls, field: str, key: str, /, **params: object) -> InvalidInput:
        return cls({field: (key, params)})
