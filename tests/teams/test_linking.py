"""A Teams account linked to a staff profile by hand (`chat_accounts.link`/`unlink`, `python -m bot
link-account`): by the 29: id or the e-mail, never splitting a person, audited, one result for two
links at once."""

from __future__ import annotations

import threading
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from models import (
    AuditEntry,
    ChatAccount,
    Coordinator,
    Library,
    LibraryContact,
    Region,
    StaffProfile,
    Topic,
    Visit,
    VisitDecision,
    create_engine_for,
    make_session_factory,
)
from models.migrate import upgrade
from services.catalogue.seed import ensure_seeded
from services.common.errors import DomainError, InvalidInput, NotAllowed, NotFound
from services.people import chat_accounts
from tests.teams.test_accounts import add_profile, reference
from tests.unit.test_cli import run_bot

TEAMS_ONLY = "T0123456789AB"


def remember(session_factory, clock, **overrides: str | None) -> int:
    """A Teams account that the automatic link leaves unlinked (no Entra id or e-mail matches)."""
    values: dict[str, str | None] = {"directory_id": None, **overrides}
    return chat_accounts.remember(session_factory, reference(**values), now=clock())


def link(session_factory, clock, account: str, person: str) -> chat_accounts.LinkResult:
    return chat_accounts.link(
        session_factory, platform="teams", account=account, person=person, actor="U0COORD", now=clock()
    )


def linked_to(session_factory, account_id: int) -> str | None:
    with session_factory() as session:
        return session.scalar(
            select(StaffProfile.slack_user_id)
            .join(ChatAccount, ChatAccount.staff_profile_id == StaffProfile.id)
            .where(ChatAccount.id == account_id)
        )


def snapshot(session_factory) -> dict[str, Any]:
    with session_factory() as session:
        return {
            "accounts": session.execute(
                select(ChatAccount.id, ChatAccount.staff_profile_id, ChatAccount.updated_at).order_by(
                    ChatAccount.id
                )
            ).all(),
            "profiles": session.scalars(select(StaffProfile.slack_user_id).order_by(StaffProfile.id)).all(),
            "audit": session.scalar(select(func.count()).select_from(AuditEntry)),
        }


def audit_entries(session_factory) -> list[AuditEntry]:
    with session_factory() as session:
        return list(
            session.scalars(
                select(AuditEntry).where(AuditEntry.entity == "chat_account").order_by(AuditEntry.id)
            )
        )


def add_visit(session_factory, clock, *, visitor: str, decided_by: str | None = None) -> None:
    with session_factory.begin() as session:
        home, host = session.scalars(select(Library).order_by(Library.id).limit(2)).all()
        visit = Visit(
            visitor_id=visitor,
            home_library_id=home.id,
            host_library_id=host.id,
            topic_id=session.scalars(select(Topic.id).limit(1)).one(),
            length="day",
            travel_mode="public",
            estimated_km=Decimal("0"),
            supervisor_id="U0BOSS",
            created_at=clock(),
            updated_at=clock(),
        )
        session.add(visit)
        session.flush()
        if decided_by:
            session.add(
                VisitDecision(
                    visit_id=visit.id, party="host", decided_by=decided_by, outcome="approved", at=clock()
                )
            )


def test_link_by_the_teams_user_id_and_by_the_email(session_factory, clock):
    anna = add_profile(session_factory, clock, "U0ANNA")
    add_profile(session_factory, clock, "U0BEA")
    first = remember(session_factory, clock, user_id="29:anna")
    second = remember(session_factory, clock, user_id="29:bea", email="Bea.Esimerkki@Kirjasto.example")
    assert linked_to(session_factory, first) is None and linked_to(session_factory, second) is None

    by_id = link(session_factory, clock, "29:anna", "U0ANNA")
    assert (by_id.action, by_id.account_id, by_id.person, by_id.previous) == ("linked", first, "U0ANNA", None)
    by_email = link(session_factory, clock, "bea.esimerkki@kirjasto.EXAMPLE", "U0BEA")
    assert (by_email.action, by_email.account_id, by_email.user_id) == ("linked", second, "29:bea")
    assert linked_to(session_factory, first) == "U0ANNA"
    assert linked_to(session_factory, second) == "U0BEA"

    clock.advance(hours=1)  # the next message keeps the link by hand
    chat_accounts.remember(session_factory, reference(user_id="29:anna", directory_id=None), now=clock())
    assert linked_to(session_factory, first) == "U0ANNA"
    again = link(session_factory, clock, "29:anna", "U0ANNA")
    assert again.action == "unchanged" and again.person == "U0ANNA"
    assert len(audit_entries(session_factory)) == 2  # nothing written for "already so"
    with session_factory() as session:
        assert session.get(StaffProfile, anna) is not None


