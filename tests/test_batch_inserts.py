"""The batch inserts a round start writes with (db.upsert.insert_rows and
insert_rows_returning_ids), on SQLite and on PostgreSQL (COPY there): what goes in comes back
as an INSERT would have stored it, in order, and a duplicate key fails as an INSERT fails."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import cast

import pytest
from sqlalchemy import Table, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.domain.enums import OutboxStatus
from bot.domain.messages import UnpairedNotice
from bot.services import membership
from bot.services.outbox import Outgoing, add_all_to_outbox
from db.models import OutboxMessage, PairGroup, Round
from db.upsert import insert_rows, insert_rows_returning_ids

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def a_round(session: Session) -> Round:
    workspace = membership.workspace_for(session, "TBATCH", now=NOW)
    programme = membership.programmes_of(session, workspace.id)[0]
    new_round = Round(
        workspace_id=workspace.id,
        programme_id=programme.id,
        period_key="p1",
        kind="scheduled",
        seed=1,
        started_at=NOW,
        nudge_at=NOW + timedelta(days=3),
        checkin_at=NOW + timedelta(days=6),
    )
    session.add(new_round)
    session.flush()
    return new_round


def test_queued_messages_come_back_as_queued_in_order_with_their_payload(
    session: Session,
) -> None:
    workspace_id = a_round(session).workspace_id
    messages = [
        Outgoing(dedupe_key=f"unpaired:{n}", recipients=[f"U{n:03d}", "U999"], notice=notice)
        for n, notice in enumerate([UnpairedNotice()] * 3)
    ]
    assert add_all_to_outbox(session, workspace_id=workspace_id, messages=messages, now=NOW) == 3
    session.commit()
    rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [r.dedupe_key for r in rows] == ["unpaired:0", "unpaired:1", "unpaired:2"]
    assert [r.recipients for r in rows] == [["U000", "U999"], ["U001", "U999"], ["U002", "U999"]]
    assert all(r.status == OutboxStatus.PENDING and r.attempts == 0 for r in rows)
    assert all(r.created_at == NOW and r.not_before == NOW for r in rows)
    assert all(r.payload == rows[0].payload and r.payload for r in rows)
    # The payload is stored encrypted, as the ORM stores it.
    stored = session.execute(text("SELECT payload FROM outbox")).scalars().all()
    assert all("unpaired" not in str(value) for value in stored)


def test_a_key_recorded_twice_fails_like_an_insert_and_stores_nothing(session: Session) -> None:
    workspace_id = a_round(session).workspace_id
    session.commit()
    twice = [Outgoing(dedupe_key="same", recipients=["U001"], notice=UnpairedNotice())] * 2
    with pytest.raises(IntegrityError):
        add_all_to_outbox(session, workspace_id=workspace_id, messages=twice, now=NOW)
    session.rollback()
    assert session.scalar(select(OutboxMessage.id)) is None


def test_new_groups_get_ids_in_the_order_given(session: Session) -> None:
    new_round = a_round(session)
    firsts = [f"U{n:03d}" for n in (7, 3, 9, 1, 5)]
    ids = insert_rows_returning_ids(
        session,
        cast(Table, PairGroup.__table__),
        [
            {"workspace_id": new_round.workspace_id, "round_id": new_round.id, "first_user_id": u}
            for u in firsts
        ],
    )
    session.commit()
    assert ids == sorted(ids) and len(set(ids)) == 5
    stored = dict(session.execute(select(PairGroup.id, PairGroup.first_user_id)).all())
    assert [stored[i] for i in ids] == firsts
    # Column defaults apply as for an INSERT (JSON lists, the pick version).
    group = session.get(PairGroup, ids[0])
    assert group is not None
    assert (group.reasons, group.prompt_ids, group.slots, group.pick_version) == ([], [], [], 0)


def test_nothing_to_insert_writes_nothing(session: Session) -> None:
    insert_rows(session, cast(Table, OutboxMessage.__table__), [])
    table = cast(Table, PairGroup.__table__)
    assert insert_rows_returning_ids(session, table, []) == []
    assert session.scalar(select(OutboxMessage.id)) is None
