"""The batch inserts a round start writes with (db.upsert.insert_rows and
insert_rows_returning_ids), on SQLite and on PostgreSQL (COPY there): what goes in comes back
as an INSERT would have stored it, in order, and a duplicate key fails as an INSERT fails."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import cast

import pytest
from sqlalchemy import Engine, Table, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.domain.enums import OutboxStatus
from bot.domain.messages import UnpairedNotice
from bot.services import membership
from bot.services.outbox import Outgoing, add_all_to_outbox
from db.models import OutboxMessage, PairGroup, Round
from db.session import DatabaseBusy, bounded_unit_of_work, make_session_factory
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


# Text COPY's own characters (tab, newline, backslash, its \N for NULL), a quote, and more
# than ASCII: stored and read back exactly, on both databases.
AWKWARD = 'tab\there\nline\\back \\N "q" é 日本 \r'


def test_awkward_text_and_json_come_back_exactly_as_given(session: Session) -> None:
    new_round = a_round(session)
    slots = [{"start": "2026-11-30T10:00:00+00:00", "note": AWKWARD, "none": None, "n": 1.5}]
    (group_id,) = insert_rows_returning_ids(
        session,
        cast(Table, PairGroup.__table__),
        [
            {
                "workspace_id": new_round.workspace_id,
                "round_id": new_round.id,
                "first_user_id": AWKWARD[:32],
                "reasons": [AWKWARD, "\\"],
                "slots": slots,
                "channel_id": None,
                "kept_from_id": None,
            }
        ],
    )
    add_all_to_outbox(
        session,
        workspace_id=new_round.workspace_id,
        messages=[
            Outgoing(
                dedupe_key=AWKWARD,
                recipients=[AWKWARD, ""],
                notice=UnpairedNotice(),
                channel_id="C\t\n\\",
                group_id=group_id,
            )
        ],
        now=NOW,
    )
    session.commit()
    group = session.get(PairGroup, group_id)
    assert group is not None
    assert (group.first_user_id, group.reasons, group.slots) == (
        AWKWARD[:32],
        [AWKWARD, "\\"],
        slots,
    )
    assert group.channel_id is None and group.kept_from_id is None
    message = session.scalars(select(OutboxMessage)).one()
    assert (message.dedupe_key, message.recipients, message.channel_id) == (
        AWKWARD,
        [AWKWARD, ""],
        "C\t\n\\",
    )
    assert message.group_id == group_id


def test_a_batch_insert_that_waits_out_a_requests_time_is_database_busy(
    session: Session, db: Engine
) -> None:
    """Inside a request's bounded unit of work, an insert that waits for another
    transaction's lock ends as DatabaseBusy (nothing stored), as an INSERT does."""
    if db.dialect.name != "postgresql":
        pytest.skip("SQLite: the busy timeout is the same executemany as before")
    workspace_id = a_round(session).workspace_id
    session.commit()
    row = [Outgoing(dedupe_key="same", recipients=["U001"], notice=UnpairedNotice())]
    with Session(db) as other:  # the same key, inserted and not yet committed
        add_all_to_outbox(other, workspace_id=workspace_id, messages=row, now=NOW)
        request_work = bounded_unit_of_work(make_session_factory(db), 0.2)
        with pytest.raises(DatabaseBusy), request_work as request:
            add_all_to_outbox(request, workspace_id=workspace_id, messages=row, now=NOW)
        other.rollback()
    assert session.scalar(select(OutboxMessage.id)) is None
