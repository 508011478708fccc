"""The visit lists of App Home and `omat`: what waits for my decision (the first ones with their
buttons right there), my visits page by page, and the parts (trips I join, visits to my library,
my staff's). Pure: (data, t) -> blocks. Split from bot/views/visit.py, the visit's own message."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bot import ids
from bot.i18n import Translator
from bot.views import blocks as b
from bot.views.formatting import day_text
from bot.views.visit import HOME, decision_blocks
from models import PartyState, VisitStatus
from services.visits.visit_card import VisitCard
from services.visits.visit_lists import Page, VisitLine


def next_step(line: VisitLine, t: Translator) -> str:
    if line.status == VisitStatus.PROPOSED:
        if line.host_state == PartyState.COUNTERED:
            return t("visits.next.pick")
        if line.host_state == PartyState.LAPSED:
            return t("visits.next.redate")
        waiting = [
            t(f"visits.next.party.{party}")
            for party, state in (
                ("supervisor", line.supervisor_state),
                ("host", line.host_state),
                ("funding", line.funding_state),
            )
            if state == PartyState.PENDING
        ]
        if not waiting:  # a study trip: its further stops have yet to answer
            return t("visits.next.stops")
        return t("visits.next.waiting", parties=", ".join(waiting))
    if line.status == VisitStatus.CONFIRMED:
        return t("visits.next.confirmed", date=day_text(line.chosen_date, t))
    if line.status == VisitStatus.DECLINED:
        return t("visits.next.declined")
    return t("visits.next.cancelled")


def line_head(line: VisitLine, t: Translator) -> str:
    """A list row's first line: topic, host library, date, status."""
    return t(
        "visits.line",
        topic=b.escape(line.topic(t.lang)),
        host=b.escape(line.host_library_name),
        date=day_text(line.chosen_date or line.first_date, t),
        status=t(f"visits.status.{line.status.value}"),
    )


def line_text(line: VisitLine, t: Translator, *, mine: bool) -> str:
    head = line_head(line, t)
    if mine:
        return f"{head}\n{next_step(line, t)}"
    return f"{head}\n{t(f'visits.waiting_as.{line.waiting_as}', visitor=f'<@{line.visitor_id}>')}"


def visit_list_blocks(
    waiting: Page,
    mine: Page,
    t: Translator,
    *,
    page_action: str,
    parts: Sequence[tuple[str, Page]] = (),
    owed: Mapping[int, VisitCard] | None = None,
    reader: str = "",
) -> list[b.Block]:
    """'Waiting for my decision' (the visits in `owed` with their buttons right there), 'my
    visits' (one page, newest first), then each of `parts` that has visits: (title key, page),
    such as the visits to my library and my staff's. At most 27 blocks, and 7 for each part,
    and two more for each visit in `owed`."""
    blocks: list[b.Block] = [b.header(t("visits.list.waiting"))]
    if waiting.lines:
        for line in waiting.lines[:10]:
            blocks.append(b.section(line_text(line, t, mine=False)))
            card = (owed or {}).get(line.id)
            if card is not None:
                blocks += decision_blocks(card, line.waiting_as, t, reader=reader, suffix=HOME)[:2]
        if waiting.total > len(waiting.lines):
            blocks.append(b.context(t("visits.list.more_waiting", count=waiting.total - len(waiting.lines))))
        blocks.append(b.context(t("visits.list.waiting_hint")))
    else:
        blocks.append(b.context(t("visits.list.nothing_waiting")))
    blocks.append(b.header(t("visits.list.mine")))
    if not mine.lines:
        blocks.append(b.context(t("visits.list.no_visits")))
        return blocks + _parts(parts, t)
    blocks += [b.section(line_text(line, t, mine=True)) for line in mine.lines[:10]]
    first = mine.page * mine.page_size + 1
    blocks.append(
        b.context(t("visits.list.showing", first=first, last=first + len(mine.lines) - 1, total=mine.total))
    )
    paging = []
    if mine.page > 0:
        paging.append(b.button(t("visits.list.newer"), f"{page_action}_prev", str(mine.page - 1)))
    if mine.has_next:
        paging.append(b.button(t("visits.list.older"), f"{page_action}_next", str(mine.page + 1)))
    if paging:
        blocks.append(b.actions(*paging, block_id=f"{page_action}_paging"))
    return blocks + _parts(parts, t)


def _parts(parts: Sequence[tuple[str, Page]], t: Translator) -> list[b.Block]:
    blocks: list[b.Block] = []
    for title, page in parts:
        if not page.lines:
            continue
        blocks.append(b.header(t(title)))
        for line in page.lines[:5]:
            who = t("visits.list.visitor", visitor=f"<@{line.visitor_id}>")
            blocks.append(b.section(f"{line_head(line, t)}\n{who}"))
        if page.total > len(page.lines[:5]):
            blocks.append(b.context(t("visits.list.more_waiting", count=page.total - len(page.lines[:5]))))
    return blocks


def mine_message(
    waiting: Page, mine: Page, t: Translator, *, parts: Sequence[tuple[str, Page]] = ()
) -> dict[str, Any]:
    blocks = visit_list_blocks(waiting, mine, t, page_action=ids.MINE_PAGE, parts=parts)
    body = b.message(t("visits.list.mine"), blocks)
    body["response_type"] = "ephemeral"
    return body
