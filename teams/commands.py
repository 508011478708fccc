"""The command words in the Teams 1:1 chat (`apua`, `etsi`, `ehdota`, `omat`, `ideat`,
`asetukset`, `koti` …), parsed as `/vertais` parses them (bot/commands.py), answered with the same
views as Slack rendered as Adaptive Cards. A form opens from a button on the answer (a dialog
opens only from a card in Teams). Sync: run in a thread."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot import ids
from bot.commands import Sub, parse, word
from bot.elsewhere import MENTION
from bot.views import blocks as b
from bot.views import common
from bot.views.common import home_library_prompt
from bot.views.desk import report_message
from bot.views.find import find_message
from bot.views.home import home_view
from bot.views.offer import offers_message
from bot.views.visit_lists import mine_message, visit_list_blocks
from bot.views.writeups import ideas_message
from services.catalogue import offers
from services.common.workdays import HELSINKI, local_today
from services.find import matching
from services.ideas import idea_search
from services.money import budget, reports
from services.people import identity, substitutes
from services.people.coordinators import ONLY_COORDINATORS
from services.visits import visit_lists
from teams.cards import card_json, help_card, text_card
from teams.cards.blockkit import message_card
from teams.deps import TeamsDeps
from teams.dialogs import DIALOG_ACTIONS
from teams.people import Asker

HOME_WORDS = {"koti", "hem", "home", "start", "aloita"}
PAGE_SIZE = 10


def names_in(deps: TeamsDeps, where: Any) -> dict[str, str]:
    """The names of the people mentioned (`<@id>`) in a rendered message or in parameters."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, str):
            found.update(MENTION.findall(node))
        elif isinstance(node, Mapping):
            for value in node.values():
                walk(value)
        elif isinstance(node, list | tuple):
            for value in node:
                walk(value)

    walk(where)
    if not found:
        return {}
    with deps.session_factory() as session:
        return identity.display_names(session, found)


def card_of(deps: TeamsDeps, asker: Asker, message: Mapping[str, Any]) -> dict[str, Any]:
    return message_card(message, lang=asker.t.lang, names=names_in(deps, message), dialogs=DIALOG_ACTIONS)


def command_word(deps: TeamsDeps) -> str:
    return deps.settings.vertais_command if deps.settings is not None else "/vertais"


def home(deps: TeamsDeps, asker: Asker) -> dict[str, Any]:
    """The Home tab's content as a card: the welcome card at install and the `koti` command."""
    t, person = asker.t, asker.person
    today = local_today(deps.now())
    with deps.session_factory() as session:
        standing_in = substitutes.standing_in_for(session, person, today)
    waiting = visit_lists.waiting_for(
        deps.session_factory, person, is_coordinator=deps.scope(person), also_for=standing_in
    )
    mine = visit_lists.my_visits(deps.session_factory, person, page=0, page_size=PAGE_SIZE)
    parts = visit_lists.parts_of(deps.session_factory, person, today=today)
    owed = visit_lists.owed_cards(deps.session_factory, waiting)
    extra = visit_list_blocks(
        waiting, mine, t, page_action=ids.HOME_PAGE, parts=parts, owed=owed, reader=person
    )
    view = home_view(t, asker.me, command=command_word(deps), extra=extra)
    return card_of(deps, asker, view)


def report(deps: TeamsDeps, asker: Asker, rest: str) -> dict[str, Any]:
    """`raportti [year]`: a coordinator's report of their region, the same message as Slack's; its
    CSV file and chart are only in Slack (this adapter uploads no files)."""
    t, person = asker.t, asker.person
    if not deps.is_coordinator(person):
        return card_of(deps, asker, common.ephemeral(t(ONLY_COORDINATORS)))
    typed = rest.strip()
    if typed and not (typed.isdigit() and budget.MIN_YEAR <= int(typed) <= budget.MAX_YEAR):
        return card_of(deps, asker, common.ephemeral(t("desk.report.bad_year", word=b.escape(typed[:20]))))
    directory = deps.coordinator_directory
    region_id = (directory.region_of(person) if directory is not None else None) or asker.me.region_id
    if region_id is None:
        return card_of(deps, asker, common.ephemeral(t("desk.no_region")))
    tz = deps.settings.tz if deps.settings is not None else HELSINKI
    today = deps.now().astimezone(tz).date()
    year = int(typed) if typed else today.year
    data = reports.report(deps.session_factory, region_id, year, today=today, tz=tz)
    files = t(
        "teams.report.files_in_slack", command=command_word(deps), word=word(Sub.REPORT, t.lang), year=year
    )
    message = report_message(data, t, files_note=files)
    return card_of(deps, asker, message)


