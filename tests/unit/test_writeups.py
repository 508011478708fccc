"""Write-ups without Slack: field limits, clean splitting of long texts, search by inflected words,
and `python -m bot export writeups`."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.i18n import translator
from bot.views import limits
from bot.views.writeups import channel_message, inline, split_text
from models import (
    Library,
    Topic,
    Visit,
    VisitStatus,
    WriteUp,
    WriteUpStatus,
    create_engine_for,
    make_session_factory,
)
from services.common.errors import InvalidInput
from services.ideas import idea_search, writeups
from tests.unit.test_cli import run_bot

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def test_validate_names_each_bad_field_with_its_limit() -> None:
    with pytest.raises(InvalidInput) as caught:
        writeups.validate(
            writeups.WriteUpInput(
                title=" ", learned="x" * 3001, tips="y" * 3001, recommend="maybe", link="ftp://x"
            )
        )
    fields = caught.value.fields
    assert fields["title"][0] == "writeups.error.required"
    assert fields["learned"] == ("writeups.error.too_long", {"max": 3000, "count": 3001})
    assert fields["tips"][1]["max"] == 3000
    assert set(fields) == {"title", "learned", "tips", "recommend", "link"}
    clean = writeups.validate(
        writeups.WriteUpInput(title="  Hyvä \n otsikko ", learned="  tarpeeksi pitkä teksti ", recommend="no")
    )
    assert clean.title == "Hyvä otsikko" and clean.learned == "tarpeeksi pitkä teksti"


def test_split_text_cuts_at_boundaries_and_never_inside_an_entity() -> None:
    text = ("<&>" * 2000) + " loppu"
    pieces = split_text(text, 1000)
    assert all(len(p) <= 1000 for p in pieces)
    assert "".join(pieces).replace(" ", "") == (("&lt;&amp;&gt;" * 2000) + "loppu")
    for piece in pieces:
        assert piece.count("&") == piece.count(";")  # every entity whole
    words = " ".join(f"sana{n}" for n in range(1000))
    pieces = split_text(words, 500)
    assert all(not p.startswith(" ") and not p.endswith(" ") for p in pieces)
    assert " ".join(pieces) == words
    assert split_text("") == []


def test_inline_makes_markup_inert() -> None:
    shown = inline("*bold* _it_ ~s~ `c` <!here> <@U123>")
    for bad in ("*", "_", "~", "`", "<!here>", "<@U123>"):
        assert bad not in shown


def test_the_largest_post_fits_slack() -> None:
    view = writeups.WriteUpView(
        id=1,
        visit_id=1,
        author_id="U0VISITOR",
        title="T" * 150,
        learned="<" * 3000,
        try_at_home="&" * 3000,
        tips="ä " * 1500,
        recommend="yes",
        link="https://example.fi/" + "a" * 470,
        publish=True,
        status=WriteUpStatus.PUBLISHED,
        submitted=True,
        hide_reason="",
        home_library="K" * 200,
        host_library="J" * 200,
        host_library_id=1,
        topic_names={"fi": "A" * 200},
        visit_date=date(2026, 11, 20),
        channel="C0IDEAS",
        ts="1.2",
        published_at=NOW,
    )
    for lang in ("fi", "sv", "en"):
        message = channel_message(view, translator(lang))
        limits.check_message(message)


def _publish(
    session_factory: sessionmaker[Session],
    title: str,
    learned: str,
    at: datetime,
    topic_key: str = "reading-dogs",
) -> None:
    with session_factory.begin() as session:
        libraries = list(session.scalars(select(Library).order_by(Library.id).limit(2)))
        topic = session.scalars(select(Topic).where(Topic.key == topic_key)).first()
        assert topic is not None
        visit = Visit(
            visitor_id="U0VISITOR",
            home_library_id=libraries[0].id,
            host_library_id=libraries[1].id,
            topic_id=topic.id,
            length="day",
            travel_mode="car",
            supervisor_id="U0BOSS",
            status=VisitStatus.CONFIRMED,
            chosen_date=date(2026, 11, 20),
            created_at=at,
            updated_at=at,
        )
        session.add(visit)
        session.flush()
        w = WriteUp(
            visit_id=visit.id,
            author_id="U0VISITOR",
            title=title,
            learned=learned,
            recommend="yes",
            status=WriteUpStatus.PUBLISHED,
            submitted_at=at,
            published_at=at,
            created_at=at,
            updated_at=at,
        )
        w.search_terms = writeups._terms(w, topic)
        session.add(w)


def test_search_by_inflected_words_newest_first(session_factory: sessionmaker[Session]) -> None:
    _publish(
        session_factory, "Kirjastoauto kylillä", "Kirjastoautolla kierrettiin kouluja.", NOW, "puppet-theatre"
    )
    _publish(session_factory, "Lukukoira", "Lukukoirat kuuntelevat lapsia.", NOW.replace(hour=11))
    with session_factory() as session:
        assert [w.title for w in idea_search.search(session, "kirjastoautoissa").items] == [
            "Kirjastoauto kylillä"
        ]
        assert [w.title for w in idea_search.search(session, "lukukoirien").items] == ["Lukukoira"]
        assert [w.title for w in idea_search.search(session, "").items] == [
            "Lukukoira",
            "Kirjastoauto kylillä",
        ]
        assert idea_search.search(session, "karaokea").items == []
        both = idea_search.search(session, "lukukoira kirjastoautolla")  # none has both words: either
        assert both.any_word and {w.title for w in both.items} == {"Lukukoira", "Kirjastoauto kylillä"}
        assert not idea_search.search(session, "lukukoira lapsia").any_word  # every word matched
        assert [w.title for w in idea_search.search(session, "lukukoira lapsia").items] == ["Lukukoira"]
        # the topic's names and synonyms are searchable too
        assert [w.title for w in idea_search.search(session, "nukketeatterista").items] == [
            "Kirjastoauto kylillä"
        ]


def test_export_command_writes_markdown_and_html(tmp_path: Path) -> None:
    first = run_bot(tmp_path, "export", "writeups", "--since", "2026-01-01")
    assert first.returncode == 0, first.stderr
    assert "Ei julkaistuja kuvauksia" in first.stdout
    engine = create_engine_for(f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    _publish(make_session_factory(engine), "Lukukoira *ja* <lapset>", "Opin paljon.\n\nToinen kappale.", NOW)
    engine.dispose()
    md = run_bot(tmp_path, "export", "writeups", "--since", "2026-11-01", "--format", "md")
    assert md.returncode == 0, md.stderr
    assert "## Lukukoira \\*ja\\* \\<lapset\\>" in md.stdout and "Toinen kappale." in md.stdout
    out = tmp_path / "ideat.html"
    html = run_bot(
        tmp_path, "export", "writeups", "--since", "2026-11-01", "--format", "html", "--output", str(out)
    )
    assert html.returncode == 0, html.stderr
    text = out.read_text(encoding="utf-8")
    assert "<h2>Lukukoira *ja* &lt;lapset&gt;</h2>" in text and "<p>Toinen kappale.</p>" in text
    later = run_bot(tmp_path, "export", "writeups", "--since", "2026-12-01")
    assert "Lukukoira" not in later.stdout
    bad = run_bot(tmp_path, "export", "writeups", "--since", "eilen")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
