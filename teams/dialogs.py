"""Teams dialogs (task modules): the forms Slack shows as modals, rendered from the same views
(bot.views) into Adaptive Cards. A button that opens a form in Slack opens a dialog in Teams
(teams/cards/blockkit.py sends its press as `task/fetch`); its submission (`task/submit`) is
turned into Slack's view state, read by the same readers (bot.forms) and saved by the same
service. An error shows the dialog again with what was typed and the error under its field,
and writes nothing.

What a dialog posts names the form (`callback_id`) and carries `private_metadata` back, which a
person could change: every service call checks again who may act on the visit it names."""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, select

from bot import ids, visit_forms
from bot.forms import field_errors, parse_offer, parse_proposal, parse_writeup
from bot.i18n import translator
from bot.views import writeups as writeup_views
from bot.views.offer import offer_modal, offer_saved, topic_options
from bot.views.propose import FIELD_BLOCKS, accommodation_block, host_options, propose_modal, stop_options
from bot.views.settings import library_options, settings_modal
from models import Library, LibraryContact, StaffProfile
from services.catalogue import offers, topics
from services.common import submissions
from services.common.errors import DomainError, InvalidInput
from services.ideas import writeups
from services.people import identity, staff
from services.visits import proposing
from teams.cards.blockkit import dialog_card, dialog_title, view_state
from teams.deps import TeamsDeps
from teams.people import Asker

log = logging.getLogger(__name__)
# The buttons that open a form (in Slack a modal, in Teams a dialog).
# The visit's own forms (decline, other dates, move, ...) are teams/visit_dialogs.py's.
DIALOG_ACTIONS = frozenset(
    {
        ids.OPEN_PROPOSE,
        ids.PROPOSE_HOST,
        ids.OPEN_SETTINGS,
        ids.WRITEUP_OPEN,
        ids.NEW_OFFER,
        ids.EDIT_OFFER,
        *visit_forms.FORM_BUTTONS,
    }
)
PEOPLE_SHOWN = 200  # people offered as supervisors and colleagues (the dialog's size)


@dataclass(frozen=True)
class Dialog:
    """A dialog to show: its title and card."""

    title: str
    card: dict[str, Any]


@dataclass(frozen=True)
class Done:
    """The dialog closes with this short message (a toast)."""

    text: str


def people_to_pick(deps: TeamsDeps, me: str, region_id: int | None = None) -> list[tuple[str, str]]:
    """The people a visitor can name (supervisor, colleagues): those the bot knows by name, the
    visitor's own region's first (the dialog shows PEOPLE_SHOWN at most)."""
    own_region = case((Library.region_id == region_id, 0), else_=1) if region_id is not None else None
    with deps.session_factory() as session:
        query = (
            select(StaffProfile.slack_user_id, StaffProfile.display_name)
            .outerjoin(Library, Library.id == StaffProfile.home_library_id)
            .where(StaffProfile.display_name.is_not(None), StaffProfile.slack_user_id != me)
        )
        ordered = (
            query.order_by(own_region, StaffProfile.display_name)
            if own_region is not None
            else (query.order_by(StaffProfile.display_name))
        )
        rows = session.execute(ordered.limit(PEOPLE_SHOWN)).all()
    return [(person, str(name)) for person, name in rows]


def known_people(deps: TeamsDeps, people: Iterable[str]) -> set[str]:
    """Which of these person ids are people the bot knows (a dialog's choice is checked here, not
    against the list it showed: someone may have been named who is not among those shown)."""
    wanted = [p for p in dict.fromkeys(people) if p][:20]
    if not wanted:
        return set()
    with deps.session_factory() as session:
        return set(
            session.scalars(select(StaffProfile.slack_user_id).where(StaffProfile.slack_user_id.in_(wanted)))
        )


def form_nonce(data: Mapping[str, Any]) -> str | None:
    """The proposal dialog's own id (in its private_metadata), so that a second submit of the same
    dialog proposes nothing (Slack's view id does this there)."""
    nonce = metadata_of(data).get("form")
    return nonce if isinstance(nonce, str) and re.fullmatch(r"[0-9a-f]{32}", nonce) else None


