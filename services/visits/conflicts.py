"""Conflicts of interest: nobody decides the host's side or the funding of a visit they make or
whose travellers they supervise (or on which they travel), whatever else they are (the host's contact, a coordinator). The
supervisor's own side is theirs by definition, and a visitor never supervises themselves
(`proposing` refuses it)."""

from __future__ import annotations

from collections.abc import Collection

HOST_CONFLICT = "visits.host.conflict"
FUNDING_CONFLICT = "visits.funding.conflict"
CONFLICTS = {"host": HOST_CONFLICT, "funding": FUNDING_CONFLICT}


def involved(actor: str, *, visitor_id: str, supervisor_id: str, others: Collection[str] = ()) -> bool:
    """Is it `actor`'s own visit, or their staff's? `others`: the colleagues who travel too and
    their supervisors."""
    return actor in (visitor_id, supervisor_id) or actor in others


def conflict_of(
    party: str, actor: str, *, visitor_id: str, supervisor_id: str, others: Collection[str] = ()
) -> str | None:
    """The message key that refuses `actor` the decision of `party`, or None if they may."""
    if party in CONFLICTS and involved(
        actor, visitor_id=visitor_id, supervisor_id=supervisor_id, others=others
    ):
        return CONFLICTS[party]
    return None
