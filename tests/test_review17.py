"""Review 17 findings (faster round starts): each test names what a person sees when the fault
bites."""

from __future__ import annotations

import operator
import threading
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from bot import ids
from bot.jobs.rounds import TickReport
from bot.matching import PastGroup
from bot.sandbox.harness import Sandbox
from bot.services.rounds import HISTORY_ROUNDS, _prompts_seen, past_groups
from db.models import GroupSeat, Member, PairGroup, PromptShown, Round
from tests.concurrency import wait_until_waiting_for_a_lock
from tests.cycle_helpers import MONDAY_9, dms_to, go_to, next_week


@pytest.mark.parametrize("left_first", [True, False], ids=["left", "still-a-member"])
def test_someone_unpaired_last_round_can_erase_their_data_while_the_next_round_starts(
    sandbox: Sandbox, left_first: bool
) -> None:
    """U001 was left unpaired last round (and may have left PeerCoach since); they erase their
    data just as the next round starts. The erasure holds their membership and then rewrites
    last round's row (it names U001), which the round start has just closed. When the round
    start then share-locked every membership of its programme, U001's left one too, that was
    a deadlock: the person's erasure failed ("Sorry, something went wrong"). It now locks
    the active memberships only (everyone it seats was active). Still a member, U001 is
    seated by the round start, whose seat insert waits for the erasure's change of their
    Slack id while the erasure waits for last round's row: PostgreSQL ends one of the two,
    which runs again once the other committed (the tick's round attempts, the erasure's
    own)."""
    engine = sandbox.engine
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite: the round start holds the database's write lock; no interleaving")
    sandbox.join("U001", never=["U002", "U003"])
    sandbox.join("U002")
    sandbox.join("U003")
    go_to(sandbox, MONDAY_9)
    sandbox.tick()
    sandbox.settle()
    with sandbox.deps.unit_of_work() as session:
        assert session.scalars(select(Round.unmatched)).one() == ["U001"]
    if left_first:
        sandbox.people.command("U001", "leave")
        sandbox.people.click("U001", ids.LEAVE_CONFIRM, channel_id="D0", message_ts="1.2")
        sandbox.settle()
    sandbox.join("U004")
    go_to(sandbox, next_week(MONDAY_9))

    reports: list[TickReport] = []
    failures: list[BaseException] = []

    def run_tick() -> None:
        try:
            reports.append(sandbox.tick())
        except BaseException as error:  # reported by the assertion below
            failures.append(error)

    # Hold the round start once it has closed last round and planned this one: its insert of
    # the new groups waits on a table lock another connection holds.
    with engine.connect() as blocker:
        blocker.execute(text("LOCK TABLE pair_groups IN EXCLUSIVE MODE"))
        ticking = threading.Thread(target=run_tick)
        ticking.start()
        wait_until_waiting_for_a_lock(engine, ticking.is_alive)
        sandbox.people.command("U001", "delete-my-data")
        sandbox.people.click(
            "U001", ids.DELETE_DATA_CONFIRM, channel_id="CGENERAL", message_ts="1.2"
        )
        # The erasure waits too: for last round's row (before), for the round start (now).
        wait_until_waiting_for_a_lock(engine, lambda: sandbox.executor.pending > 0, waiting=2)
        blocker.rollback()  # the round start goes on
    ticking.join()
    sandbox.settle()

    assert not failures, failures
    assert reports and len(reports[0].rounds_started) == 1
    with sandbox.deps.unit_of_work() as session:
        assert "U001" not in session.scalars(select(Member.slack_user_id)).all()
    assert not any("went wrong" in m.text for m in dms_to(sandbox, "U001"))


