"""The one error handler: typed domain errors become a short reply in the user's language;
anything unexpected gets a generic reply with an error id that is also logged."""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Sequence
from typing import Any

from slack_bolt import App, BoltContext, BoltRequest, BoltResponse
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.deps import Deps
from bot.i18n import Translator, translator
from bot.views import common
from bot.views.blocks import escape
from handlers.replies import SLACK_FAILURES, reply_to_user
from services.common.errors import DomainError

log = logging.getLogger("vertaisbot.errors")


def register(app: App, deps: Deps) -> None:
    @app.error
    def on_error(
        error: Exception,
        body: dict[str, Any],
        request: BoltRequest,
        response: BoltResponse | None,
        context: BoltContext,
        client: WebClient,
    ) -> BoltResponse | None:
        t = context.get("t") if context is not None else None
        if not isinstance(t, Translator):
            t = translator(deps.settings.default_language)
        if isinstance(error, DomainError):
            params = {k: escape(v) if isinstance(v, str) else v for k, v in error.params.items()}
            text = t(error.key, **params)
            log.info("domain error %s", error.key)
        elif is_slack_failure(error):
            # A Web API call after the ack failed (429, 5xx, a time-out, a lost connection): what
            # the person submitted was saved before it, so ask them to try again (a dead trigger_id
            # of views.open cannot be retried by the bot).
            text = t("error.slack_busy")
            log.warning("a Slack call failed after the ack: %s", _describe(error))
        else:
            error_id = secrets.token_hex(4)
            text = t("error.unexpected", error_id=error_id)
            log.error("unexpected error id=%s", error_id, exc_info=error)
        kind = body.get("type") or ("command" if "command" in body else "")
        if response is not None and kind != "block_actions":
            return _ack_with_error(kind, t, text)  # not acknowledged yet: the ack carries the answer
        try:
            reply_to_user(client, _respond_of(context), body, common.ephemeral(text), t)
        except Exception:
            log.warning("could not tell the user about an error", exc_info=True)
        return BoltResponse(status=200, body="") if response is not None else None


def is_slack_failure(error: BaseException) -> bool:
    """A failed call to Slack's Web API rather than a bug of ours."""
    return isinstance(error, SLACK_FAILURES)


def _describe(error: BaseException) -> str:
    if isinstance(error, SlackApiError):
        return str(error.response.get("error") or error.response.status_code)
    return type(error).__name__


def _respond_of(context: BoltContext | None) -> Any:
    return context.respond if context is not None else None


def _ack_with_error(kind: str, t: Translator, text: str) -> BoltResponse:
    headers: dict[str, str | Sequence[str]] = {"content-type": ["application/json;charset=utf-8"]}
    if kind == "command":
        return BoltResponse(status=200, body=json.dumps(common.ephemeral(text)), headers=headers)
    if kind == "view_submission":
        body = {"response_action": "push", "view": common.error_modal(t, text)}
        return BoltResponse(status=200, body=json.dumps(body), headers=headers)
    if kind == "block_suggestion":
        return BoltResponse(status=200, body=json.dumps({"options": []}), headers=headers)
    return BoltResponse(status=200, body="")
