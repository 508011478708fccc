"""Calendar invites in Teams are links: GET /ics/{token} on the Teams app serves the visit's invite
as it is now, for a token this endpoint signed and that has not expired by the test clock; every
other token, and a visit that is gone, gets the same 403. The URL holds only ids and codes."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import httpx
import jwt
import pytest
from icalendar import Calendar
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.i18n import translator
from models import Base, Library, LibraryContact, Topic, VisitStatus
from services.visits import proposing, state_machine, visit_card
from services.visits.proposing import ProposalInput
from teams.ics_links import CLAIM_NAMES, LinkClaims, invite_ics, link_for
from tests.conftest import Clock
from tests.dates import working_days_ahead
from tests.teams.support import build, client, run, teams_settings

VISITOR, BOSS, HOST, COORD = "U0VISITOR", "U0BOSS", "U0HOST1", "U0COORD"
BASE = "https://vertaisbot.kunta.test"
SECRET = "test-link-secret-of-thirty-two-chars!"
LEARN = "Omatoimiaika ja sen aukioloajat"
LINKS = {"teams_public_url": BASE, "teams_link_secret": SECRET}


def settings(sim: Any, **overrides: Any) -> Any:
    return teams_settings(sim, **{**LINKS, **overrides})


def confirmed_visit(sf: sessionmaker[Session], clock: Clock) -> visit_card.VisitCard:
    """A one-day visit from Kuopio to Joroinen, confirmed on its second proposed day."""
    now = clock()
    with sf.begin() as s:
        home = s.scalar(select(Library).where(Library.key == "kuopio-paakirjasto"))
        host = s.scalar(select(Library).where(Library.key == "joroinen"))
        topic = s.scalar(select(Topic).order_by(Topic.id).limit(1))
        assert home and host and topic
        s.add(LibraryContact(library_id=host.id, slack_user_id=HOST, added_at=now))
        ids = {"home": home.id, "host": host.id, "topic": topic.id}
    first = working_days_ahead(now, 10)
    form = ProposalInput(
        topic_id=ids["topic"],
        host_library_id=ids["host"],
        learn=LEARN,
        dates=[first, working_days_ahead(now, 11), None],
        length="day",
        travel_mode="car",
        km="120",
        tickets="",
        accommodation="",
        supervisor_id=BOSS,
        note="",
    )
    card = proposing.propose(sf, form, visitor_id=VISITOR, home_library_id=ids["home"], now=now).card
    date_id = card.visitor_dates[1].id

    def decide(party: str, actor: str, **kw: Any) -> visit_card.Change:
        return state_machine.decide(
            sf, card.id, party=party, approve=True, actor=actor, is_coordinator=actor == COORD, now=now, **kw
        )

    decide("funding", COORD)
    decide("host", HOST, date_id=date_id)
    change = decide("supervisor", BOSS)
    assert change.card.status == VisitStatus.CONFIRMED and change.card.chosen_date == working_days_ahead(
        now, 11
    )
    return change.card


def fetch(
    sim: Any, sf: sessionmaker[Session], clock: Clock, *paths: str, **overrides: Any
) -> list[httpx.Response]:
    async def scenario() -> list[httpx.Response]:
        bot = await build(sim, sf, clock, **{**LINKS, **overrides})
        async with client(bot) as http:
            return [await http.get(path) for path in paths]

    return run(scenario)


def path_of(url: str | None) -> str:
    assert url is not None and url.startswith(f"{BASE}/ics/")
    return url.removeprefix(BASE)


def events(response: httpx.Response) -> tuple[Calendar, list[Any]]:
    calendar = Calendar.from_ical(response.content)
    return calendar, [c for c in calendar.walk() if c.name == "VEVENT"]


def database(sf: sessionmaker[Session]) -> dict[str, list[tuple[Any, ...]]]:
    with sf() as s:
        return {
            table.name: sorted((tuple(row) for row in s.execute(table.select())), key=repr)
            for table in Base.metadata.sorted_tables
        }


def test_a_confirmed_visit_s_link_serves_its_invite_in_the_link_s_language(teamssim, session_factory, clock):
    card = confirmed_visit(session_factory, clock)
    url = link_for(
        settings(teamssim), visit_id=card.id, sequence=card.sequence, kind="confirmed", lang="sv", now=clock()
    )
    before = database(session_factory)
    (response,) = fetch(
        teamssim, session_factory, clock, path_of(url)
    )  # no bearer token: a calendar opens it
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    assert (
        response.headers["content-disposition"]
        == f'attachment; filename="vierailu-{card.id}-{card.sequence}.ics"'
    )
    assert response.headers["cache-control"] == "no-store"
    calendar, (event,) = events(response)
    assert calendar["METHOD"] == "PUBLISH"  # as the Slack side's uploaded invite (services.visits.invites)
    assert event.decoded("DTSTART").date() == card.chosen_date == working_days_ahead(clock(), 11)
    sv = translator("sv")
    assert str(event["SUMMARY"]) == sv(
        "visits.invite.summary", topic=card.topic("sv"), host=card.host_library_name
    )
    assert str(event["SUMMARY"]) != translator("fi")(
        "visits.invite.summary", topic=card.topic("fi"), host=card.host_library_name
    )
    assert str(event["STATUS"]) == "CONFIRMED"
    assert int(event["SEQUENCE"]) == card.sequence
    assert database(session_factory) == before  # a fetch writes nothing


def test_a_cancel_link_serves_a_cancellation(teamssim, session_factory, clock):
    card = confirmed_visit(session_factory, clock)
    cancelled = state_machine.cancel(
        session_factory, card.id, actor=VISITOR, is_coordinator=False, now=clock()
    ).card
    url = link_for(
        settings(teamssim),
        visit_id=card.id,
        sequence=cancelled.sequence,
        kind="cancel",
        lang="fi",
        now=clock(),
    )
    (response,) = fetch(teamssim, session_factory, clock, path_of(url))
    assert response.status_code == 200
    calendar, (event,) = events(response)
    assert calendar["METHOD"] == "CANCEL"
    assert str(event["STATUS"]) == "CANCELLED"
    assert int(event["SEQUENCE"]) == cancelled.sequence == card.sequence + 1


def test_an_old_link_serves_the_visit_as_it_is_now(teamssim, session_factory, clock):
    """The confirmation's link, opened after the visit was called off, cancels the event (under
    the newer SEQUENCE) instead of bringing it back."""
    card = confirmed_visit(session_factory, clock)
    old = link_for(
        settings(teamssim), visit_id=card.id, sequence=card.sequence, kind="confirmed", lang="fi", now=clock()
    )
    assert old is not None
    state_machine.cancel(session_factory, card.id, actor=VISITOR, is_coordinator=False, now=clock())
    (response,) = fetch(teamssim, session_factory, clock, path_of(old))
    assert response.status_code == 200
    assert (
        response.headers["content-disposition"]
        == f'attachment; filename="vierailu-{card.id}-{card.sequence + 1}.ics"'
    )
    calendar, (event,) = events(response)
    assert (calendar["METHOD"], str(event["STATUS"]), int(event["SEQUENCE"])) == (
        "CANCEL",
        "CANCELLED",
        card.sequence + 1,
    )


def test_a_link_from_a_newer_sequence_than_the_visit_s_is_refused(teamssim, session_factory, clock):
    """Never issued (a database restored from a backup, say): no invite rather than a guess."""
    card = confirmed_visit(session_factory, clock)
    claims = LinkClaims(card.id, card.sequence + 1, "confirmed", "fi", expires=2**40)
    assert invite_ics(session_factory, claims, now=clock()) is None


def tampered(token: str, segment: int) -> str:
    """The token with one character of a segment changed (its first: a last character of a
    segment may only carry padding bits)."""
    parts = token.split(".")
    first = parts[segment][0]
    parts[segment] = ("B" if first != "B" else "C") + parts[segment][1:]
    return ".".join(parts)


@pytest.mark.filterwarnings("ignore::jwt.InsecureKeyLengthWarning")  # HS512 with the HS256 key
def test_a_bad_or_forged_token_and_a_gone_visit_all_get_the_same_403(
    teamssim, session_factory, clock, caplog
):
    card = confirmed_visit(session_factory, clock)
    good = link_for(
        settings(teamssim), visit_id=card.id, sequence=card.sequence, kind="confirmed", lang="fi", now=clock()
    )
    token = path_of(good).removeprefix("/ics/")
    claims = jwt.decode(token, options={"verify_signature": False})
    other_secret = jwt.encode(claims, "another-secret-of-thirty-two-characters", algorithm="HS256")
    other_algorithm = jwt.encode(claims, SECRET, algorithm="HS512")
    unsigned = jwt.encode(claims, None, algorithm="none")
    unknown = link_for(
        settings(teamssim), visit_id=card.id + 1000, sequence=0, kind="confirmed", lang="fi", now=clock()
    )
    extra_claim = jwt.encode({**claims, "name": "Maija"}, SECRET, algorithm="HS256")
    bad_kind = jwt.encode({**claims, "k": "send"}, SECRET, algorithm="HS256")
    caplog.set_level(logging.DEBUG)
    paths = [
        *(f"/ics/{tampered(token, segment)}" for segment in range(3)),
        f"/ics/{other_secret}",
        f"/ics/{other_algorithm}",
        f"/ics/{unsigned}",
        f"/ics/{extra_claim}",
        f"/ics/{bad_kind}",
        "/ics/not-a-token",
        path_of(unknown),
    ]
    responses = fetch(teamssim, session_factory, clock, *paths)
    assert [r.status_code for r in responses] == [403] * len(paths)
    assert {r.text for r in responses} == {"forbidden"}
    assert {r.headers["content-type"] for r in responses} == {"text/plain; charset=utf-8"}
    (still,) = fetch(teamssim, session_factory, clock, path_of(good))
    assert still.status_code == 200
    served = [r for r in caplog.records if r.name != "httpx"]  # httpx: the test's own client
    assert any(r.name == "teams.ics_links" for r in served)
    assert not [r for r in served if "/ics/" in r.getMessage() or token[-20:] in r.getMessage()]


def test_a_link_works_for_teams_link_days_by_the_test_clock(teamssim, session_factory, clock):
    card = confirmed_visit(session_factory, clock)
    url = link_for(
        settings(teamssim, teams_link_days=3),
        visit_id=card.id,
        sequence=card.sequence,
        kind="confirmed",
        lang="en",
        now=clock(),
    )
    clock.advance(days=3, seconds=-1)
    (last_second,) = fetch(teamssim, session_factory, clock, path_of(url), teams_link_days=3)
    clock.advance(seconds=1)
    (expired,) = fetch(teamssim, session_factory, clock, path_of(url), teams_link_days=3)
    assert (last_second.status_code, expired.status_code) == (200, 403)


def test_the_url_holds_only_ids_and_codes(teamssim, session_factory, clock):
    card = confirmed_visit(session_factory, clock)
    url = link_for(
        settings(teamssim), visit_id=card.id, sequence=card.sequence, kind="tentative", lang="fi", now=clock()
    )
    payload = jwt.decode(path_of(url).removeprefix("/ics/"), options={"verify_signature": False})
    assert set(payload) == CLAIM_NAMES == {"v", "s", "k", "l", "exp"}
    assert (payload["v"], payload["s"], payload["k"], payload["l"]) == (
        card.id,
        card.sequence,
        "tentative",
        "fi",
    )
    assert payload["exp"] == int((clock() + timedelta(days=60)).timestamp())
    for private in (
        VISITOR,
        BOSS,
        HOST,
        LEARN,
        card.host_library_name,
        card.home_library_name,
        card.topic("fi"),
    ):
        assert private not in url and private not in str(payload)


@pytest.mark.parametrize("missing", ["teams_public_url", "teams_link_secret"])
def test_no_link_without_a_public_url_and_a_secret(teamssim, clock, missing):
    values = {**LINKS, missing: "" if missing == "teams_public_url" else None}
    assert (
        link_for(
            teams_settings(teamssim, **values),
            visit_id=1,
            sequence=0,
            kind="confirmed",
            lang="fi",
            now=clock(),
        )
        is None
    )