def _past_groups_as_first_written(session: Session, programme_id: int) -> list[PastGroup]:
    """past_groups as it was before it read one row per group (bot/services/rounds.py at
    9ae8348): one row per seat, in seat order, grouped in Python."""
    recent = session.scalars(
        select(Round.id)
        .where(Round.programme_id == programme_id)
        .order_by(Round.started_at.desc(), Round.id.desc())
        .limit(HISTORY_ROUNDS)
    ).all()
    age = {round_id: position for position, round_id in enumerate(recent, start=1)}
    groups: dict[int, list[Any]] = {}
    for round_id, group_id, met, first, user_id in session.execute(
        select(
            PairGroup.round_id,
            PairGroup.id,
            PairGroup.met_at.is_not(None),
            PairGroup.first_user_id,
            GroupSeat.slack_user_id,
        )
        .join(GroupSeat, GroupSeat.group_id == PairGroup.id)
        .where(PairGroup.round_id.in_(recent or [-1]), GroupSeat.removed_at.is_(None))
        .order_by(PairGroup.id, GroupSeat.position)
    ):
        groups.setdefault(group_id, [age[round_id], bool(met), first]).append(user_id)
    history = [
        PastGroup(tuple(g[3:]), g[0], g[1], False, g[2]) for g in groups.values() if len(g) >= 5
    ]
    history.sort(key=operator.itemgetter(1))
    return history


def _weekly_rounds(sandbox: Sandbox, *, people: int, weeks: int) -> None:
    """`people` join (U001, U002, ...), then a round is due each Monday for `weeks` weeks."""
    for n in range(1, people + 1):
        sandbox.join(f"U{n:03d}")
    moment = MONDAY_9
    for _ in range(weeks):
        go_to(sandbox, moment)
        sandbox.tick()
        sandbox.settle()
        moment = next_week(moment)


def test_the_matcher_reads_the_same_history_as_before_trios_removed_seats_and_erasures(
    sandbox: Sandbox,
) -> None:
    """Three rounds of seven people (a trio each round); one person's seat taken out of a
    pair and another's out of a trio (the pair is no longer a pair), a meeting recorded, and
    someone erased: the history the matcher is given is the one it was given before, with
    each group's people in any order."""
    _weekly_rounds(sandbox, people=7, weeks=3)
    with sandbox.deps.unit_of_work() as session:
        groups = session.scalars(select(PairGroup).order_by(PairGroup.id)).all()
        pair = next(g for g in groups if len(g.seats) == 2)
        trio = next(g for g in groups if len(g.seats) == 3)
        pair.seats[0].removed_at = sandbox.now()
        trio.seats[1].removed_at = sandbox.now()
        groups[-1].met_at = sandbox.now()
    sandbox.people.command("U004", "delete-my-data")
    sandbox.people.click("U004", ids.DELETE_DATA_CONFIRM, channel_id="CGENERAL", message_ts="1.2")
    sandbox.settle()

    with sandbox.deps.unit_of_work() as session:
        programme_id = session.scalars(select(Round.programme_id)).first()
        assert programme_id is not None
        now = past_groups(session, programme_id)
        before = _past_groups_as_first_written(session, programme_id)
    assert len(now) == len(before) and any(len(g.members) == 3 for g in now)
    assert [g._replace(members=tuple(sorted(g.members))) for g in now] == [
        g._replace(members=tuple(sorted(g.members))) for g in before
    ]


def test_each_members_prompt_history_is_read_in_the_order_it_was_shown(
    sandbox: Sandbox,
) -> None:
    """Three rounds of five people (a trio each round), then what a round start reads of
    everyone's prompt history (one string per member on PostgreSQL, rows on SQLite): each
    member's prompts shown, oldest first, exactly as stored."""
    _weekly_rounds(sandbox, people=5, weeks=3)
    with sandbox.deps.unit_of_work() as session:
        programme_id = session.scalars(select(Round.programme_id)).first()
        assert programme_id is not None
        stored: dict[int, list[str]] = {}
        for member_id, prompt_id in session.execute(
            select(PromptShown.member_id, PromptShown.prompt_id).order_by(PromptShown.id)
        ):
            stored.setdefault(member_id, []).append(prompt_id)
        read = _prompts_seen(session, programme_id)
    # Every round seats everyone (a pair and a trio), two prompts each.
    assert len(stored) == 5 and {len(shown) for shown in stored.values()} == {6}
    assert read == stored