def pairs(options: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Slack options ({"options": [{"text": {...}, "value": ...}]}, or grouped: {"option_groups":
    [{"options": [...]}]}) as (value, title) pairs."""
    found: list[tuple[str, str]] = []
    grouped = [o for group in options.get("option_groups") or [] for o in group.get("options") or []]
    for option in [*(options.get("options") or []), *grouped]:
        text = option.get("text") or {}
        found.append((str(option.get("value")), str(text.get("text") or "")))
    return found


# --- the forms, as Teams shows them ------------------------------------------------------------
def proposal_form(asker: Asker, deps: TeamsDeps, nonce: str | None = None) -> dict[str, Any]:
    """The proposal form with every field at once (Teams cannot add the night's price when a
    length is chosen, as Slack does: it is always there, and optional); `nonce` names this
    dialog (a new one when it opens)."""
    topics = proposing.active_topics(deps.session_factory)
    modal = propose_modal(asker.t, topics=topics, topic=None, host=None)
    blocks = list(modal["blocks"])
    after = next(
        (n for n, blk in enumerate(blocks, start=1) if blk.get("block_id") == ids.PROPOSE_TICKETS),
        len(blocks),
    )
    blocks.insert(after, accommodation_block(asker.t))
    metadata = json.dumps({"form": nonce or uuid.uuid4().hex})
    return {**modal, "blocks": blocks, "private_metadata": metadata}


def proposal_choices(asker: Asker, deps: TeamsDeps) -> dict[str, list[tuple[str, str]]]:
    hosts = proposing.host_choices(
        deps.session_factory, visitor_library_id=asker.me.home_library_id, topic_id=None, now=deps.now()
    )
    trip = proposing.stop_choices(deps.session_factory, visitor_library_id=asker.me.home_library_id)
    return {
        ids.PROPOSE_HOST_SELECT: pairs(host_options(hosts, asker.t)),
        ids.PROPOSE_STOPS: pairs(stop_options(trip, asker.t)),
    }


def settings_form(asker: Asker, deps: TeamsDeps) -> tuple[dict[str, Any], dict[str, list[tuple[str, str]]]]:
    with deps.session_factory() as session:
        libraries = list(session.scalars(select(Library).order_by(Library.name)))
        current = session.get(Library, asker.me.home_library_id) if asker.me.home_library_id else None
        modal = settings_modal(
            asker.t, asker.me, current_library=current, welcome=not asker.me.has_home_library
        )
        choices = {ids.HOME_LIBRARY: pairs(library_options(libraries))}
    return modal, choices


def writeup_form(asker: Asker, deps: TeamsDeps, visit_id: int) -> dict[str, Any]:
    with deps.session_factory() as session:
        form = writeups.open_form(session, visit_id, asker.person, deps.now())
    return writeup_views.writeup_modal(form, asker.t)


def offer_form(
    asker: Asker, deps: TeamsDeps, offer_id: int | None, nonce: str | None = None
) -> dict[str, Any]:
    """The offer form (new, or an offer the person may edit: NotAllowed/NotFound otherwise), as
    Slack's `tarjoa` opens it; `nonce` names this dialog (a new one when it opens)."""
    with deps.session_factory() as session:
        form = offers.offer_form(
            session,
            offer_id=offer_id,
            user_id=asker.person,
            coordinator=deps.scope(asker.person),
            home_library_id=asker.me.home_library_id,
            lang=asker.t.lang,
            now=deps.now(),
        )
    modal = offer_modal(form, asker.t)
    metadata = json.dumps({"offer": form.offer_id, "form": nonce or uuid.uuid4().hex})
    return {**modal, "private_metadata": metadata}


def offer_choices(asker: Asker, deps: TeamsDeps) -> dict[str, list[tuple[str, str]]]:
    """The library and topic choices Slack's pickers would answer for an empty query."""
    libraries = offers.library_picker(
        deps.library_names, deps.session_factory, "", asker.person, coordinator=deps.scope(asker.person)
    )
    with deps.session_factory() as session:
        groups = topics.search_topics(session, "", asker.t.lang)
    return {
        ids.OFFER_LIBRARY: pairs(library_options(libraries)),
        ids.OFFER_TOPICS: pairs(topic_options(groups)),
    }


def contacts_of(deps: TeamsDeps, library_id: int | None) -> set[str]:
    """The library's contacts now (kept as they are even if the bot has no profile of them)."""
    if library_id is None:
        return set()
    with deps.session_factory() as session:
        return set(
            session.scalars(
                select(LibraryContact.slack_user_id).where(LibraryContact.library_id == library_id)
            )
        )


def offer_people(deps: TeamsDeps, asker: Asker, modal: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The people offered as contacts: the person themselves and the library's contacts first,
    then the bot's people (people_to_pick)."""
    chosen = [asker.person]
    for block in modal.get("blocks") or []:
        if block.get("block_id") == ids.OFFER_CONTACTS:
            chosen.extend(str(u) for u in (block.get("element") or {}).get("initial_users") or [])
    with deps.session_factory() as session:
        names = identity.display_names(session, set(chosen))
    first = [(p, names.get(p) or p) for p in dict.fromkeys(chosen)]
    seen = {p for p, _name in first}
    rest = [(p, name) for p, name in people_to_pick(deps, asker.person, asker.me.region_id) if p not in seen]
    return [*first, *rest][:PEOPLE_SHOWN]


def show_offer(
    asker: Asker,
    deps: TeamsDeps,
    modal: dict[str, Any],
    *,
    values: Mapping[str, Any] | None = None,
    errors: Mapping[str, str] | None = None,
) -> Dialog:
    return show(
        asker,
        modal,
        choices=offer_choices(asker, deps),
        people=offer_people(deps, asker, modal),
        values=values,
        errors=errors,
    )


def metadata_of(data: Mapping[str, Any]) -> dict[str, Any]:
    try:
        loaded = json.loads(str(data.get("private_metadata") or "{}"))
    except ValueError:
        return {}
    return loaded if isinstance(loaded, dict) else {}


# --- opening ---------------------------------------------------------------------------------
def show(
    asker: Asker,
    modal: dict[str, Any],
    *,
    choices: Mapping[str, list[tuple[str, str]]] | None = None,
    people: list[tuple[str, str]] | None = None,
    values: Mapping[str, Any] | None = None,
    errors: Mapping[str, str] | None = None,
) -> Dialog:
    card = dialog_card(
        modal, lang=asker.t.lang, values=values, errors=errors, choices=choices, people=people or ()
    )
    return Dialog(dialog_title(modal), card)


def open_dialog(deps: TeamsDeps, asker: Asker, action_id: str, value: str) -> Dialog | Done:
    """The dialog a button opens (sync: run in a thread)."""
    t = asker.t
    if action_id == ids.OPEN_SETTINGS or (
        action_id in (ids.OPEN_PROPOSE, ids.PROPOSE_HOST) and not asker.me.has_home_library
    ):
        modal, choices = settings_form(asker, deps)
        return show(asker, modal, choices=choices)
    if action_id in (ids.OPEN_PROPOSE, ids.PROPOSE_HOST):
        return show(
            asker,
            proposal_form(asker, deps),
            choices=proposal_choices(asker, deps),
            people=people_to_pick(deps, asker.person, asker.me.region_id),
        )
    if action_id in (ids.NEW_OFFER, ids.EDIT_OFFER):
        offer_id = ids.row_id(value) if action_id == ids.EDIT_OFFER else None
        try:
            return show_offer(asker, deps, offer_form(asker, deps, offer_id))
        except DomainError as exc:
            return Done(t(exc.key, **exc.params))
    if action_id == ids.WRITEUP_OPEN and value.isdigit():
        try:
            return show(asker, writeup_form(asker, deps, int(value)))
        except DomainError as exc:
            return Done(t(exc.key, **exc.params))
    return Done(t("visits.changed"))


# --- submitting ------------------------------------------------------------------------------
def submit_dialog(
    deps: TeamsDeps, asker: Asker, data: Mapping[str, Any], *, once_key: str | None
) -> Dialog | Done:
    """Save what a dialog posted (sync: run in a thread): Done, or the dialog again with errors."""
    callback = str(data.get("callback_id") or "")
    t = asker.t
    if callback == ids.SETTINGS_VIEW:
        modal, choices = settings_form(asker, deps)
        view = view_state(modal, data)
        values = view["state"]["values"]
        library = ((values.get(ids.HOME_LIBRARY) or {}).get(ids.HOME_LIBRARY) or {}).get(
            "selected_option"
        ) or {}
        language = ((values.get(ids.LANGUAGE) or {}).get(ids.LANGUAGE) or {}).get("selected_option") or {}
        chosen = language.get("value")
        try:
            saved = staff.update_settings(
                deps.session_factory,
                asker.person,
                home_library_id=ids.row_id(library.get("value")),
                language=None if chosen in (None, ids.LANGUAGE_AUTO) else str(chosen),
                now=deps.now(),
                default_language=deps.default_language,
            )
        except InvalidInput as exc:
            errors = {field: t(key, **params) for field, (key, params) in exc.fields.items()}
            return show(asker, modal, choices=choices, values=data, errors=errors)
        done = translator(saved.language)
        return Done(done("teams.settings.saved", library=saved.home_library_name or ""))
    if callback == ids.PROPOSE_VIEW:
        nonce = form_nonce(data)
        modal = proposal_form(asker, deps, nonce)
        people = people_to_pick(deps, asker.person, asker.me.region_id)
        form = parse_proposal(view_state(modal, data))
        named = [
            form.supervisor_id or "",
            *form.colleagues,
            *(s for s in form.colleague_supervisors.values() if s),
        ]
        known = known_people(deps, named)
        unknown = form.supervisor_id is not None and form.supervisor_id not in known
        if unknown:
            form = dataclasses.replace(form, supervisor_id=None)
        strangers = frozenset(
            p
            for p in [*form.colleagues, *(s for s in form.colleague_supervisors.values() if s)]
            if p not in known
        )
        if strangers:
            form = dataclasses.replace(form, unknown_people=strangers)
        try:
            change = proposing.propose(
                submissions.once(
                    deps.session_factory, f"teams:{asker.person}:{nonce}" if nonce else once_key, deps.now()
                ),
                form,
                visitor_id=asker.person,
                home_library_id=asker.me.home_library_id,
                now=deps.now(),
                months_ahead=deps.settings.visit_months_ahead if deps.settings else 6,
            )
        except InvalidInput as exc:
            errors = field_errors(t, exc, FIELD_BLOCKS)
            if unknown:
                errors[FIELD_BLOCKS["supervisor"]] = t("visits.error.supervisor_unknown")
            return show(
                asker, modal, choices=proposal_choices(asker, deps), people=people, values=data, errors=errors
            )
        except submissions.AlreadySubmitted:
            return Done(t("teams.proposal.sent"))
        if deps.visit_notifier is not None:
            deps.visit_notifier.publish(change)
        return Done(t("teams.proposal.sent"))
    if callback == ids.OFFER_VIEW:
        return submit_offer(deps, asker, data, once_key=once_key)
    if callback == ids.WRITEUP_VIEW:
        visit_id = metadata_of(data).get("visit")
        if not isinstance(visit_id, int):
            return Done(t("visits.changed"))
        try:
            modal = writeup_form(asker, deps, visit_id)
            result = writeups.submit(
                deps.session_factory,
                visit_id,
                parse_writeup(view_state(modal, data)),
                actor=asker.person,
                now=deps.now(),
            )
        except InvalidInput as exc:
            errors = {
                writeup_views.BLOCKS.get(n, n): t(key, **params) for n, (key, params) in exc.fields.items()
            }
            return show(asker, modal, values=data, errors=errors)
        except DomainError as exc:
            return Done(t(exc.key, **exc.params))
        if deps.writeup_publisher is not None:
            deps.writeup_publisher.show(result)
        return Done(t("teams.writeup.saved"))
    return Done(t("visits.changed"))


def submit_offer(
    deps: TeamsDeps, asker: Asker, data: Mapping[str, Any], *, once_key: str | None
) -> Dialog | Done:
    """The offer form posted: saved by the same service as Slack's (which checks again who may
    offer for the library), then the same "saved" view; an error shows the form again."""
    t = asker.t
    offer_id = metadata_of(data).get("offer")
    nonce = form_nonce(data)
    try:
        wanted = offer_id if isinstance(offer_id, int) and not isinstance(offer_id, bool) else None
        modal = offer_form(asker, deps, wanted, nonce)
    except DomainError as exc:  # an offer this person may not edit (or gone)
        return Done(t(exc.key, **exc.params))
    form = parse_offer(view_state(modal, data))
    named = [c for c in form.contacts if c]
    if named and not set(named) <= known_people(deps, named) | contacts_of(deps, form.library_id):
        form = dataclasses.replace(form, contacts_unknown=True)  # as Slack's check of its users
    scope = deps.scope(asker.person)
    try:
        saved = offers.save_offer(
            # a second submit of this dialog creates no second offer or topic suggestion
            submissions.once(
                deps.session_factory,
                f"teams:{asker.person}:{ids.OFFER_VIEW}:{nonce}" if nonce else once_key,
                deps.now(),
            ),
            form,
            actor=asker.person,
            coordinator=scope,
            lang=t.lang,
            now=deps.now(),
        )
    except InvalidInput as exc:
        errors = {field: t(key, **params) for field, (key, params) in exc.fields.items()}
        return show_offer(asker, deps, modal, values=data, errors=errors)
    except submissions.AlreadySubmitted:
        return Done(t("offer.title.saved"))
    except DomainError as exc:
        return Done(t(exc.key, **exc.params))
    # A suggested topic reaches the coordinators from the outbox's sweep (Slack's listener also
    # sends it at once); the Teams side has no port to it yet.
    command = deps.settings.vertais_command if deps.settings is not None else "/vertais"
    return show(asker, offer_saved(saved, t, command=command))