def test_the_link_is_audited_with_the_actor_the_account_row_and_the_person(session_factory, clock):
    add_profile(session_factory, clock, "U0ANNA")
    account = remember(session_factory, clock, user_id="29:anna")
    link(session_factory, clock, "29:anna", "U0ANNA")
    clock.advance(minutes=5)
    chat_accounts.unlink(
        session_factory, platform="teams", account="29:anna", person="U0ANNA", actor="U0COORD", now=clock()
    )
    linked, unlinked = audit_entries(session_factory)
    assert (linked.actor, linked.action, linked.entity_id) == ("U0COORD", "chat_account.linked", str(account))
    assert linked.details == {
        "platform": "teams",
        "person": "U0ANNA",
        "previous": None,
        "removed_profile": None,
    }
    assert "29:anna" not in str(linked.details)  # the row's id, not the Teams id
    assert (unlinked.action, unlinked.entity_id) == ("chat_account.unlinked", str(account))
    assert unlinked.details == {"platform": "teams", "previous": "U0ANNA"}
    assert unlinked.at - linked.at == clock() - linked.at
    assert linked_to(session_factory, account) is None


def test_an_empty_teams_only_profile_goes_when_its_account_is_linked_to_the_slack_person(
    session_factory, clock
):
    add_profile(session_factory, clock, "U0ANNA")
    teams_only = add_profile(session_factory, clock, TEAMS_ONLY)
    account = remember(session_factory, clock, user_id="29:anna")
    with session_factory.begin() as session:
        session.get(ChatAccount, account).staff_profile_id = teams_only

    result = link(session_factory, clock, "29:anna", "U0ANNA")
    assert (result.action, result.previous, result.removed_profile) == ("linked", TEAMS_ONLY, TEAMS_ONLY)
    assert linked_to(session_factory, account) == "U0ANNA"
    with session_factory() as session:
        assert session.get(StaffProfile, teams_only) is None
    (entry,) = audit_entries(session_factory)
    assert entry.details["previous"] == entry.details["removed_profile"] == TEAMS_ONLY


def test_an_empty_slack_profile_gives_up_the_account_and_stays(session_factory, clock):
    wrong = add_profile(session_factory, clock, "U0WRONG")
    add_profile(session_factory, clock, "U0ANNA")
    account = remember(session_factory, clock, user_id="29:anna")
    with session_factory.begin() as session:
        session.get(ChatAccount, account).staff_profile_id = wrong
    result = link(session_factory, clock, "29:anna", "U0ANNA")
    assert (result.previous, result.removed_profile) == ("U0WRONG", None)
    with session_factory() as session:
        assert session.get(StaffProfile, wrong) is not None


def refuses(session_factory, error: type[DomainError], key: str, call) -> DomainError:
    before = snapshot(session_factory)
    with pytest.raises(error) as caught:
        call()
    found = next(iter(caught.value.fields.values()))[0] if isinstance(caught.value, InvalidInput) else None
    assert (found or caught.value.key) == key
    assert snapshot(session_factory) == before
    return caught.value


def test_refusals_change_nothing(session_factory, clock):
    add_profile(session_factory, clock, "U0ANNA")
    busy = add_profile(session_factory, clock, "U0BUSY")
    remember(session_factory, clock, user_id="29:anna")
    remember(session_factory, clock, user_id="29:one", email="shared@kirjasto.example")
    remember(session_factory, clock, user_id="29:two", email="SHARED@kirjasto.example")
    moved = remember(session_factory, clock, user_id="29:busy")
    with session_factory.begin() as session:
        session.get(ChatAccount, moved).staff_profile_id = busy
    add_visit(session_factory, clock, visitor="U0BUSY", decided_by="U0BUSY")
    clock.advance(minutes=1)

    missing = refuses(
        session_factory,
        NotFound,
        chat_accounts.NO_ACCOUNT,
        lambda: link(session_factory, clock, "29:nobody", "U0ANNA"),
    )
    assert missing.params["teams_user"] == "29:nobody"
    refuses(
        session_factory,
        NotFound,
        chat_accounts.NO_ACCOUNT,
        lambda: link(session_factory, clock, "no@kirjasto.example", "U0ANNA"),
    )
    refuses(
        session_factory,
        NotFound,
        chat_accounts.NO_PROFILE,
        lambda: link(session_factory, clock, "29:anna", "U0NOBODY"),
    )
    refuses(
        session_factory,
        InvalidInput,
        chat_accounts.SEVERAL_ACCOUNTS,
        lambda: link(session_factory, clock, "shared@kirjasto.example", "U0ANNA"),
    )
    split = refuses(
        session_factory,
        NotAllowed,
        chat_accounts.WOULD_SPLIT,
        lambda: link(session_factory, clock, "29:busy", "U0ANNA"),
    )
    assert split.params == {"teams_user": "29:busy", "other": "U0BUSY", "visits": 1, "decisions": 1}
    theirs = refuses(
        session_factory,
        NotAllowed,
        chat_accounts.NOT_THEIRS,
        lambda: chat_accounts.unlink(
            session_factory, platform="teams", account="29:busy", person="U0ANNA", actor="cli", now=clock()
        ),
    )
    assert theirs.params["other"] == "U0BUSY"
    assert linked_to(session_factory, moved) == "U0BUSY"


