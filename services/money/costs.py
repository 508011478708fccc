"""The cost estimate of a visit: kilometres times the travel year's rate, tickets, accommodation
(the nights of the visit times the price of a night: a two-day visit has one night).

Money is Decimal throughout; rates live in the `kilometre_rates` table (one row a year).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date as date_type
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models import InvoiceStatus, KilometreRate, Library, Region, Visit, VisitCost, VisitStatus
from services.common import audit
from services.common.errors import Conflict, InvalidInput, NotFound
from services.common.money import CENT, parse_amount

if TYPE_CHECKING:
    from services.people.coordinators import Scope

# The rates the migration ships (EUR/km by travel year); used when the table is empty.
SHIPPED_RATES = {2024: Decimal("0.57"), 2025: Decimal("0.59"), 2026: Decimal("0.55")}
DEFAULT_PASSENGER_RATE = Decimal("0.04")  # per passenger carried (the Tax Administration's figure)


# Nights of accommodation by the visit's length.
NIGHTS = {"half_day": 0, "day": 0, "two_days": 1}


def nights_of(length: str) -> int:
    return NIGHTS.get(length, 0)


@dataclass(frozen=True)
class CostEstimate:
    """What a visit costs. Travellers share one car: the kilometre allowance is paid once, to the
    driver, with the passenger supplement for each passenger carried when the region pays it;
    tickets and accommodation are per traveller (`tickets` and `accommodation` are in all)."""

    km: Decimal
    rate: Decimal
    kilometre_allowance: Decimal
    tickets: Decimal  # in all: travellers x the price of a ticket
    accommodation: Decimal  # in all: travellers x nights x the price of a night
    nights: int = 0
    travellers: int = 1
    passengers: int = 0  # carried by the driver (0 unless by car and the region pays)
    passenger_rate: Decimal = Decimal("0")  # EUR/km for each passenger

    @property
    def night_price(self) -> Decimal:
        """The price of one night for one traveller (the accommodation in all, when no nights)."""
        count = self.nights * self.travellers
        return (self.accommodation / count).quantize(CENT) if count else self.accommodation

    @property
    def ticket_price(self) -> Decimal:
        return (self.tickets / self.travellers).quantize(CENT) if self.travellers else self.tickets

    @property
    def per_traveller(self) -> Decimal:
        """The total shared by the travellers (rounded to the cent)."""
        return (
            (self.total / self.travellers).quantize(CENT, rounding=ROUND_HALF_UP)
            if self.travellers
            else self.total
        )

    @property
    def total(self) -> Decimal:
        return self.kilometre_allowance + self.tickets + self.accommodation


def rate_for(session: Session, year: int) -> Decimal:
    """The rate of `year`, else the latest earlier year's, else the earliest known (from the
    `kilometre_rates` table, or the shipped rates if the table is empty)."""
    if session.scalar(select(KilometreRate.year).limit(1)) is None:
        return _pick(SHIPPED_RATES, year)
    rate = session.scalar(
        select(KilometreRate.eur_per_km)
        .where(KilometreRate.year <= year)
        .order_by(KilometreRate.year.desc())
        .limit(1)
    )
    if rate is None:
        rate = session.scalar(select(KilometreRate.eur_per_km).order_by(KilometreRate.year).limit(1))
    return Decimal(rate) if rate is not None else Decimal("0")


def _pick(rates: dict[int, Decimal], year: int) -> Decimal:
    earlier = [y for y in rates if y <= year]
    return rates[max(earlier)] if earlier else rates[min(rates)]


def estimate(
    km: Decimal,
    rate: Decimal,
    tickets: Decimal,
    accommodation: Decimal,
    nights: int = 0,
    *,
    travellers: int = 1,
    passengers: int = 0,
    passenger_rate: Decimal = Decimal("0"),
) -> CostEstimate:
    """`tickets` and `accommodation` are one traveller's (the accommodation for all nights)."""
    per_km = Decimal(rate) + passengers * Decimal(passenger_rate)
    allowance = (Decimal(km) * per_km).quantize(CENT, rounding=ROUND_HALF_UP)
    return CostEstimate(
        km=Decimal(km),
        rate=Decimal(rate),
        kilometre_allowance=allowance,
        tickets=(Decimal(tickets) * travellers).quantize(CENT),
        accommodation=(Decimal(accommodation) * travellers).quantize(CENT),
        nights=nights,
        travellers=travellers,
        passengers=passengers,
        passenger_rate=Decimal(passenger_rate) if passengers else Decimal("0"),
    )


def passenger_rate_for(session: Session, year: int) -> Decimal:
    """The passenger supplement of `year` (EUR/km per passenger), as `rate_for` finds its row."""
    found = session.scalar(
        select(KilometreRate.passenger_eur_per_km)
        .where(KilometreRate.year <= year)
        .order_by(KilometreRate.year.desc())
        .limit(1)
    )
    return Decimal(found) if found is not None else DEFAULT_PASSENGER_RATE