def offer_list(deps: TeamsDeps, asker: Asker, library_query: str) -> dict[str, Any]:
    """`tarjoa [library]`: the offers one may edit, each with its edit button, and a new one's
    (Slack opens the new-offer form at once when there are none; in Teams a dialog opens only
    from a card's button, so the list is shown, empty)."""
    with deps.session_factory() as session:
        mine = offers.editable_offers(
            session,
            asker.person,
            asker.t.lang,
            coordinator=deps.scope(asker.person),
            library_query=library_query[:100],
        )
    return card_of(deps, asker, offers_message(mine, asker.t))


def answer(deps: TeamsDeps, asker: Asker, text: str) -> dict[str, Any]:
    t, person, me = asker.t, asker.person, asker.me
    if text.strip().lower() in HOME_WORDS:
        return home(deps, asker)
    parsed = parse(text)
    help_word = word(Sub.HELP, t.lang)
    if parsed.sub is Sub.HELP:
        return card_json(help_card(t))
    if parsed.sub is None:
        if parsed.suggestion is not None:
            suggestion = word(parsed.suggestion, t.lang)
            return card_json(
                text_card(t("teams.did_you_mean", word=parsed.word[:40], suggestion=suggestion), t.lang)
            )
        return card_json(text_card(t("teams.unknown", word=parsed.word[:40], help=help_word), t.lang))
    if parsed.sub is Sub.REPORT:  # a coordinator needs no home library
        return report(deps, asker, parsed.rest)
    if parsed.sub in (Sub.PROPOSE, Sub.SETTINGS) or not me.has_home_library:
        if not me.has_home_library:
            blocks = [home_library_prompt(t)]
        elif parsed.sub is Sub.PROPOSE:
            blocks = [
                b.section(t("visits.form.intro")),
                b.actions(b.button(t("help.button.propose"), ids.OPEN_PROPOSE)),
            ]
        else:
            blocks = [b.actions(b.button(t("help.button.settings"), ids.OPEN_SETTINGS))]
        return card_of(deps, asker, b.message(t("help.button.propose"), blocks))
    if parsed.sub is Sub.MINE:
        today = local_today(deps.now())
        with deps.session_factory() as session:
            away = substitutes.standing_in_for(session, person, today)
        waiting = visit_lists.waiting_for(
            deps.session_factory, person, is_coordinator=deps.scope(person), also_for=away
        )
        mine = visit_lists.my_visits(deps.session_factory, person, page=0, page_size=PAGE_SIZE)
        parts = visit_lists.parts_of(deps.session_factory, person, today=today)
        return card_of(deps, asker, mine_message(waiting, mine, t, parts=parts))
    if parsed.sub is Sub.FIND:
        with deps.session_factory() as session:
            result = matching.find(
                session, parsed.rest, lang=t.lang, visitor_library_id=me.home_library_id, now=deps.now()
            )
            message = find_message(
                result, t, command=command_word(deps), coordinator=bool(deps.scope(person))
            )
        return card_of(deps, asker, message)
    if parsed.sub is Sub.OFFER:
        return offer_list(deps, asker, parsed.rest)
    if parsed.sub is Sub.IDEAS:
        with deps.session_factory() as session:
            found = idea_search.search(session, parsed.rest, offset=0)
        message = ideas_message(found, t, command=command_word(deps), coordinator=deps.scope(person))
        return card_of(deps, asker, message)
    return card_json(text_card(t("teams.not_yet", help=help_word, word=word(parsed.sub, t.lang)), t.lang))
