"""The Teams conversation reference: stored at the first message (and at install), refreshed, linked
to the staff profile with the same Entra object id or e-mail; migration 0011 up and down."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from alembic import command
from sqlalchemy import inspect, select

from models import ChatAccount, StaffProfile, create_engine_for
from models.migrate import alembic_config, upgrade
from services.people import chat_accounts
from services.people.chat_accounts import ChatReference


def reference(**overrides: str | None) -> ChatReference:
    values: dict[str, str | None] = {
        "platform": "teams",
        "user_id": "29:abc",
        "conversation_id": "a:conv-1",
        "service_url": "https://smba.trafficmanager.net/emea/",
        "directory_id": "aad-1",
        "tenant_id": "tenant-1",
        "display_name": "Anna Esimerkki",
    }
    values.update(overrides)
    return ChatReference(**values)  # type: ignore[arg-type]


def add_profile(session_factory, clock, slack_id: str, **identity: str) -> int:
    with session_factory.begin() as session:
        profile = StaffProfile(slack_user_id=slack_id, created_at=clock(), updated_at=clock(), **identity)
        session.add(profile)
        session.flush()
        return profile.id


def test_a_reference_is_stored_once_and_refreshed(session_factory, clock):
    first = chat_accounts.remember(session_factory, reference(), now=clock())
    clock.advance(days=1)
    again = chat_accounts.remember(
        session_factory,
        reference(service_url="https://smba.trafficmanager.net/emea2/", directory_id=None),
        now=clock(),
    )
    assert first == again
    with session_factory() as session:
        (account,) = session.scalars(select(ChatAccount)).all()
    assert account.service_url == "https://smba.trafficmanager.net/emea2/"
    assert account.directory_id == "aad-1"  # a later activity without it keeps what was known
    assert account.updated_at - account.created_at == timedelta(days=1)


def test_an_account_is_linked_by_entra_object_id_else_by_email(session_factory, clock):
    by_directory = add_profile(session_factory, clock, "U0AAD", directory_id="aad-1")
    by_email = add_profile(session_factory, clock, "U0MAIL", email="Bea@Kirjasto.example")
    chat_accounts.remember(session_factory, reference(), now=clock())
    chat_accounts.remember(
        session_factory,
        reference(user_id="29:bea", directory_id="aad-2", email="bea@kirjasto.example"),
        now=clock(),
    )
    chat_accounts.remember(session_factory, reference(user_id="29:nobody", directory_id="aad-3"), now=clock())
    with session_factory() as session:
        links = {
            row.user_id: row.staff_profile_id
            for row in session.execute(select(ChatAccount.user_id, ChatAccount.staff_profile_id))
        }
    assert links == {"29:abc": by_directory, "29:bea": by_email, "29:nobody": None}


def test_two_profiles_with_the_same_email_link_neither(session_factory, clock):
    add_profile(session_factory, clock, "U0ONE", email="same@kirjasto.example")
    add_profile(session_factory, clock, "U0TWO", email="same@kirjasto.example")
    chat_accounts.remember(
        session_factory, reference(directory_id=None, email="same@kirjasto.example"), now=clock()
    )
    with session_factory() as session:
        assert session.scalars(select(ChatAccount.staff_profile_id)).one() is None


def test_migration_0011_goes_up_and_down_on_sqlite(tmp_path: Path):
    engine = create_engine_for(f"sqlite:///{tmp_path / 'm.sqlite3'}")
    upgrade(engine)
    assert "chat_accounts" in inspect(engine).get_table_names()
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0010")
    tables = inspect(engine)
    assert "chat_accounts" not in tables.get_table_names()
    assert {"email", "directory_id"}.isdisjoint(
        {column["name"] for column in tables.get_columns("staff_profiles")}
    )
    upgrade(engine)
    assert "chat_accounts" in inspect(engine).get_table_names()
    engine.dispose()
