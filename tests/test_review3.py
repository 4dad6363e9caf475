"""Review 3 findings: each test names what a person sees when the fault bites. Tests of
faults left unfixed are marked xfail(strict=True) with the fault in the reason."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import func, select

from bot import ids
from bot.sandbox.harness import Sandbox
from db.models import PairGroup
from tests.cycle_helpers import dms_to, intros
from tests.test_rescue import FOUR, drop, partner_of, start_with_two_pairs


def _leave(sandbox: Sandbox, user: str) -> None:
    sandbox.people.command(user, "leave")
    sandbox.people.click(user, ids.LEAVE_CONFIRM, channel_id="D0", message_ts="1.2")
    sandbox.settle()


def _erase(sandbox: Sandbox, user: str) -> None:
    sandbox.people.command(user, "delete-my-data")
    sandbox.people.click(user, ids.DELETE_DATA_CONFIRM, channel_id="CGENERAL", message_ts="1.2")
    sandbox.settle()


def _rescue_pairs(sandbox: Sandbox) -> int:
    with sandbox.deps.unit_of_work() as session:
        return int(
            session.scalar(
                select(func.count()).select_from(PairGroup).where(PairGroup.rescue.is_(True))
            )
            or 0
        )


@pytest.mark.parametrize("goes", [_leave, _erase], ids=["left", "erased"])
def test_someone_who_left_is_never_offered_a_new_partner_when_their_partner_cant_make_it(
    sandbox: Sandbox, goes
) -> None:  # type: ignore[no-untyped-def]
    start_with_two_pairs(sandbox)
    sandbox.tick()  # the intros go out
    gone = partner_of(sandbox, "U001")
    third = next(u for u in FOUR if u not in ("U001", gone))
    waiting = partner_of(sandbox, third)
    drop(sandbox, third)  # `waiting` is alone and free for a rescue
    goes(sandbox, gone)  # then U001's partner leaves PeerCoach (or erases their data)
    dms_before = len(dms_to(sandbox, waiting))

    drop(sandbox, "U001")  # U001 can't make it: `gone` is "left alone"

    # Nobody is paired with the person who left: `waiting` gets no intro with a ghost.
    assert _rescue_pairs(sandbox) == 0
    assert len(intros(sandbox)) == 2
    assert len(dms_to(sandbox, waiting)) == dms_before
