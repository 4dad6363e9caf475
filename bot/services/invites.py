"""Inviting a channel's members to opt in: recorded once per person, paced by the outbox."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime

from slack_sdk import WebClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.services.membership import UsageError, workspace_for
from bot.services.outbox import enqueue
from bot.views.membership import invitation_message
from db.models import Member, MemberStatus

CHANNEL_REFERENCE = re.compile(r"^<#(?P<id>[CG][A-Z0-9]+)(\|[^>]*)?>$|^(?P<bare>[CG][A-Z0-9]+)$")


def parse_channel(argument: str) -> str:
    """The channel id from `#channel` as Slack escapes it (`<#C123|name>`), or a bare id."""
    match = CHANNEL_REFERENCE.match(argument.strip())
    if match is None:
        raise UsageError("Name a channel: `/peercoach admin invite #leaders`.")
    return match.group("id") or match.group("bare")


def channel_members(client: WebClient, channel: str) -> list[str]:
    """Every member of a channel, following Slack's pagination."""
    members: list[str] = []
    cursor = None
    while True:
        page = client.conversations_members(channel=channel, limit=200, cursor=cursor)
        members += page["members"]
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            return members


def queue_invitations(
    session: Session,
    *,
    team_id: str,
    inviter: str,
    channel: str,
    user_ids: Iterable[str],
    now: datetime,
) -> tuple[int, int]:
    """Record an invitation for each person not already in PeerCoach; (queued, skipped)."""
    workspace = workspace_for(session, team_id, now=now)
    in_programme = set(
        session.scalars(
            select(Member.slack_user_id).where(
                Member.workspace_id == workspace.id,
                Member.status.in_([MemberStatus.ACTIVE.value, MemberStatus.PAUSED.value]),
            )
        )
    )
    queued = skipped = 0
    for user_id in dict.fromkeys(user_ids):
        if user_id in in_programme or user_id == inviter:
            skipped += 1
            continue
        # One invitation per person and workspace, however often admins invite channels.
        if enqueue(
            session,
            workspace_id=workspace.id,
            kind="invite",
            dedupe_key=f"invite:{user_id}",
            recipients=[user_id],
            message=invitation_message(inviter),
            now=now,
        ):
            queued += 1
        else:
            skipped += 1
    return queued, skipped
