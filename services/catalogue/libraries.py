"""Libraries and regions: import from CSV, look-ups for pickers, distances."""

from __future__ import annotations

import csv
import io
import math
import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from models import ClosedPeriod, Library, LibraryContact, Region, Visit
from services.common import audit

REQUIRED_COLUMNS = ("key", "name", "municipality", "region", "lat", "lon")
KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
EARTH_RADIUS_KM = 6371.0

# The regional development tasks we know by key: their names, and the provinces (maakunnat) whose
# libraries they serve (the `region` column of a libraries CSV names the province). A region not
# listed here is named after its key and serves the provinces its libraries are in.
KNOWN_REGIONS = {
    "savo": "Savon alueellinen kehittämistehtävä (Kuopio)",
    "pohjois-karjala": "Pohjois-Karjalan alueellinen kehittämistehtävä (Joensuu)",
}
KNOWN_PROVINCES = {
    "savo": ("Pohjois-Savo", "Etelä-Savo"),
    "pohjois-karjala": ("Pohjois-Karjala",),
}


@dataclass(frozen=True)
class LibraryRow:
    key: str
    name: str
    municipality: str
    province: str
    lat: float
    lon: float


@dataclass
class ImportReport:
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    rejected: list[tuple[int, str]] = field(default_factory=list)

    def summary(self) -> str:
        lines = [
            f"added {len(self.added)}, changed {len(self.changed)}, "
            f"unchanged {len(self.unchanged)}, rejected {len(self.rejected)}"
        ]
        lines += [f"  added: {key}" for key in self.added]
        lines += [f"  changed: {key}" for key in self.changed]
        lines += [f"  rejected line {line}: {reason}" for line, reason in self.rejected]
        return "\n".join(lines)


def parse_rows(text: str) -> tuple[list[tuple[int, LibraryRow]], list[tuple[int, str]]]:
    """Parse a libraries CSV, `,`- or `;`-separated (what Finnish Excel saves). Returns the good
    rows with their line numbers, and the bad ones."""
    text = text.lstrip("\ufeff")
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    header = [name.strip() for name in reader.fieldnames or []]
    reader.fieldnames = header
    missing = [column for column in REQUIRED_COLUMNS if column not in header]
    if missing:
        return [], [(1, f"missing column(s): {', '.join(missing)}")]
    good: list[tuple[int, LibraryRow]] = []
    bad: list[tuple[int, str]] = []
    seen: dict[str, int] = {}
    for record in reader:
        line = reader.line_num
        try:
            row = _parse_row(record, len(header))
        except ValueError as exc:
            bad.append((line, str(exc)))
            continue
        if row.key in seen:
            bad.append((line, f"key {row.key!r} repeats line {seen[row.key]}"))
            continue
        seen[row.key] = line
        good.append((line, row))
    return good, bad


def _parse_row(record: dict[str, str | None], width: int) -> LibraryRow:
    if None in record:
        raise ValueError(f"too many fields (expected {width})")
    if any(record.get(column) is None for column in REQUIRED_COLUMNS):
        given = sum(1 for value in record.values() if value is not None)
        raise ValueError(f"too short: {given} field(s), expected {width}")
    values = {column: (record.get(column) or "").strip() for column in REQUIRED_COLUMNS}
    for column in ("key", "name", "municipality", "region"):
        if not values[column]:
            raise ValueError(f"empty {column}")
    if not KEY_PATTERN.match(values["key"]):
        raise ValueError(f"key {values['key']!r} must be lower-case letters, digits and dashes")
    if len(values["name"]) > 200 or len(values["municipality"]) > 100 or len(values["region"]) > 100:
        raise ValueError("a name is too long")
    try:
        lat = float(values["lat"].replace(",", "."))  # a decimal comma, as Finnish Excel writes it
        lon = float(values["lon"].replace(",", "."))
    except ValueError:
        raise ValueError(f"lat/lon must be numbers, got {values['lat']!r}, {values['lon']!r}") from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or math.isnan(lat) or math.isnan(lon):
        raise ValueError(f"lat/lon out of range: {lat}, {lon}")
    return LibraryRow(values["key"], values["name"], values["municipality"], values["region"], lat, lon)


