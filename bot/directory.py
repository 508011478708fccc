"""The Slack implementation of the Directory port: who is this user, which locale do they use."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from services.common.ports import UserInfo


class SlackDirectory:
    def __init__(self, client: WebClient) -> None:
        self.client = client

    def user_info(self, user_id: str) -> UserInfo | None:
        try:
            response = self.client.users_info(user=user_id, include_locale=True)
        except SlackApiError as exc:
            if exc.response.get("error") in ("user_not_found", "account_inactive"):
                return None
            raise
        user = response.get("user") or {}
        profile = user.get("profile") or {}
        name = profile.get("display_name") or profile.get("real_name") or user.get("real_name") or None
        return UserInfo(
            user_id=user_id,
            locale=user.get("locale"),
            display_name=name,
            deleted=bool(user.get("deleted")),
            is_bot=bool(user.get("is_bot")) or user_id == "USLACKBOT",
        )
