"""Recording messages before they are sent: the write side of the outbox."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.views.pairing import Rendered
from db.models import OutboxMessage


def commitment_key(reflection_id: int) -> str:
    """The dedupe key of the private follow-up about one reflection's commitment."""
    return f"commitment:reflection:{reflection_id}"


def enqueue(
    session: Session,
    *,
    workspace_id: int,
    dedupe_key: str,
    kind: str,
    recipients: Sequence[str],
    message: Rendered,
    now: datetime,
    group_id: int | None = None,
    channel_id: str | None = None,
) -> OutboxMessage | None:
    """Record a message to send; return None if one with this key was recorded already."""
    existing = session.scalar(
        select(OutboxMessage.id).where(
            OutboxMessage.workspace_id == workspace_id, OutboxMessage.dedupe_key == dedupe_key
        )
    )
    if existing is not None:
        return None
    entry = add_to_outbox(
        session,
        workspace_id=workspace_id,
        dedupe_key=dedupe_key,
        kind=kind,
        recipients=recipients,
        message=message,
        now=now,
        group_id=group_id,
        channel_id=channel_id,
    )
    session.flush()
    return entry


def add_to_outbox(
    session: Session,
    *,
    workspace_id: int,
    dedupe_key: str,
    kind: str,
    recipients: Sequence[str],
    message: Rendered,
    now: datetime,
    group_id: int | None = None,
    channel_id: str | None = None,
) -> OutboxMessage:
    """Record a message whose key the caller knows is new (the unique key still guards it)."""
    entry = OutboxMessage(
        workspace_id=workspace_id,
        dedupe_key=dedupe_key,
        kind=kind,
        group_id=group_id,
        recipients=list(recipients),
        channel_id=channel_id,
        text=message.text[:3000],
        blocks=message.blocks,
        status="pending",
        attempts=0,
        created_at=now,
        not_before=now,
    )
    session.add(entry)
    return entry
