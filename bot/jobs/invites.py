"""Inviting a channel's members: read the channel from Slack, record invitations, send them
with a progress message to the admin who asked."""

from __future__ import annotations

from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.deps import Deps
from bot.domain.enums import OutboxKind
from bot.jobs.delivery import DeliveryReport
from bot.jobs.rounds import make_delivery
from bot.services import invites
from bot.services.membership import workspace_for

PROGRESS_EVERY = 10  # update the admin's progress message every this many invitations


def channel_members(client: WebClient, channel: str) -> list[str]:
    """Every member of a channel, following Slack's pagination (conversations.members).

    Raises SlackApiError as Slack answers (e.g. not_in_channel, channel_not_found).
    """
    members: list[str] = []
    cursor = None
    while True:
        page = client.conversations_members(channel=channel, limit=200, cursor=cursor)
        members += page["members"]
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            return members


def invite_channel(
    deps: Deps,
    client: WebClient,
    *,
    team_id: str,
    user_id: str,
    channel: str,
    progress_text: Callable[[int, int, int], str],
) -> None:
    """DM every member of a channel an invitation, keeping the admin's progress message
    up to date; `progress_text(sent, total, skipped)` words it (a view, passed in)."""
    text = progress_text
    try:
        people = channel_members(client, channel)
    except SlackApiError as error:
        client.chat_postMessage(
            channel=user_id,
            text=f"I couldn't read that channel's members "
            f"(`{error.response.get('error')}`). Is PeerCoach in the channel?",
        )
        return
    now = deps.clock()
    with deps.unit_of_work() as session:
        queued, skipped = invites.queue_invitations(
            session, team_id=team_id, inviter=user_id, user_ids=people, now=now
        )
        workspace_id = workspace_for(session, team_id, now=now).id
    total = len(queued)
    progress = client.chat_postMessage(channel=user_id, text=text(0, total, skipped))

    def update(report: DeliveryReport) -> None:
        if report.sent % PROGRESS_EVERY == 0 or report.sent >= total:
            client.chat_update(
                channel=progress["channel"],
                ts=progress["ts"],
                text=text(report.sent, total, skipped),
            )

    report = make_delivery(deps).run(
        workspace_id=workspace_id, kinds=[OutboxKind.INVITE], on_sent=update
    )
    if total == 0 or report.sent % PROGRESS_EVERY:
        update(report)
