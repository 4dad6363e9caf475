"""A pause that ends is resumed once, and never over a newer pause (PostgreSQL: a real second
connection holds the newer pause while the resume runs)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from bot.sandbox.harness import Sandbox
from bot.services import membership
from db.models import Member, MemberStatus
from tests.concurrency import wait_until_waiting_for_a_lock
from tests.cycle_helpers import MONDAY_9, go_to


def test_someone_who_pauses_again_while_their_old_pause_ends_stays_paused(
    sandbox: Sandbox,
) -> None:
    """U001's week-long pause has ended; just as a status command (or the round) resumes the
    programme's members, U001 pauses again for two weeks. The resume must not overwrite that
    newer pause: U001 stays paused until the new date."""
    engine = sandbox.engine
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite: one write lock serializes the two; no interleaving to arrange")
    sandbox.join("U001")
    sandbox.join("U002")
    go_to(sandbox, MONDAY_9)
    sandbox.people.command("U001", "pause 1 week")
    sandbox.settle()
    later = MONDAY_9 + timedelta(weeks=2)
    new_end = later + timedelta(weeks=2)
    with sandbox.deps.unit_of_work() as session:
        programme_id, paused_until = session.execute(
            select(Member.programme_id, Member.paused_until).where(Member.slack_user_id == "U001")
        ).one()
    assert paused_until is not None and paused_until <= later  # the old pause is over

    resumed: list[list[str]] = []
    with engine.connect() as newer_pause:
        # The newer pause, written and not yet committed: it holds U001's row.
        newer_pause.execute(
            update(Member)
            .where(Member.slack_user_id == "U001")
            .values(paused_until=new_end, updated_at=later)
        )

        def resume() -> None:
            with sandbox.deps.unit_of_work() as session:
                resumed.append(
                    membership.resume_due_members(session, programme_id=programme_id, now=later)
                )

        resuming = threading.Thread(target=resume)
        resuming.start()
        wait_until_waiting_for_a_lock(engine, resuming.is_alive)  # for U001's row
        newer_pause.commit()
    resuming.join()

    assert resumed == [[]]
    with sandbox.deps.unit_of_work() as session:
        status, until = session.execute(
            select(Member.status, Member.paused_until).where(Member.slack_user_id == "U001")
        ).one()
    assert (status, until) == (MemberStatus.PAUSED.value, new_end)
