"""`/vertais asetukset`, the settings buttons, the modal's submission and its library picker."""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot import ids
from bot.commands import Sub
from bot.deps import Deps
from bot.i18n import translator
from bot.views import common
from bot.views.settings import library_options, settings_modal, settings_saved
from handlers.context import staff_of, t_of
from handlers.router import CommandRouter, Invocation
from services.common.errors import InvalidInput
from services.people import staff

MAX_QUERY = 100
log = logging.getLogger(__name__)


def register(app: App, deps: Deps, router: CommandRouter) -> None:
    def open_settings(
        client: WebClient, trigger_id: str, context: BoltContext, *, welcome: bool, pending: str
    ) -> None:
        me = staff_of(context)
        current = deps.library_names.get(me.home_library_id) if me.home_library_id else None
        view = settings_modal(t_of(context), me, current_library=current, welcome=welcome, pending=pending)
        client.views_open(trigger_id=trigger_id, view=view)

    def on_subcommand(inv: Invocation) -> None:
        inv.ack()
        open_settings(inv.client, inv.trigger_id, inv.context, welcome=False, pending="")

    def on_first_time(inv: Invocation, word: str) -> None:
        """A user without a home library is asked for it before anything else."""
        inv.ack(common.ephemeral(inv.t("settings.first_time")))
        open_settings(inv.client, inv.trigger_id, inv.context, welcome=True, pending=word)

    router.add(Sub.SETTINGS, on_subcommand)
    router.first_time = on_first_time

    @app.action(ids.OPEN_SETTINGS)
    def on_button(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        ack()
        open_settings(client, body["trigger_id"], context, welcome=False, pending="")

    @app.options(ids.HOME_LIBRARY)
    def on_library_options(ack: Ack, body: dict[str, Any]) -> None:
        query = str(body.get("value") or "")[:MAX_QUERY]
        ack(library_options(deps.library_names.search(query)))

    @app.view(ids.SETTINGS_VIEW)
    def on_submit(
        ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
    ) -> None:
        values = view.get("state", {}).get("values", {})
        library_value = (
            (values.get(ids.HOME_LIBRARY, {}).get(ids.HOME_LIBRARY) or {}).get("selected_option") or {}
        ).get("value")
        language_value = (
            (values.get(ids.LANGUAGE, {}).get(ids.LANGUAGE) or {}).get("selected_option") or {}
        ).get("value")
        library_id = ids.row_id(library_value)
        language = None if language_value in (None, ids.LANGUAGE_AUTO) else str(language_value)
        pending = _pending(view.get("private_metadata"))
        user_id = body["user"]["id"]
        try:
            saved = staff.update_settings(
                deps.session_factory,
                user_id,
                home_library_id=library_id,
                language=language,
                now=deps.now(),
                default_language=deps.settings.default_language,
            )
        except InvalidInput as exc:
            t = t_of(context)
            ack(
                response_action="errors",
                errors={field: t(key, **params) for field, (key, params) in exc.fields.items()},
            )
            return
        before = context.get("staff")
        changed = not isinstance(before, staff.Staff) or (before.home_library_id, before.chosen_language) != (
            saved.home_library_id,
            saved.chosen_language,
        )
        # The next request sees the new choice at once, in whichever worker process it lands.
        (deps.staff_cache.changed if changed else deps.staff_cache.put)(saved, deps.now())
        t = translator(saved.language)
        ack(
            response_action="update",
            view=settings_saved(t, saved, command=deps.settings.vertais_command, pending=pending),
        )
        publish_home = deps.extras.get("publish_home")
        if changed and callable(publish_home):  # the Home tab shows the new library and language at once

            def republish() -> None:
                try:
                    publish_home(client, user_id, None, 0, t=t, me=saved)
                except Exception:
                    log.warning("could not republish the Home tab after saving settings", exc_info=True)

            later = deps.extras.get("background")  # on the pool, after this answer has gone
            if callable(later):
                later(republish)
            else:
                republish()


def _pending(metadata: str | None) -> str:
    if not metadata:
        return ""
    try:
        data = json.loads(metadata)
    except ValueError:
        return ""
    pending = data.get("pending") if isinstance(data, dict) else None
    return pending if isinstance(pending, str) and pending in {s.value for s in Sub} else ""