def provinces_of(session: Session, region: Region, rows: list[LibraryRow]) -> set[str]:
    """The provinces whose libraries `region` serves: the known ones, else those its libraries are
    in; a new region that is not known takes those of the file that creates it."""
    if region.key in KNOWN_PROVINCES:
        return set(KNOWN_PROVINCES[region.key])
    found = set(session.scalars(select(Library.province).where(Library.region_id == region.id).distinct()))
    return found or {row.province for row in rows}


def region_of(session: Session, visit: Visit) -> int:
    """A visit's region: its visitor's home library's (visits are within one region)."""
    home = session.get(Library, visit.home_library_id)
    assert home is not None
    return home.region_id


def ensure_region(session: Session, key: str, name: str | None = None) -> Region:
    region = session.scalar(select(Region).where(Region.key == key))
    if region is None:
        region = Region(key=key, name=name or KNOWN_REGIONS.get(key, key))
        session.add(region)
        session.flush()
    return region


def import_libraries(
    session: Session, text: str, *, region_key: str, now: datetime, actor: str = "system"
) -> ImportReport:
    """Load or update libraries by key. Bad rows are reported by line; good rows still load."""
    report = ImportReport()
    good, bad = parse_rows(text)
    report.rejected.extend(bad)
    region = ensure_region(session, region_key)
    serves = provinces_of(session, region, [row for _, row in good])
    wrong = [(line, row) for line, row in good if row.province not in serves]
    report.rejected.extend(
        (line, f"region {row.province!r} is not one of {region_key!r}'s ({', '.join(sorted(serves))})")
        for line, row in wrong
    )
    report.rejected.sort()
    good = [(line, row) for line, row in good if row.province in serves]
    existing = {
        library.key: library
        for library in session.scalars(select(Library).where(Library.key.in_([row.key for _, row in good])))
    }
    for _line, row in good:
        library = existing.get(row.key)
        if library is None:
            session.add(
                Library(
                    key=row.key,
                    name=row.name,
                    municipality=row.municipality,
                    province=row.province,
                    lat=row.lat,
                    lon=row.lon,
                    region=region,
                )
            )
            report.added.append(row.key)
            continue
        new_values = {
            "name": row.name,
            "municipality": row.municipality,
            "province": row.province,
            "lat": row.lat,
            "lon": row.lon,
            "region_id": region.id,
        }
        if any(getattr(library, attr) != value for attr, value in new_values.items()):
            for attr, value in new_values.items():
                setattr(library, attr, value)
            report.changed.append(row.key)
        else:
            report.unchanged.append(row.key)
    if report.added or report.changed:
        audit.record(
            session,
            now=now,
            actor=actor,
            action="libraries.import",
            entity="region",
            entity_id=region.key,
            details={"added": report.added, "changed": report.changed, "rejected": len(report.rejected)},
        )
    session.flush()
    return report


@dataclass(frozen=True)
class LibraryName:
    """What a library picker shows: the id, name and municipality (no ORM object to build)."""

    id: int
    name: str
    municipality: str


def search_libraries(
    session: Session, query: str, *, region_id: int | None = None, limit: int = 100
) -> Sequence[LibraryName]:
    """Libraries whose name or municipality contains every word of `query` (case-insensitive),
    those whose name starts with the query first."""
    words = _query_words(query)
    stmt = select(Library.id, Library.name, Library.municipality)
    for word in words:
        pattern = f"%{_escape_like(word)}%"
        stmt = stmt.where(
            or_(
                func.lower(Library.name).like(pattern, escape="\\"),
                func.lower(Library.municipality).like(pattern, escape="\\"),
            )
        )
    if region_id is not None:
        stmt = stmt.where(Library.region_id == region_id)
    rows = session.execute(stmt.order_by(Library.name).limit(max(limit * 3, limit)))
    return _best_first([LibraryName(row.id, row.name, row.municipality) for row in rows], words)[:limit]