@pytest.mark.parametrize("role", ["coordinator", "contact", "visit", "decision"])
def test_a_teams_only_profile_that_is_used_keeps_its_account(session_factory, clock, role):
    add_profile(session_factory, clock, "U0ANNA")
    teams_only = add_profile(session_factory, clock, TEAMS_ONLY)
    account = remember(session_factory, clock, user_id="29:anna")
    with session_factory.begin() as session:
        session.get(ChatAccount, account).staff_profile_id = teams_only
        region = session.scalars(select(Region.id).limit(1)).one()
        library = session.scalars(select(Library.id).limit(1)).one()
        if role == "coordinator":
            session.add(
                Coordinator(slack_user_id=TEAMS_ONLY, region_id=region, added_by="cli", added_at=clock())
            )
        if role == "contact":
            session.add(LibraryContact(library_id=library, slack_user_id=TEAMS_ONLY, added_at=clock()))
    if role == "visit":
        add_visit(session_factory, clock, visitor=TEAMS_ONLY)
    if role == "decision":
        add_visit(session_factory, clock, visitor="U0OTHER", decided_by=TEAMS_ONLY)
    key = chat_accounts.PROFILE_IN_USE if role in ("coordinator", "contact") else chat_accounts.WOULD_SPLIT
    refuses(session_factory, NotAllowed, key, lambda: link(session_factory, clock, "29:anna", "U0ANNA"))
    with session_factory() as session:
        assert session.get(StaffProfile, teams_only) is not None


def test_unlink_says_when_the_automatic_link_will_choose_the_same_profile(session_factory, clock):
    add_profile(session_factory, clock, "U0ANNA", email="anna@kirjasto.example")
    account = remember(session_factory, clock, user_id="29:anna", email="anna@kirjasto.example")
    assert linked_to(session_factory, account) == "U0ANNA"  # linked by the e-mail
    result = chat_accounts.unlink(
        session_factory, platform="teams", account="29:anna", person="U0ANNA", actor="cli", now=clock()
    )
    assert (result.action, result.previous, result.relinks_to) == ("unlinked", "U0ANNA", "U0ANNA")
    again = chat_accounts.unlink(
        session_factory, platform="teams", account="29:anna", actor="cli", now=clock()
    )
    assert again.action == "unchanged"
    assert len(audit_entries(session_factory)) == 1


def test_two_links_at_once_give_one_result(session_factory, clock):
    add_profile(session_factory, clock, "U0ANNA")
    teams_only = add_profile(session_factory, clock, TEAMS_ONLY)
    account = remember(session_factory, clock, user_id="29:anna")
    with session_factory.begin() as session:
        session.get(ChatAccount, account).staff_profile_id = teams_only
    start = threading.Barrier(2)
    results: list[chat_accounts.LinkResult] = []
    errors: list[BaseException] = []

    def run() -> None:
        start.wait()
        try:
            results.append(link(session_factory, clock, "29:anna", "U0ANNA"))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert sorted(r.action for r in results) == ["linked", "unchanged"]
    assert [r.removed_profile for r in results if r.action == "linked"] == [TEAMS_ONLY]
    assert len(audit_entries(session_factory)) == 1
    assert linked_to(session_factory, account) == "U0ANNA"


