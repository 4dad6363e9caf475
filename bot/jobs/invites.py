"""Inviting a channel's members: read the channel from Slack, record invitations, send them
with a progress message to the admin who asked."""

from __future__ import annotations

from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.deps import Deps
from bot.domain.enums import OutboxKind, Unpairable
from bot.jobs.delivery import DeliveryReport
from bot.jobs.people import app_user_id, slack_users
from bot.jobs.rounds import make_delivery
from bot.services import invites
from bot.services.membership import (
    programme_for,
    settings_of_programme,
    why_not_pairable,
    workspace_for,
)

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
    progress_text: Callable[..., str],
    programme_id: int | None = None,
) -> None:
    """DM every member of a channel an invitation, keeping the admin's progress message
    up to date; `progress_text(sent, total, skipped, left_out=...)` words it (a view, passed
    in). `programme_id`: the programme invited to (None: the first). Bots, the app
    itself and deactivated accounts are skipped; so are guests (unless
    the programme includes them) and people from other organisations, counted as left out."""
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
        chosen = programme_for(session, team_id=team_id, programme=programme_id, now=now)
        include_guests = settings_of_programme(chosen).include_guests
        programme_id = chosen.id
    own_id = app_user_id(client, deps.sleep)
    unpairable: dict[str, Unpairable] = {}
    for person, record in slack_users(client, people, deps.sleep).items():
        reason = why_not_pairable(
            record, team_id=team_id, app_user_id=own_id, include_guests=include_guests
        )
        if reason is not None:
            unpairable[person] = reason
    # Bots and deactivated accounts are not people to count; guests and outsiders are.
    left_out = sum(r in (Unpairable.GUEST, Unpairable.EXTERNAL) for r in unpairable.values())
    with deps.unit_of_work() as session:
        queued, skipped = invites.queue_invitations(
            session,
            team_id=team_id,
            inviter=user_id,
            user_ids=people,
            now=now,
            unpairable=unpairable,
            programme=programme_id,
        )
        workspace_id = workspace_for(session, team_id, now=now).id
    total = len(queued)
    progress = client.chat_postMessage(
        channel=user_id, text=text(0, total, skipped, left_out=left_out)
    )

    def update(report: DeliveryReport) -> None:
        if report.sent % PROGRESS_EVERY == 0 or report.sent >= total:
            client.chat_update(
                channel=progress["channel"],
                ts=progress["ts"],
                text=text(report.sent, total, skipped, left_out=left_out),
            )

    report = make_delivery(deps).run(
        workspace_id=workspace_id, kinds=[OutboxKind.INVITE], on_sent=update
    )
    if total == 0 or report.sent % PROGRESS_EVERY:
        update(report)