# --- The coordinator's desk: the rate table, distances, actual costs, tickets ------------------
MAX_RATE = Decimal("2")
MAX_ACTUAL_KM = Decimal("3000")
MAX_TICKETS = Decimal("3000")
MAX_ACCOMMODATION = Decimal("3000")
# Straight-line distance understates the road: a round trip is estimated as 2 x 1.2 x the
# great-circle distance between the two libraries, in whole kilometres.
ROAD_FACTOR = Decimal("1.2")


def rates(session: Session) -> dict[int, Decimal]:
    """The rate table as the coordinators keep it (the shipped rates if it is empty)."""
    rows = {y: Decimal(r) for y, r in session.execute(select(KilometreRate.year, KilometreRate.eur_per_km))}
    return dict(sorted((rows or SHIPPED_RATES).items()))


def rate_on(session: Session, day: date_type) -> Decimal:
    """The rate of a travel date: the rate of that date's year."""
    return rate_for(session, day.year)


def estimated_round_trip_km(a: Library, b: Library) -> Decimal:
    from services.catalogue.libraries import distance_km

    one_way = Decimal(str(round(distance_km(a, b), 3)))
    return (2 * ROAD_FACTOR * one_way).quantize(Decimal("1"), rounding=ROUND_HALF_UP)


def km_of(session: Session, visit: Visit) -> Decimal:
    """The visitor's kilometres, or for a car trip without them the distance between the libraries."""
    km = Decimal(visit.estimated_km or 0)
    if km > 0 or visit.travel_mode != "car":
        return km
    home = session.get(Library, visit.home_library_id)
    host = session.get(Library, visit.host_library_id)
    if home is None or host is None:
        return km
    return estimated_round_trip_km(home, host)


def set_rate(
    session_factory: sessionmaker[Session],
    *,
    actor: str,
    is_coordinator: bool,
    year_text: str,
    rate_text: str,
    now: datetime,
) -> dict[int, Decimal]:
    """A coordinator sets (or changes) the kilometre rate of a year; returns the whole table."""
    from services.people.coordinators import require

    require(is_coordinator)
    errors: dict[str, tuple[str, dict[str, object]]] = {}
    year = int(year_text) if year_text.strip().isdigit() else None
    if year is None or not 2020 <= year <= 2100:
        errors["year"] = ("desk.error.year", {"low": 2020, "high": 2100})
    rate = parse_amount(rate_text, maximum=MAX_RATE) if rate_text.strip() else None
    if rate is None or rate <= 0:
        errors["rate"] = ("desk.error.rate", {"max": "2,00"})
    if errors:
        raise InvalidInput(errors)
    assert year is not None and rate is not None
    rate = rate.quantize(Decimal("0.001"))
    with session_factory.begin() as session:
        if session.scalar(select(KilometreRate.year).limit(1)) is None:
            # The first edit: keep the shipped years the table was standing in for.
            session.add_all(KilometreRate(year=y, eur_per_km=r) for y, r in SHIPPED_RATES.items())
            session.flush()
        row = session.get(KilometreRate, year)
        old = str(row.eur_per_km) if row is not None else None
        if row is None:
            session.add(KilometreRate(year=year, eur_per_km=rate))
        else:
            row.eur_per_km = rate
        audit.record(
            session,
            now=now,
            actor=actor,
            action="rate.set",
            entity="kilometre_rate",
            entity_id=year,
            details={"rate": str(rate), "old": old},
        )
        session.flush()
        return rates(session)


def set_passenger_supplement(
    session_factory: sessionmaker[Session],
    *,
    actor: str,
    is_coordinator: bool,
    region_id: int,
    pays: bool,
    now: datetime,
) -> bool:
    """A coordinator says whether the region's grant pays the passenger supplement (per passenger
    the driver carries, on top of the kilometre rate); True if that changed anything."""
    from services.people.coordinators import require

    require(is_coordinator)
    with session_factory.begin() as session:
        region = session.get(Region, region_id)
        if region is None or region.pays_passenger_supplement == pays:
            return False
        region.pays_passenger_supplement = pays
        audit.record(
            session,
            now=now,
            actor=actor,
            action="region.passenger_supplement",
            entity="region",
            entity_id=region_id,
            details={"pays": pays},
        )
    return True


def pays_passenger_supplement(session: Session, region_id: int | None) -> bool:
    region = session.get(Region, region_id) if region_id is not None else None
    return bool(region and region.pays_passenger_supplement)


def cost_row(session: Session, visit_id: int) -> VisitCost:
    row = session.get(VisitCost, visit_id)
    if row is None:
        row = VisitCost(visit_id=visit_id, invoice_status=InvoiceStatus.NOT_NEEDED)
        session.add(row)
    return row


