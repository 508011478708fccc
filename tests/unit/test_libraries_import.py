"""Loading libraries from CSV: idempotent by key, bad rows reported by line, good rows still load."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from models import AuditEntry, Library, Region
from services.catalogue.libraries import distance_km, import_libraries

HEADER = "key,name,municipality,region,lat,lon\n"


def test_shipped_region_is_loaded_on_first_start(session_factory) -> None:
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Library)) == 32
        region = session.scalar(select(Region).where(Region.key == "savo"))
        assert region is not None and len(region.libraries) == 32


def test_import_adds_changes_and_rejects_by_line(session_factory, clock) -> None:
    text = (
        HEADER
        + "kuopio-paakirjasto,Kuopion pääkirjasto,Kuopio,Pohjois-Savo,62.8924,27.6770\n"  # unchanged
        + "iisalmi,Iisalmen kaupunginkirjasto,Iisalmi,Pohjois-Savo,63.5590,27.1906\n"  # renamed
        + "uusi-kirjasto,Uusi kirjasto,Kuopio,Pohjois-Savo,62.9,27.7\n"  # new
        + "Bad Key,Huono,Kuopio,Pohjois-Savo,62.9,27.7\n"  # line 5
        + "no-coords,Ei koordinaatteja,Kuopio,Pohjois-Savo,north,east\n"  # line 6
        + "far-away,Kaukana,Kuopio,Pohjois-Savo,162.9,27.7\n"  # line 7
        + "uusi-kirjasto,Toinen kerta,Kuopio,Pohjois-Savo,62.9,27.7\n"  # line 8: repeats line 4
        + ",Tyhjä avain,Kuopio,Pohjois-Savo,62.9,27.7\n"  # line 9
    )
    with session_factory.begin() as session:
        report = import_libraries(session, text, region_key="savo", now=clock(), actor="test")
    assert report.added == ["uusi-kirjasto"]
    assert report.changed == ["iisalmi"]
    assert "kuopio-paakirjasto" in report.unchanged
    assert [line for line, _ in report.rejected] == [5, 6, 7, 8, 9]
    assert "repeats line 4" in report.rejected[3][1]
    with session_factory() as session:
        iisalmi = session.scalar(select(Library).where(Library.key == "iisalmi"))
        assert iisalmi is not None and iisalmi.name == "Iisalmen kaupunginkirjasto"
        assert session.scalar(select(func.count()).select_from(Library)) == 33
        assert (
            session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.actor == "test"))
            == 1
        )

    with session_factory.begin() as session:
        again = import_libraries(session, text, region_key="savo", now=clock(), actor="test")
    assert again.added == [] and again.changed == []
    with session_factory() as session:
        assert (
            session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.actor == "test"))
            == 1
        )


def test_second_region_is_kept_apart(session_factory, clock, repo_root: Path) -> None:
    text = (
        HEADER
        + "joensuu,Joensuun pääkirjasto,Joensuu,Pohjois-Karjala,62.6010,29.7636\n"
        + "ilomantsi,Ilomantsin kirjasto,Ilomantsi,Pohjois-Karjala,62.6722,30.9306\n"
    )
    with session_factory.begin() as session:
        report = import_libraries(session, text, region_key="pohjois-karjala", now=clock())
    assert report.added == ["joensuu", "ilomantsi"]
    with session_factory() as session:
        region = session.scalar(select(Region).where(Region.key == "pohjois-karjala"))
        assert region is not None and {lib.key for lib in region.libraries} == {"joensuu", "ilomantsi"}
        assert "Joensuu" in region.name


def test_missing_columns_reject_the_file(session_factory, clock) -> None:
    with session_factory.begin() as session:
        report = import_libraries(session, "key,name\nx,y\n", region_key="savo", now=clock())
    assert report.rejected == [(1, "missing column(s): municipality, region, lat, lon")]


def test_distance_between_kuopio_and_iisalmi_is_about_80_km(session_factory) -> None:
    with session_factory() as session:
        kuopio = session.scalar(select(Library).where(Library.key == "kuopio-paakirjasto"))
        iisalmi = session.scalar(select(Library).where(Library.key == "iisalmi"))
        assert kuopio and iisalmi
        assert 70 < distance_km(kuopio, iisalmi) < 80
        assert distance_km(kuopio, kuopio) == 0


def test_semicolons_short_rows_and_rows_of_another_region(session_factory, clock) -> None:
    text = (
        "key;name;municipality;region;lat;lon\n"
        + "uusi-kirjasto;Uusi kirjasto;Kuopio;Pohjois-Savo;62,9;27,7\n"  # decimal commas
        + "lyhyt;Lyhyt rivi;Kuopio\n"  # line 3: too short
        + "joensuu;Joensuun pääkirjasto;Joensuu;Pohjois-Karjala;62.6010;29.7636\n"  # line 4
        + "mikkeli-uusi;Mikkelin uusi;Mikkeli;Etelä-Savo;61.69;27.27\n"
    )
    with session_factory.begin() as session:
        report = import_libraries(session, text, region_key="savo", now=clock(), actor="test")
    assert report.added == ["uusi-kirjasto", "mikkeli-uusi"]
    assert [line for line, _ in report.rejected] == [3, 4]
    assert report.rejected[0][1] == "too short: 3 field(s), expected 6"
    assert "Pohjois-Karjala" in report.rejected[1][1] and "savo" in report.rejected[1][1]
    with session_factory() as session:
        assert session.scalar(select(Library).where(Library.key == "joensuu")) is None
        new = session.scalar(select(Library).where(Library.key == "uusi-kirjasto"))
        assert new is not None and (new.lat, new.lon) == (62.9, 27.7)
