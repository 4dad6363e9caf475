"""Inviting a channel's members to opt in: recorded once per person, paced by the outbox."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.domain.enums import Unpairable
from bot.domain.messages import InviteNotice
from bot.domain.programme import FIRST_PROGRAMME_NAME
from bot.errors import UsageError
from bot.services.membership import programme_for
from bot.services.outbox import enqueue
from db.models import Member, MemberStatus

CHANNEL_REFERENCE = re.compile(r"^<#(?P<id>[CG][A-Z0-9]+)(\|[^>]*)?>$|^(?P<bare>[CG][A-Z0-9]+)$")


def parse_channel(argument: str) -> str:
    """The channel id from `#channel` as Slack escapes it (`<#C123|name>`), or a bare id.

    Raises UsageError when the argument names no channel.
    """
    match = CHANNEL_REFERENCE.match(argument.strip())
    if match is None:
        raise UsageError("Name a channel: `/peercoach admin invite #leaders`.")
    return match.group("id") or match.group("bare")


def queue_invitations(
    session: Session,
    *,
    team_id: str,
    inviter: str,
    user_ids: Iterable[str],
    now: datetime,
    unpairable: Mapping[str, Unpairable] | None = None,
    programme: int | str | None = None,
) -> tuple[list[int], int]:
    """Record an invitation to a programme (`programme`: its id or name; None: the first)
    for each person not already in it.

    `unpairable` (from bot.services.membership.why_not_pairable on Slack's records) names the
    accounts never invited: bots, the app itself, deactivated accounts, guests unless the
    programme includes them, people from other organisations; they count nowhere.
    Returns the outbox ids of the invitations recorded now, and how many people were skipped
    (already members, the inviter, or invited before: one invitation per person and
    programme, ever).
    """
    unpairable = unpairable or {}
    chosen = programme_for(session, team_id=team_id, programme=programme, now=now)
    in_programme = set(
        session.scalars(
            select(Member.slack_user_id).where(
                Member.programme_id == chosen.id,
                Member.status.in_([MemberStatus.ACTIVE.value, MemberStatus.PAUSED.value]),
            )
        )
    )
    queued: list[int] = []
    skipped = 0
    for user_id in dict.fromkeys(user_ids):
        if user_id in unpairable:
            continue
        if user_id in in_programme or user_id == inviter:
            skipped += 1
            continue
        message_id = enqueue(
            session,
            workspace_id=chosen.workspace_id,
            dedupe_key=f"invite:{user_id}"
            if chosen.name == FIRST_PROGRAMME_NAME
            else f"invite:p{chosen.id}:{user_id}",
            recipients=[user_id],
            notice=InviteNotice(
                inviter=inviter,
                programme="" if chosen.name == FIRST_PROGRAMME_NAME else chosen.name,
                programme_id=None if chosen.name == FIRST_PROGRAMME_NAME else chosen.id,
            ),
            now=now,
        )
        if message_id is None:
            skipped += 1
        else:
            queued.append(message_id)
    return queued, skipped
