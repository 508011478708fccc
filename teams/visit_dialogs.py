"""The small forms of a visit's messages and reminders as Teams dialogs (decline reason, other
dates, move, new dates, send on, another stop): the same forms (bot.views, through
bot/visit_forms.py) and the same service calls as the Slack listeners (handlers/decide.py).

Opening checks that this person may use the form now; a submission checks it again (the
`private_metadata` Teams sends back could be forged), is read as Slack's view state and saved
by the same service, and the change is shown everywhere (the notifier). A refused field shows
the dialog again with what was typed; a stale or foreign press closes it with the reason."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from bot import ids, visit_forms
from bot.forms import field_errors
from services.common.errors import DomainError, InvalidInput
from services.visits.state_machine import AlreadyDecided
from teams import commands
from teams.cards.blockkit import mrkdwn_text, view_state
from teams.deps import TeamsDeps
from teams.dialogs import Dialog, Done, show
from teams.people import Asker

log = logging.getLogger(__name__)
BUTTONS = visit_forms.FORM_BUTTONS
CALLBACKS = frozenset(visit_forms.FORMS)
SAVED = {  # the dialog closes with this once the form is saved
    ids.DECLINE_VIEW: "teams.visit_form.declined",
    ids.COUNTER_VIEW: "teams.visit_form.counter_sent",
    ids.MOVE_VIEW: "teams.visit_form.moved",
    ids.REDATE_VIEW: "teams.visit_form.redated",
    ids.FORWARD_VIEW: "teams.visit_form.forwarded",
    ids.STOP_REPLACE_VIEW: "teams.visit_form.stop_replaced",
}


def actor_of(deps: TeamsDeps, asker: Asker) -> visit_forms.Actor:
    return visit_forms.Actor(
        deps.session_factory,
        asker.person,
        deps.scope(asker.person),
        deps.now(),
        deps.settings.visit_months_ahead if deps.settings else 6,
    )


def refused(deps: TeamsDeps, asker: Asker, exc: Exception) -> Done:
    """Why a press or a submission changed nothing (a stale message loses its buttons)."""
    t = asker.t
    if isinstance(exc, AlreadyDecided) and deps.visit_notifier is not None:
        deps.visit_notifier.refresh(exc.visit_id)
    if isinstance(exc, DomainError) and not isinstance(exc, InvalidInput):
        return Done(mrkdwn_text(t(exc.key, **exc.params), commands.names_in(deps, exc.params)))
    return Done(t("visits.changed"))


def open_dialog(deps: TeamsDeps, asker: Asker, action_id: str, value: str) -> Dialog | Done:
    """The form a visit's button opens (sync: run in a thread), once the server agrees."""
    try:
        modal = visit_forms.form_of(actor_of(deps, asker), asker.t, action_id, value)
    except (DomainError, ValueError, KeyError) as exc:
        return refused(deps, asker, exc)
    return show(asker, modal)


def submit_dialog(deps: TeamsDeps, asker: Asker, data: Mapping[str, Any]) -> Dialog | Done:
    """Save a visit form's submission (sync: run in a thread): Done, or the dialog again."""
    t = asker.t
    callback = str(data.get("callback_id") or "")
    form = visit_forms.FORMS.get(callback)
    if form is None:
        return Done(t("visits.changed"))
    actor = actor_of(deps, asker)
    posted = {"callback_id": callback, "private_metadata": str(data.get("private_metadata") or "")}
    try:
        modal = visit_forms.form_again(actor, t, posted)  # who may act: checked again
    except (DomainError, ValueError, KeyError) as exc:
        return refused(deps, asker, exc)
    try:
        change = form.submit(actor, view_state(modal, data))
    except InvalidInput as exc:
        return show(asker, modal, values=data, errors=field_errors(t, exc, form.blocks))
    except (DomainError, ValueError, KeyError) as exc:
        return refused(deps, asker, exc)
    if deps.visit_notifier is not None and not deps.visit_notifier.publish(change):
        return Done(t("visits.saved_slack_slow"))
    return Done(t(SAVED.get(callback, "teams.decision.saved")))
