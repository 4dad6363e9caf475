"""Reading people from Slack for the checks at invite and round time: who is a bot, the app
itself, deactivated, a guest or from another organisation (bot.services.membership decides)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

logger = logging.getLogger(__name__)

# Beyond this many people one paginated users.list (tier 2, 200 a page) costs fewer calls
# than a users.info (tier 4) each.
USERS_LIST_ABOVE = 200


def with_retry(sleep: Callable[[float], None], call: Callable[..., Any], **kwargs: Any) -> Any:
    """Call Slack, sleeping out HTTP 429 Retry-After; other errors raise SlackApiError."""
    while True:
        try:
            return call(**kwargs)
        except SlackApiError as error:
            if error.response.status_code != 429:
                raise
            sleep(float(error.response.headers.get("Retry-After", 1) or 1))


def app_user_id(client: WebClient, sleep: Callable[[float], None]) -> str | None:
    """The app's own bot user id (auth.test), or None if Slack would not say."""
    try:
        return str(with_retry(sleep, client.auth_test)["user_id"])
    except SlackApiError as error:
        logger.warning("auth.test failed: %s", error.response.get("error"))
        return None


def slack_users(
    client: WebClient, user_ids: Collection[str], sleep: Callable[[float], None]
) -> dict[str, dict[str, Any]]:
    """Slack's user records for these ids (users.info each, or users.list for many).

    People Slack does not know come back as `{"id": ..., "deleted": True}` (user_not_found);
    people it would not answer for (any other error) are left out: the caller keeps what it
    knew about them rather than dropping them on a passing failure.
    """
    wanted = set(user_ids)
    found: dict[str, dict[str, Any]] = {}
    if len(wanted) > USERS_LIST_ABOVE:
        cursor = None
        try:
            while True:
                page = with_retry(sleep, client.users_list, limit=200, cursor=cursor)
                found.update({u["id"]: u for u in page["members"] if u["id"] in wanted})
                cursor = (page.get("response_metadata") or {}).get("next_cursor")
                if not cursor:
                    break
        except SlackApiError as error:
            logger.warning("users.list failed: %s", error.response.get("error"))
            return found
        return found | {u: {"id": u, "deleted": True} for u in wanted - found.keys()}
    for user_id in sorted(wanted):
        try:
            found[user_id] = with_retry(sleep, client.users_info, user=user_id)["user"]
        except SlackApiError as error:
            code = error.response.get("error")
            if code == "user_not_found":
                found[user_id] = {"id": user_id, "deleted": True}
            else:
                logger.warning("users.info failed for %s: %s", user_id, code)
    return found
