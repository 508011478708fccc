"""`/vertais tarjoa`: the offer modal (new or edit), its pickers and its submission; a suggested
topic is sent to the coordinators as a DM (handlers/topics.py handles their answer). A
coordinator edits the offers of their region's libraries (`deps.coordinator_scope`; the service
checks it again at save time)."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot import ids
from bot.commands import Sub
from bot.deps import Deps
from bot.forms import parse_offer
from bot.i18n import Translator
from bot.suggestion_notifier import SlackSuggestionNotifier
from bot.views.offer import offer_modal, offer_saved, offers_message, topic_options
from bot.views.settings import library_options
from handlers.context import a_person, staff_of, t_of
from handlers.replies import reply_to_user
from handlers.router import CommandRouter, Invocation
from services.catalogue import offers, topics
from services.common import submissions
from services.common.errors import InvalidInput
from services.people.staff import Staff

MAX_QUERY = 100
log = logging.getLogger(__name__)


def register(app: App, deps: Deps, router: CommandRouter) -> None:
    command = deps.settings.vertais_command

    def checked_contacts(form: offers.OfferInput) -> offers.OfferInput:
        """The form, marked if Slack says a contact is a bot or a deactivated account (a
        well-shaped id only: the service refuses the rest by their shape)."""
        named = [c for c in form.contacts if ids.is_user_id(c)]
        if len(named) > offers.MAX_CONTACTS or all(a_person(deps.directory, c) for c in named):
            return form
        return dataclasses.replace(form, contacts_unknown=True)

    def open_form(client: WebClient, trigger_id: str, me: Staff, t: Translator, offer_id: int | None) -> None:
        with deps.session_factory() as session:
            form = offers.offer_form(
                session,
                offer_id=offer_id,
                user_id=me.user_id,
                coordinator=deps.coordinator_scope(me.user_id),
                home_library_id=me.home_library_id,
                lang=t.lang,
                now=deps.now(),
            )
        client.views_open(trigger_id=trigger_id, view=offer_modal(form, t))

    def start(me: Staff, t: Translator, library_query: str = "") -> dict[str, Any] | None:
        """The list of the offers the user may edit, or None when a new-offer form should open."""
        with deps.session_factory() as session:
            mine = offers.editable_offers(
                session,
                me.user_id,
                t.lang,
                coordinator=deps.coordinator_scope(me.user_id),
                library_query=library_query,
            )
        return offers_message(mine, t) if mine else None

    def on_offer(inv: Invocation) -> None:
        """`tarjoa`: one's own offers (or a new one); `tarjoa <library>`: that library's offers."""
        listing = start(inv.staff, inv.t, inv.rest)
        if listing is not None:
            inv.ack(listing)
            return
        inv.ack()
        open_form(inv.client, inv.trigger_id, inv.staff, inv.t, None)

    router.add(Sub.OFFER, on_offer)

    @app.action(ids.OPEN_OFFER)
    def on_open_offer(
        ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
    ) -> None:
        ack()
        me, t = staff_of(context), t_of(context)
        if not me.has_home_library:
            open_form(client, body["trigger_id"], me, t, None)
            return
        listing = start(me, t)
        if listing is None:
            open_form(client, body["trigger_id"], me, t, None)
        else:
            reply_to_user(client, respond, body, listing)

    @app.action(ids.NEW_OFFER)
    def on_new(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        ack()
        open_form(client, body["trigger_id"], staff_of(context), t_of(context), None)

    @app.action(ids.EDIT_OFFER)
    def on_edit(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        ack()
        value = ids.row_id((body.get("actions") or [{}])[0].get("value"))
        open_form(client, body["trigger_id"], staff_of(context), t_of(context), value)

    @app.options(ids.OFFER_LIBRARY)
    def on_library_options(ack: Ack, body: dict[str, Any]) -> None:
        query = str(body.get("value") or "")[:MAX_QUERY]
        user_id = str((body.get("user") or {}).get("id") or "")
        found = offers.library_picker(
            deps.library_names,
            deps.session_factory,
            query,
            user_id,
            coordinator=deps.coordinator_scope(user_id),
        )
        ack(library_options(found))

    @app.options(ids.OFFER_TOPICS)
    def on_topic_options(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        query = str(body.get("value") or "")[:MAX_QUERY]
        with deps.session_factory() as session:
            ack(topic_options(topics.search_topics(session, query, t_of(context).lang)))

    @app.view(ids.OFFER_VIEW)
    def on_submit(
        ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
    ) -> None:
        t = t_of(context)
        user_id = body["user"]["id"]
        now = deps.now()
        view_id = view.get("id")
        try:
            saved = offers.save_offer(
                # a second delivery of this modal creates no second offer or topic suggestion
                submissions.once(deps.session_factory, view_id and f"{ids.OFFER_VIEW}:{view_id}", now),
                checked_contacts(parse_offer(view)),
                actor=user_id,
                coordinator=deps.coordinator_scope(user_id),
                lang=t.lang,
                now=now,
            )
        except InvalidInput as exc:
            ack(
                response_action="errors",
                errors={field: t(key, **params) for field, (key, params) in exc.fields.items()},
            )
            return
        except submissions.AlreadySubmitted:
            ack()  # saved already, and the coordinators were told then
            return
        ack(response_action="update", view=offer_saved(saved, t, command=command))
        if saved.suggestion_id is not None:  # the coordinators hear of it now, or from the sweep
            notifier = deps.extras.get("suggestion_notifier")
            assert isinstance(notifier, SlackSuggestionNotifier), "build_app puts it in deps.extras"
            notifier.show(saved.suggestion_id, saved.outbox)
