"""The coordinator's desk: `/vertais raportti [year]`, the App Home section, the tickets-bought,
invoice-received and invoice-paid buttons, and the budget, rate, actual-cost, add-coordinator and
remove-coordinator modals.

Every listener checks that the person is a coordinator before anything else (the services
check it again); a non-coordinator is told "only coordinators can do this" and nothing changes.
The acts on one visit are for the coordinators of its region: the services check the person's
region (`deps.coordinator_scope`) and refuse a coordinator of another region. So are adding,
moving and removing a coordinator (the configured coordinators manage every region)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import ids
from bot.commands import Sub
from bot.deps import Deps
from bot.i18n import Translator
from bot.views import blocks as b
from bot.views import common
from bot.views import desk as views
from bot.views.formatting import day_text, money
from handlers import accounts
from handlers.context import a_person, staff_of, t_of
from handlers.replies import SLACK_FAILURES, reply_to_user, respond_ok
from handlers.router import CommandRouter, Invocation
from models import Region
from services.admin import appointments
from services.catalogue import topics
from services.common.errors import Conflict, InvalidInput, NotAllowed, NotFound
from services.money import budget, costs, report_files, reports, travel_invoices
from services.people import coordinators
from services.people.coordinators import ONLY_COORDINATORS
from services.visits import visit_card, visit_lists

log = logging.getLogger(__name__)

FIELDS = {
    "year": ids.DESK_YEAR,
    "amount": ids.DESK_AMOUNT,
    "rate": ids.DESK_RATE,
    "km": ids.DESK_KM,
    "tickets": ids.DESK_TICKETS,
    "accommodation": ids.DESK_ACCOMMODATION,
}
CLAIMED = {ids.TICKETS_BOUGHT, ids.INVOICE_RECEIVED, ids.INVOICE_PAID}


class LiveCoordinators:
    """The coordinators as the visit notifier iterates them: COORDINATOR_USER_IDS first, then those
    added in the bot (read through the directory's short cache)."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def __iter__(self) -> Iterator[str]:
        configured = list(self.deps.settings.coordinator_user_ids)
        added = [c.user_id for c in self.deps.coordinators.all() if c.user_id not in configured]
        return iter(configured + added)


def _value(values: dict[str, Any], block_id: str) -> str:
    element = (values.get(block_id) or {}).get(block_id) or {}
    if "selected_option" in element:
        return str((element.get("selected_option") or {}).get("value") or "")
    if "selected_user" in element:
        return str(element.get("selected_user") or "")
    if "selected_options" in element:
        return ",".join(str(o.get("value")) for o in element.get("selected_options") or [])
    return str(element.get("value") or "")


def _failure(exc: BaseException) -> str:
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error") or exc.response.status_code)
    return type(exc).__name__


def _errors(exc: InvalidInput, t: Translator) -> dict[str, str]:
    return {FIELDS.get(field, field): t(key, **params) for field, (key, params) in exc.fields.items()}


def _visit_id(body: dict[str, Any]) -> int:
    visit_id = ids.row_id((body.get("actions") or [{}])[0].get("value"))
    if visit_id is None:
        raise NotFound()
    return visit_id


def register(app: App, deps: Deps, router: CommandRouter) -> None:
    def require(user_id: str | None) -> None:
        if not deps.is_coordinator(user_id):
            raise NotAllowed(ONLY_COORDINATORS)

    def region_of(user_id: str, context: BoltContext) -> int | None:
        return deps.coordinators.region_of(user_id) or staff_of(context).region_id

    def today() -> date:
        return deps.now().astimezone(deps.settings.tz).date()  # the configured TIMEZONE

    def refresh_home(client: WebClient, user_id: str, context: BoltContext) -> None:
        publish = deps.extras.get("publish_home")
        if callable(publish):
            try:
                publish(client, user_id, context, 0)
            except SLACK_FAILURES as exc:  # the change is saved: the Home tab shows it next time
                log.warning("could not refresh App Home: %s", type(exc).__name__)

    def refresh_visit(visit_id: int) -> None:
        """Re-render the visit's messages (the coordinators' show tickets and the invoice)."""
        notifier = deps.extras.get("visit_notifier")
        refresh = getattr(notifier, "refresh", None)
        if callable(refresh):
            try:
                refresh(visit_id)
            except Exception:
                log.warning("visit %s: could not refresh its messages", visit_id, exc_info=True)

    # --- /vertais raportti [year] ------------------------------------------------------------
    def on_report(inv: Invocation) -> None:
        if not deps.is_coordinator(inv.user_id):
            inv.ack(common.ephemeral(inv.t(ONLY_COORDINATORS)))
            return
        if accounts.is_link(inv.rest):  # `raportti linkitä …`: a Teams user linked by hand
            accounts.link_by_hand(deps, inv)
            return
        word = inv.rest.strip()
        if word and not (word.isdigit() and budget.MIN_YEAR <= int(word) <= budget.MAX_YEAR):
            inv.ack(common.ephemeral(inv.t("desk.report.bad_year", word=b.escape(word[:20]))))
            return
        inv.ack(common.ephemeral(inv.t("desk.report.working")))
        year = int(word) if word else today().year
        send_report(inv.client, inv.respond, inv.user_id, inv.t, region_of(inv.user_id, inv.context), year)

    def send_report(
        client: WebClient,
        respond: Respond | None,
        user_id: str,
        t: Translator,
        region_id: int | None,
        year: int,
    ) -> None:
        if region_id is None:
            client.chat_postMessage(channel=user_id, **common.ephemeral(t("desk.no_region")))
            return
        data = reports.report(deps.session_factory, region_id, year, today=today(), tz=deps.settings.tz)
        message = views.report_message(data, t)
        if respond is None or not respond_ok(
            respond, response_type="ephemeral", replace_original=False, **message
        ):
            client.chat_postMessage(channel=user_id, **message)
        labels = views.csv_labels(t, year=year, region=data.region_name)
        try:
            upload_files(client, user_id, t, year, data, labels)
        except SLACK_FAILURES as exc:
            # files_upload_v2 completes the files in one call at the end: either both arrived or
            # neither was shared, and a report writes nothing, so asking again is safe.
            log.warning("report files not uploaded: %s", _failure(exc))
            client.chat_postMessage(channel=user_id, **common.ephemeral(t("desk.report.upload_failed")))

    def upload_files(
        client: WebClient,
        user_id: str,
        t: Translator,
        year: int,
        data: reports.Report,
        labels: dict[str, str],
    ) -> None:
        channel = client.conversations_open(users=user_id)["channel"]["id"]
        client.files_upload_v2(
            channel=channel,
            initial_comment=t("desk.report.files", year=year),
            file_uploads=[
                {
                    "content": report_files.to_csv(data, t.lang, labels),
                    "filename": f"vertaisoppiminen-{year}.csv",
                    "title": t("desk.report.csv_title", year=year),
                },
                {
                    "content": report_files.chart_png(data, labels),
                    "filename": f"vertaisoppiminen-{year}.png",
                    "title": t("desk.report.chart_title", year=year),
                },
            ],
        )

    router.add(Sub.REPORT, on_report)

    @app.action(ids.OPEN_REPORT)
    def on_report_button(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        user_id = body["user"]["id"]
        require(user_id)
        ack()
        t = t_of(context)
        value = str((body.get("actions") or [{}])[0].get("value") or "")
        year = int(value) if value.isdigit() else today().year
        send_report(client, None, user_id, t, region_of(user_id, context), year)

    # --- Buttons -----------------------------------------------------------------------------
    def on_visit_button(
        mark: Callable[..., tuple[bool, Any]], done_key: str, already_key: str
    ) -> Callable[..., None]:
        """A desk button on a visit: `mark(session_factory, visit_id, actor=, is_coordinator=,
        now=)` is the service act (a coordinator of the visit's region only); True if it changed."""

        def listener(
            ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
        ) -> None:
            user_id = body["user"]["id"]
            require(user_id)
            visit_id = _visit_id(body)
            ack()
            t = t_of(context)
            changed, _ = mark(
                deps.session_factory,
                visit_id,
                actor=user_id,
                is_coordinator=deps.coordinator_scope(user_id),
                now=deps.now(),
            )
            reply_to_user(client, respond, body, common.ephemeral(t(done_key if changed else already_key)), t)
            refresh_visit(visit_id)
            refresh_home(client, user_id, context)

        return listener

    for action_id, mark, done_key, already_key in (
        (ids.TICKETS_BOUGHT, costs.tickets_bought, "desk.tickets.done", "desk.tickets.already"),
        (ids.INVOICE_RECEIVED, travel_invoices.mark_received, "desk.invoice.done", "desk.invoice.already"),
        (ids.INVOICE_PAID, travel_invoices.mark_paid, "desk.invoice.paid_done", "desk.invoice.paid_already"),
    ):
        app.action(action_id)(on_visit_button(mark, done_key, already_key))

    # --- Budget --------------------------------------------------------------------------------
    @app.action(ids.OPEN_BUDGET)
    def on_open_budget(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        user_id = body["user"]["id"]
        require(user_id)
        ack()
        t = t_of(context)
        region_id = region_of(user_id, context)
        value = str((body.get("actions") or [{}])[0].get("value") or "")
        year = int(value) if value.isdigit() else today().year
        with deps.session_factory() as session:
            region = session.get(Region, region_id) if region_id else None
            current = budget.current(session, region_id, year) if region_id else None
            view = views.budget_modal(
                t,
                year=year,
                current=current.amount if current else None,
                region_name=region.name if region else "",
            )
        client.views_open(trigger_id=body["trigger_id"], view=view)

    @app.view(ids.BUDGET_VIEW)
    def on_budget(
        ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext, client: WebClient
    ) -> None:
        user_id = body["user"]["id"]
        require(user_id)
        t = t_of(context)
        region_id = region_of(user_id, context)
        if region_id is None:
            ack(response_action="errors", errors={ids.DESK_AMOUNT: t("desk.no_region")})
            return
        values = view.get("state", {}).get("values", {})
        try:
            summary = budget.set_budget(
                deps.session_factory,
                actor=user_id,
                is_coordinator=True,
                region_id=region_id,
                year_text=_value(values, ids.DESK_YEAR),
                amount_text=_value(values, ids.DESK_AMOUNT),
                replace="replace" in _value(values, ids.DESK_REPLACE),
                now=deps.now(),
            )
        except InvalidInput as exc:
            errors = _errors(exc, t)
            if "desk.budget.replaces" in {k for k, _p in exc.fields.values()}:
                _key, params = exc.fields["amount"]
                old = params.get("old")
                errors[ids.DESK_AMOUNT] = t(
                    "desk.budget.replaces", year=params.get("year"), old=money(Decimal(str(old)), t)
                )
            ack(response_action="errors", errors=errors)
            return
        ack(response_action="update", view=views.saved_view(t, views.budget_lines(summary, t)))
        refresh_home(client, user_id, context)

    # --- Kilometre rates -------------------------------------------------------------------------
    @app.action(ids.OPEN_RATES)
    def on_open_rates(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        user_id = body["user"]["id"]
        require(user_id)
        ack()
        with deps.session_factory() as session:
            table = costs.rates(session)
            pays = costs.pays_passenger_supplement(session, region_of(user_id, context))
        view = views.rates_modal(t_of(context), rates=table, year=today().year + 1, pays_supplement=pays)
        client.views_open(trigger_id=body["trigger_id"], view=view)

    @app.view(ids.RATES_VIEW)
    def on_rates(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
        user_id = body["user"]["id"]
        require(user_id)
        t = t_of(context)
        values = view.get("state", {}).get("values", {})
        region_id = region_of(user_id, context)
        chosen = (values.get(ids.DESK_SUPPLEMENT) or {}).get(ids.DESK_SUPPLEMENT) or {}
        pays = any(o.get("value") == "pays" for o in chosen.get("selected_options") or [])
        rate_text = _value(values, ids.DESK_RATE)
        try:
            if rate_text.strip() or region_id is None:
                costs.set_rate(
                    deps.session_factory,
                    actor=user_id,
                    is_coordinator=True,
                    year_text=_value(values, ids.DESK_YEAR),
                    rate_text=rate_text,
                    now=deps.now(),
                )
            if region_id is not None:  # the region's setting, with or without a new rate
                costs.set_passenger_supplement(
                    deps.session_factory,
                    actor=user_id,
                    is_coordinator=True,
                    region_id=region_id,
                    pays=pays,
                    now=deps.now(),
                )
        except InvalidInput as exc:
            ack(response_action="errors", errors=_errors(exc, t))
            return
        with deps.session_factory() as session:
            table = costs.rates(session)
        view = views.rates_modal(
            t, rates=table, year=today().year + 1, pays_supplement=pays and region_id is not None
        )
        ack(response_action="update", view=view)

    # --- Actual costs ----------------------------------------------------------------------------
    @app.action(ids.OPEN_ACTUALS)
    def on_open_actuals(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        user_id = body["user"]["id"]
        require(user_id)
        visit_id = _visit_id(body)
        ack()
        t = t_of(context)
        card = visit_lists.card_of(deps.session_factory, visit_id)
        coordinators.require_region(deps.coordinator_scope(user_id), card.region_id)
        line = t(
            "desk.actuals.visit",
            visitor=f"<@{card.visitor_id}>",
            host=b.escape(card.host_library_name),
            date=day_text(card.chosen_date, t),
        )
        view = views.actuals_modal(t, visit_id=visit_id, title_line=line, estimate=money(card.cost.total, t))
        client.views_open(trigger_id=body["trigger_id"], view=view)

    @app.view(ids.ACTUALS_VIEW)
    def on_actuals(
        ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext, client: WebClient
    ) -> None:
        user_id = body["user"]["id"]
        require(user_id)
        t = t_of(context)
        visit_id = ids.row_id(view.get("private_metadata"))
        if visit_id is None:
            raise NotFound()
        values = view.get("state", {}).get("values", {})
        try:
            result = costs.record_actuals(
                deps.session_factory,
                visit_id,
                actor=user_id,
                is_coordinator=deps.coordinator_scope(user_id),
                km_text=_value(values, ids.DESK_KM),
                tickets_text=_value(values, ids.DESK_TICKETS),
                accommodation_text=_value(values, ids.DESK_ACCOMMODATION),
                now=deps.now(),
            )
        except InvalidInput as exc:
            ack(response_action="errors", errors=_errors(exc, t))
            return
        text = t(
            "desk.actuals.saved",
            km=result.km,
            allowance=money(result.kilometre_allowance, t),
            tickets=money(result.tickets, t),
            accommodation=money(result.accommodation, t),
            total=money(result.total, t),
        )
        ack(response_action="update", view=views.saved_view(t, text))
        refresh_visit(visit_id)
        refresh_home(client, user_id, context)

    # --- Adding a coordinator ---------------------------------------------------------------------
    @app.action(ids.OPEN_ADD_COORDINATOR)
    def on_open_coordinator(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        user_id = body["user"]["id"]
        require(user_id)
        ack()
        choices = appointments.manageable_regions(
            deps.session_factory,
            deps.coordinator_scope(user_id),
            actor=user_id,
            configured=deps.settings.coordinator_user_ids,
        )
        if not choices:  # their region is gone: nothing they could pick
            raise NotAllowed("desk.no_region")
        view = views.coordinator_modal(t_of(context), regions=choices)
        client.views_open(trigger_id=body["trigger_id"], view=view)

    @app.view(ids.COORDINATOR_VIEW)
    def on_coordinator(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
        user_id = body["user"]["id"]
        require(user_id)
        t = t_of(context)
        values = view.get("state", {}).get("values", {})
        new_user = _value(values, ids.DESK_USER)
        region = _value(values, ids.DESK_REGION)
        region_id = ids.row_id(region)
        if not new_user or region_id is None:
            ack(response_action="errors", errors={ids.DESK_USER: t("desk.error.user")})
            return
        if not a_person(deps.directory, new_user):  # a tampered id, a bot, a deactivated account
            ack(response_action="errors", errors={ids.DESK_USER: t("desk.error.not_a_person")})
            return
        resent: list[topics.Resent] = []
        try:
            changed = appointments.add_coordinator(
                deps.session_factory,
                actor=user_id,
                is_coordinator=deps.coordinator_scope(user_id),
                user_id=new_user,
                region_id=region_id,
                now=deps.now(),
                configured=deps.settings.coordinator_user_ids,
                default_region_key=deps.settings.default_region,
                resent=resent,
            )
        except (NotAllowed, Conflict) as exc:
            ack(response_action="errors", errors={ids.DESK_REGION: t(exc.key, **exc.params)})
            return
        deps.coordinators.changed()
        ack(
            response_action="update",
            view=views.saved_view(t, t("desk.coordinator.added", user=f"<@{new_user}>")),
        )
        resend_suggestions(resent)
        if changed:  # added, or moved from another region (whose visits they no longer fund)
            show_waiting_funding(int(region), changed=new_user)

    def show_waiting_funding(region_id: int, *, changed: str) -> None:
        """When a region's coordinators change, the visits whose funding waits there are shown
        again: a new coordinator is asked at once (they may be the only one who can decide some),
        and everyone's messages gain or drop the "nobody can decide the funding" note. So are the
        open visits on which the `changed` coordinator has a funding message: if they no longer
        coordinate its region, their copy loses the funding and desk buttons."""
        notifier = deps.extras.get("visit_notifier")
        publish = getattr(notifier, "publish", None)
        if not callable(publish):
            return
        waiting = visit_lists.waiting_for_funding(deps.session_factory, region_id)
        theirs = visit_lists.with_funding_message(deps.session_factory, changed)
        for visit_id in dict.fromkeys(waiting + theirs):
            try:
                card = visit_lists.card_of(deps.session_factory, visit_id)
                publish(visit_card.Change(card, "refresh", "", None, changed=False))
            except Exception:
                log.warning("visit %s: could not show it to the new coordinator", visit_id, exc_info=True)

    def resend_suggestions(resent: list[topics.Resent]) -> None:
        """The pending suggestions the coordinators' change owes to new ones (they had no DM to
        decide them from) go out now; what fails is left for the sweep."""
        if not resent:
            return
        notifier = deps.extras.get("suggestion_notifier")
        show = getattr(notifier, "show", None)
        if not callable(show):
            return  # the rows stay claimed; the sweep takes them over when the claim expires
        for item in resent:
            show(item.suggestion_id, item.owed, done=item.done)

    # --- Removing a coordinator -------------------------------------------------------------------
    @app.action(ids.OPEN_REMOVE_COORDINATOR)
    def on_open_remove(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        user_id = body["user"]["id"]
        require(user_id)
        ack()
        names = dict(coordinators.regions(deps.session_factory))
        listed = [
            (c.user_id, names.get(c.region_id, "–") if c.region_id else "–", c.configured)
            for c in deps.coordinators.all()
        ]
        view = views.remove_coordinator_modal(t_of(context), listed=listed)
        client.views_open(trigger_id=body["trigger_id"], view=view)

    @app.view(ids.REMOVE_COORDINATOR_VIEW)
    def on_remove(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
        user_id = body["user"]["id"]
        require(user_id)
        t = t_of(context)
        values = view.get("state", {}).get("values", {})
        gone = _value(values, ids.DESK_USER)
        if not gone:
            ack(response_action="errors", errors={ids.DESK_USER: t("desk.error.person")})
            return
        configured = deps.settings.coordinator_user_ids
        resent: list[topics.Resent] = []
        try:
            region_id = appointments.remove_coordinator(
                deps.session_factory,
                actor=user_id,
                is_coordinator=deps.coordinator_scope(user_id),
                user_id=gone,
                configured=configured,
                now=deps.now(),
                default_region_key=deps.settings.default_region,
                resent=resent,
            )
        except (NotAllowed, Conflict) as exc:
            ack(response_action="errors", errors={ids.DESK_USER: t(exc.key, **exc.params)})
            return
        deps.coordinators.changed()
        key = "desk.coordinator.moved_back" if gone in configured else "desk.coordinator.removed"
        ack(response_action="update", view=views.saved_view(t, t(key, user=f"<@{gone}>")))
        resend_suggestions(resent)
        # If nobody else may decide them now, the messages say so; theirs lose their buttons.
        show_waiting_funding(region_id, changed=gone)


def home_blocks(deps: Deps, user_id: str, t: Translator) -> list[b.Block]:
    """The coordinator section of App Home (empty for everyone else)."""
    if not deps.is_coordinator(user_id):
        return []
    region_id = deps.coordinators.region_of(user_id)
    if region_id is None:
        return [b.section(t("desk.no_region"))]
    data = reports.overview(
        deps.session_factory, region_id, today=deps.now().astimezone(deps.settings.tz).date()
    )
    return views.home_section(data, t, command=deps.settings.vertais_command)