@dataclass(frozen=True)
class Actuals(CostEstimate):
    """What a visit really cost, as a coordinator recorded it (same parts as the estimate)."""

    visit_id: int = 0


def record_actuals(
    session_factory: sessionmaker[Session],
    visit_id: int,
    *,
    actor: str,
    is_coordinator: bool | Scope,
    km_text: str,
    tickets_text: str,
    accommodation_text: str,
    now: datetime,
) -> Actuals:
    """After the visit a coordinator records what it really cost; the visit is then settled
    (its estimate leaves `committed`, the actuals count as `spent`). Recording again corrects."""
    from services.people.coordinators import require

    require(is_coordinator)
    km = parse_amount(km_text, maximum=MAX_ACTUAL_KM)
    tickets = parse_amount(tickets_text, maximum=MAX_TICKETS)
    accommodation = parse_amount(accommodation_text, maximum=MAX_ACCOMMODATION)
    errors: dict[str, tuple[str, dict[str, object]]] = {}
    if km is None:
        errors["km"] = ("desk.error.km", {"max": MAX_ACTUAL_KM})
    if tickets is None:
        errors["tickets"] = ("desk.error.amount", {"max": MAX_TICKETS})
    if accommodation is None:
        errors["accommodation"] = ("desk.error.amount", {"max": MAX_ACCOMMODATION})
    if errors:
        raise InvalidInput(errors)
    assert km is not None and tickets is not None and accommodation is not None
    with session_factory.begin() as session:
        visit = session.get(Visit, visit_id, with_for_update=True)
        if visit is None:
            raise NotFound()
        _require_region(session, visit, is_coordinator)
        if visit.status not in (VisitStatus.CONFIRMED, VisitStatus.CANCELLED):
            raise Conflict("desk.error.not_confirmed")
        from services.money.budget import visit_day

        day = visit_day(visit)
        rate = rate_on(session, day)
        # one car: the driver's allowance carries the passenger supplement as the estimate did
        going = sum(1 for t in visit.travellers if t.withdrawn_at is None) or 1
        home = session.get(Library, visit.home_library_id)
        carried = visit.travel_mode == "car" and pays_passenger_supplement(
            session, home.region_id if home else None
        )
        passengers = going - 1 if carried else 0
        supplement = passenger_rate_for(session, day.year) if passengers else Decimal("0")
        result = estimate(
            km.quantize(Decimal("0.1")),
            rate,
            tickets,
            accommodation,
            passengers=passengers,
            passenger_rate=supplement,
        )
        row = cost_row(session, visit_id)
        row.actual_km = result.km
        row.actual_km_allowance = result.kilometre_allowance
        row.actual_tickets = result.tickets
        row.actual_accommodation = result.accommodation
        row.settled_by, row.settled_at = actor, now
        audit.record(
            session,
            now=now,
            actor=actor,
            action="visit.costs_recorded",
            entity="visit",
            entity_id=visit_id,
            details={
                "km": str(result.km),
                "kilometre_allowance": str(result.kilometre_allowance),
                "tickets": str(result.tickets),
                "accommodation": str(result.accommodation),
            },
        )
        return Actuals(
            km=result.km,
            rate=rate,
            kilometre_allowance=result.kilometre_allowance,
            tickets=result.tickets,
            accommodation=result.accommodation,
            visit_id=visit_id,
        )


def _require_region(session: Session, visit: Visit, is_coordinator: bool | Scope) -> None:
    """The desk's acts on a visit are for the coordinators of its region."""
    from services.people.coordinators import require_region

    home = session.get(Library, visit.home_library_id)
    require_region(is_coordinator, home.region_id if home else None)


def tickets_bought(
    session_factory: sessionmaker[Session],
    visit_id: int,
    *,
    actor: str,
    is_coordinator: bool | Scope,
    now: datetime,
) -> tuple[bool, str | None]:
    """A coordinator of the visit's region bought the tickets of a confirmed visit. Returns
    (changed, who bought them)."""
    from services.people.coordinators import require

    require(is_coordinator)
    with session_factory.begin() as session:
        visit = session.get(Visit, visit_id, with_for_update=True)
        if visit is None:
            raise NotFound()
        _require_region(session, visit, is_coordinator)
        if visit.status != VisitStatus.CONFIRMED:
            raise Conflict("desk.error.not_confirmed")
        row = cost_row(session, visit_id)
        if row.tickets_bought_at is not None:
            return False, row.tickets_bought_by
        row.tickets_bought_by, row.tickets_bought_at = actor, now
        audit.record(
            session, now=now, actor=actor, action="visit.tickets_bought", entity="visit", entity_id=visit_id
        )
        return True, actor