def _query_words(query: str) -> list[str]:
    return [word for word in re.split(r"\s+", query.strip().lower()) if word][:8]


def _best_first(found: list[LibraryName], words: list[str]) -> list[LibraryName]:
    first = words[0] if words else ""
    return sorted(found, key=lambda lib: (not lib.name.lower().startswith(first), lib.name.lower()))


class LibraryNames:
    """Every library's id, name and municipality in memory, for the pickers' typeahead.

    A picker asks again on every key press; reading the table for each cost more than the rest
    of the request. Libraries change only by import, so the list is read again after `ttl`.
    """

    def __init__(self, session_factory: sessionmaker[Session], ttl: float = 60.0) -> None:
        self.session_factory = session_factory
        self.ttl = ttl
        self._rows: list[tuple[LibraryName, str, str, int]] = []
        self._by_id: dict[int, LibraryName] = {}
        self._expires = 0.0
        self._lock = threading.Lock()

    def _current(self) -> list[tuple[LibraryName, str, str, int]]:
        with self._lock:
            if time.monotonic() >= self._expires:
                with self.session_factory() as session:
                    rows = session.execute(
                        select(Library.id, Library.name, Library.municipality, Library.region_id)
                    ).all()
                self._rows = [
                    (
                        LibraryName(r.id, r.name, r.municipality),
                        r.name.lower(),
                        r.municipality.lower(),
                        r.region_id,
                    )
                    for r in rows
                ]
                self._by_id = {entry[0].id: entry[0] for entry in self._rows}
                self._expires = time.monotonic() + self.ttl
            return self._rows

    def forget(self) -> None:
        with self._lock:
            self._expires = 0.0

    def get(self, library_id: int) -> LibraryName | None:
        self._current()
        return self._by_id.get(library_id)

    def search(
        self,
        query: str,
        *,
        region_id: int | None = None,
        limit: int = 100,
        where: Callable[[int, int], bool] | None = None,
    ) -> list[LibraryName]:
        """The same answer as `search_libraries`, from memory; `where(library id, region id)`, if
        given, says which libraries may be in it."""
        words = _query_words(query)
        found = [
            library
            for library, name, municipality, region in self._current()
            if (region_id is None or region == region_id)
            and (where is None or where(library.id, region))
            and all(word in name or word in municipality for word in words)
        ]
        return _best_first(found, words)[:limit]


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def distance_km(a: Library, b: Library) -> float:
    """Great-circle distance between two libraries (haversine), in kilometres."""
    lat1, lon1, lat2, lon2 = map(math.radians, (a.lat, a.lon, b.lat, b.lon))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def libraries_by_ids(session: Session, ids: Iterable[int]) -> dict[int, Library]:
    ids = list(ids)
    if not ids:
        return {}
    return {library.id: library for library in session.scalars(select(Library).where(Library.id.in_(ids)))}


def contacts_of(session: Session, library_id: int) -> list[str]:
    """Slack user ids of the people who answer for a library as a host."""
    return list(
        session.scalars(
            select(LibraryContact.slack_user_id)
            .where(LibraryContact.library_id == library_id)
            .order_by(LibraryContact.id)
        )
    )


def is_contact(session: Session, library_id: int, user_id: str) -> bool:
    return (
        session.scalar(
            select(LibraryContact.id).where(
                LibraryContact.library_id == library_id, LibraryContact.slack_user_id == user_id
            )
        )
        is not None
    )


def closed_period_on(session: Session, library_id: int, day: date) -> ClosedPeriod | None:
    """The no-visitors period of a library that covers `day`, if any."""
    return session.scalar(
        select(ClosedPeriod)
        .where(
            ClosedPeriod.library_id == library_id, ClosedPeriod.starts_on <= day, ClosedPeriod.ends_on >= day
        )
        .limit(1)
    )