def cli_database(tmp_path: Path, clock) -> Any:
    """The database `run_bot` uses, migrated and seeded."""
    engine = create_engine_for(f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    upgrade(engine)
    factory = make_session_factory(engine)
    ensure_seeded(factory, now=clock(), region_key="savo")
    return engine, factory


def test_the_link_account_command(tmp_path: Path, clock):
    engine, factory = cli_database(tmp_path, clock)
    add_profile(factory, clock, "U0ANNA")
    busy = add_profile(factory, clock, "U0BUSY")
    chat_accounts.remember(factory, reference(user_id="29:anna", directory_id=None), now=clock())
    chat_accounts.remember(
        factory, reference(user_id="29:busy", directory_id=None, email="busy@kirjasto.example"), now=clock()
    )
    with factory.begin() as session:
        session.scalars(
            select(ChatAccount).where(ChatAccount.user_id == "29:busy")
        ).one().staff_profile_id = busy
    engine.dispose()

    linked = run_bot(tmp_path, "link-account", "29:anna", "U0ANNA")
    assert linked.returncode == 0, linked.stderr
    assert linked.stdout.strip().startswith("linked teams account 29:anna (account #")
    assert linked.stdout.strip().endswith("to U0ANNA")
    assert len(linked.stdout.strip().splitlines()) == 1
    again = run_bot(tmp_path, "link-account", "29:anna", "U0ANNA")
    assert again.returncode == 0 and "already linked to U0ANNA: nothing changed" in again.stdout

    unlinked = run_bot(tmp_path, "link-account", "29:anna", "U0ANNA", "--unlink")
    assert unlinked.returncode == 0, unlinked.stderr
    assert unlinked.stdout.startswith("unlinked teams account 29:anna") and "from U0ANNA" in unlinked.stdout

    missing = run_bot(tmp_path, "link-account", "nobody@kirjasto.example", "U0ANNA")
    assert missing.returncode == 1 and missing.stdout == ""
    assert "No Teams user nobody@kirjasto.example is known" in missing.stderr
    assert "Traceback" not in missing.stderr
    nobody = run_bot(tmp_path, "link-account", "29:anna", "U0NOBODY")
    assert nobody.returncode == 1 and "There is no staff profile U0NOBODY" in nobody.stderr
    moved = run_bot(tmp_path, "link-account", "BUSY@kirjasto.example", "U0ANNA")
    assert moved.returncode == 0, moved.stderr  # a Slack profile with no visits gives it up
    assert "(it was linked to U0BUSY)" in moved.stdout
    bad = run_bot(tmp_path, "link-account", "29:anna", "")
    assert bad.returncode == 2 and "not a Slack user id" in bad.stderr


def test_the_link_account_command_refuses_to_split_a_person(tmp_path: Path, clock):
    engine, factory = cli_database(tmp_path, clock)
    add_profile(factory, clock, "U0ANNA")
    busy = add_profile(factory, clock, "U0BUSY")
    account = chat_accounts.remember(factory, reference(user_id="29:busy", directory_id=None), now=clock())
    with factory.begin() as session:
        session.get(ChatAccount, account).staff_profile_id = busy
    add_visit(factory, clock, visitor="U0BUSY")
    engine.dispose()
    refused = run_bot(tmp_path, "link-account", "29:busy", "U0ANNA")
    assert refused.returncode == 1 and refused.stdout == ""
    assert "already linked to U0BUSY, who has visits or decisions" in refused.stderr
    assert "(visits: 1, decisions: 0)" in refused.stderr and "Nothing was changed." in refused.stderr
    theirs = run_bot(tmp_path, "link-account", "29:busy", "U0ANNA", "--unlink")
    assert theirs.returncode == 1 and "linked to U0BUSY, not to U0ANNA" in theirs.stderr
    engine, factory = cli_database(tmp_path, clock)
    with factory() as session:
        assert session.get(ChatAccount, account).staff_profile_id == busy
    engine.dispose()


def test_an_informaatikko_links_a_teams_user_from_slack(bot, clock):
    """`/vertais raportti linkitä <29:…> <Slack id>`: only a coordinator, answered in their language."""
    from tests.conftest import COORDINATOR

    sf = bot.session_factory
    account = remember(sf, clock, user_id="29:anna")
    add_profile(sf, clock, "U0ANNA")
    refused = bot.slack.command("raportti linkitä 29:anna U0ANNA", user="U0STRANGER")
    assert (
        linked_to(sf, account) is None and "Only coordinators" in refused.said
    )  # (their Slack is in English)
    usage = bot.slack.command("raportti linkitä 29:anna", user=COORDINATOR)
    assert "29:…" in usage.said and linked_to(sf, account) is None
    unknown = bot.slack.command("report link 29:nobody U0ANNA", user=COORDINATOR)
    assert "No Teams user 29:nobody is known" in unknown.said
    done = bot.slack.command("raportti linkitä 29:anna <@U0ANNA>", user=COORDINATOR)
    assert "Linked: the Teams user 29:anna is now <@U0ANNA>" in done.said
    assert linked_to(sf, account) == "U0ANNA"
