"""Recording messages before they are sent: the write side of the one outbox.

Every message the app sends on its own (intros, nudges, check-ins, notices to partners,
commitment follow-ups, invitations, digests) is a row here first, keyed so it exists once;
`bot.jobs.delivery` sends it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table
from sqlalchemy.orm import Session

from bot.domain.enums import OutboxStatus
from bot.domain.messages import Notice, notice_to_payload
from db.models import OutboxMessage
from db.upsert import insert_or_ignore, insert_rows


def _row(
    *,
    workspace_id: int,
    dedupe_key: str,
    recipients: Sequence[str],
    notice: Notice,
    now: datetime,
    group_id: int | None,
    channel_id: str | None,
    not_before: datetime | None = None,
) -> dict[str, object]:
    return {
        "workspace_id": workspace_id,
        "dedupe_key": dedupe_key,
        "kind": notice.kind,
        "group_id": group_id,
        "recipients": list(recipients),
        "channel_id": channel_id,
        "payload": notice_to_payload(notice),
        "status": OutboxStatus.PENDING.value,
        "attempts": 0,
        "created_at": now,
        "not_before": not_before or now,
    }


def commitment_key(reflection_id: int) -> str:
    """The dedupe key of the private follow-up about one reflection's commitment."""
    return f"commitment:reflection:{reflection_id}"


def enqueue(
    session: Session,
    *,
    workspace_id: int,
    dedupe_key: str,
    recipients: Sequence[str],
    notice: Notice,
    now: datetime,
    group_id: int | None = None,
    channel_id: str | None = None,
) -> int | None:
    """Record a message to send once; return its id, or None if its key was recorded already.

    The (workspace, dedupe_key) unique key decides, so two requests racing to record the
    same notice (a double press) leave exactly one row.
    """
    return insert_or_ignore(
        session,
        OutboxMessage.__table__,  # type: ignore[arg-type]
        _row(
            workspace_id=workspace_id,
            dedupe_key=dedupe_key,
            recipients=recipients,
            notice=notice,
            now=now,
            group_id=group_id,
            channel_id=channel_id,
        ),
        conflict_columns=("workspace_id", "dedupe_key"),
    )


def add_to_outbox(
    session: Session,
    *,
    workspace_id: int,
    dedupe_key: str,
    recipients: Sequence[str],
    notice: Notice,
    now: datetime,
    group_id: int | None = None,
    channel_id: str | None = None,
    not_before: datetime | None = None,
) -> OutboxMessage:
    """Record a message whose key the caller knows is new, in the session's next flush;
    it is not sent before `not_before` (default: now).

    For batches (a round's intros); the unique key still guards it, failing the flush.
    """
    entry = OutboxMessage(
        **_row(
            workspace_id=workspace_id,
            dedupe_key=dedupe_key,
            recipients=recipients,
            notice=notice,
            now=now,
            group_id=group_id,
            channel_id=channel_id,
            not_before=not_before,
        )
    )
    session.add(entry)
    return entry


@dataclass(frozen=True)
class Outgoing:
    """One message of a batch for `add_all_to_outbox`."""

    dedupe_key: str
    recipients: Sequence[str]
    notice: Notice
    group_id: int | None = None
    channel_id: str | None = None
    not_before: datetime | None = None  # default: now


def add_all_to_outbox(
    session: Session, *, workspace_id: int, messages: Iterable[Outgoing], now: datetime
) -> int:
    """Record a batch of messages whose keys the caller knows are new, in one statement.

    Rows get ids in the order given (a round's intros go out in group order). Returns how
    many were recorded. The unique key still guards them: a key recorded already raises
    sqlalchemy.exc.IntegrityError and the caller's unit of work rolls back.
    """
    rows = [
        _row(
            workspace_id=workspace_id,
            dedupe_key=message.dedupe_key,
            recipients=message.recipients,
            notice=message.notice,
            now=now,
            group_id=message.group_id,
            channel_id=message.channel_id,
            not_before=message.not_before,
        )
        for message in messages
    ]
    insert_rows(session, cast(Table, OutboxMessage.__table__), rows)
    return len(rows)
