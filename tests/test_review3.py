"""Review 3 findings: each test names what a person sees when the fault bites (all fixed)."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot import ids
from bot.sandbox.harness import Sandbox
from db.models import PairGroup
from tests.concurrency import wait_until_waiting_for_a_lock
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


# --- Forged but correctly signed payloads -------------------------------------------------

ODD_METADATA: list[object] = [5, 1.5, True, ["x"], {"programme_id": "1"}]
MODALS = [ids.GOAL_MODAL, ids.AGREEMENT_MODAL, ids.JOIN_MODAL, ids.SETTINGS_MODAL]


@pytest.mark.parametrize("callback_id", MODALS)
@pytest.mark.parametrize("metadata", ODD_METADATA, ids=repr)
def test_a_modal_with_metadata_slack_never_carried_is_answered_as_out_of_date(
    sandbox: Sandbox, callback_id: str, metadata: object
) -> None:
    from tests.surface_helpers import every_logger_at

    sandbox.join("U001")
    view = {"id": "VFORGED", "callback_id": callback_id, "private_metadata": metadata}
    with every_logger_at(logging.WARNING) as logs:
        response = sandbox.people.submit("U001", view, {})
        sandbox.settle()
    assert response.status < 500
    assert logs.at_least(logging.ERROR) == []


ODD_VALUES = ["1:0", "1:", ":1", "1:1:1", "2147483647:1", "1:2147483647", "1:99", "x:1", ""]
NEW_BUTTONS = [
    ids.PICK_SLOT,
    ids.TIME_DOESNT_WORK,
    ids.ADD_TO_CALENDAR,
    f"{ids.KEEP_MEETING}_2",
    f"{ids.KEEP_MEETING}_9",
    ids.KEEP_MEETING_END,
    ids.PULSE_OPEN,
    ids.HOW_TO_COACH,
    ids.HOME_WORKING_HOURS,
]


@pytest.mark.parametrize("action_id", NEW_BUTTONS)
def test_meeting_keep_and_pulse_buttons_with_odd_values_are_answered(
    sandbox: Sandbox, action_id: str
) -> None:
    from tests.cycle_helpers import MONDAY_9, go_to
    from tests.surface_helpers import every_logger_at

    for user in FOUR:
        sandbox.join(user)
    go_to(sandbox, MONDAY_9)
    sandbox.tick()
    sandbox.settle()
    with sandbox.deps.unit_of_work() as session:
        group = session.scalars(select(PairGroup.id).order_by(PairGroup.id)).first()
    values = [*ODD_VALUES, f"{group}:99", f"{group}:0", f"{group}:1", f"{group}:2147483647"]
    with every_logger_at(logging.WARNING) as logs:
        statuses = [
            sandbox.people.click(
                "U001", action_id, value=v, channel_id="DFORGED", message_ts="1.0"
            ).status
            for v in values
        ]
        sandbox.settle()
    assert all(s < 500 for s in statuses), statuses
    assert logs.at_least(logging.ERROR) == []


# --- A round closing while a member leaves (PostgreSQL: the close reads standings, then
# writes them by id) ---------------------------------------------------------------------


def test_someone_who_leaves_while_the_round_closes_stays_left_and_is_not_told_they_are_paused(
    sandbox: Sandbox,
) -> None:

    from sqlalchemy import update

    from bot.services.rounds import MISSED_ROUNDS_BEFORE_PAUSE
    from db.models import Member
    from tests.cycle_helpers import MONDAY_9, go_to, next_week

    engine = sandbox.engine
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite: the round start holds the database's write lock; no interleaving")
    for user in FOUR:
        sandbox.join(user)
    go_to(sandbox, MONDAY_9)
    sandbox.tick()  # round 1: intros out; nobody answers
    sandbox.settle()
    silent = "U001"
    with sandbox.deps.unit_of_work() as session:  # one more silence pauses U001
        session.execute(
            update(Member)
            .where(Member.slack_user_id == silent)
            .values(missed_streak=MISSED_ROUNDS_BEFORE_PAUSE - 1)
        )
    go_to(sandbox, next_week(MONDAY_9))
    # Hold the round start between reading everyone's standing and writing it: the close's
    # first write to `rounds` waits on a lock another connection holds. U001 leaves
    # PeerCoach meanwhile, committed before the round writes.
    _hold_round_start_at(sandbox, "UPDATE", lambda: _leave(sandbox, silent))

    with sandbox.deps.unit_of_work() as session:
        status = session.scalar(select(Member.status).where(Member.slack_user_id == silent))
    assert status == "left"
    assert not any("paused" in m.text.lower() for m in dms_to(sandbox, silent))


def _hold_round_start_at(sandbox: Sandbox, statement: str, meanwhile) -> None:  # type: ignore[no-untyped-def]
    """Run the scheduler's tick in a thread, held (PostgreSQL) at the first `statement` on
    the `rounds` table by another connection's table lock; run `meanwhile` while it waits."""
    import threading

    from sqlalchemy import text

    engine = sandbox.engine
    with engine.connect() as blocker:
        blocker.execute(text("LOCK TABLE rounds IN EXCLUSIVE MODE"))
        ticking = threading.Thread(target=sandbox.tick)
        ticking.start()
        wait_until_waiting_for_a_lock(engine, ticking.is_alive, query_like=f"{statement} rounds%")
        meanwhile()
        blocker.rollback()  # releases the lock
    ticking.join()
    sandbox.settle()


@pytest.mark.parametrize("goes", [_leave, _erase], ids=["left", "erased"])
def test_someone_who_leaves_while_a_round_starts_gets_no_intro(sandbox: Sandbox, goes) -> None:  # type: ignore[no-untyped-def]
    from tests.cycle_helpers import MONDAY_9, go_to

    if sandbox.engine.dialect.name != "postgresql":
        pytest.skip("SQLite: the round start holds the database's write lock")
    for user in FOUR:
        sandbox.join(user)
    go_to(sandbox, MONDAY_9)
    _hold_round_start_at(sandbox, "INSERT INTO", lambda: goes(sandbox, "U001"))
    sandbox.tick()  # sends what was queued

    intro_people = {
        u for m in intros(sandbox) for u in sandbox.emulator.conversation_members(m.channel)
    }
    assert intro_people and "U001" not in intro_people
    with sandbox.deps.unit_of_work() as session:  # nor is their Slack id stored again
        from db.models import GroupSeat

        assert "U001" not in session.scalars(select(GroupSeat.slack_user_id)).all()


def test_a_rescue_after_the_checkin_still_introduces_the_new_pair_without_an_error(
    sandbox: Sandbox,
) -> None:
    from tests.cycle_helpers import go_to
    from tests.surface_helpers import every_logger_at
    from tests.test_rescue import CHECKIN_TIME

    start_with_two_pairs(sandbox)
    sandbox.tick()
    go_to(sandbox, CHECKIN_TIME + timedelta(days=2))  # past the check-in, round still open
    sandbox.tick()
    third = next(u for u in FOUR if u not in ("U001", partner_of(sandbox, "U001")))
    with every_logger_at(logging.WARNING) as logs:
        drop(sandbox, partner_of(sandbox, "U001"))
        drop(sandbox, partner_of(sandbox, third))
    assert logs.at_least(logging.ERROR) == []
    rescued = intros(sandbox)[2:]
    assert len(rescued) == 1
    assert "Pick this time" not in str(rescued[0].blocks) or "suit" in str(rescued[0].blocks)


def test_someone_who_joins_a_waiting_pair_gets_times_inside_their_working_hours_too(
    sandbox: Sandbox,
) -> None:
    from sqlalchemy import update

    from bot.domain.meetings import MeetingSlot
    from bot.services.rounds import start_round
    from db.models import GroupSeat, Member
    from tests.cycle_helpers import MONDAY_9, first_programme, go_to

    six = ["U001", "U002", "U003", "U004", "U005", "U006"]
    for user in six:
        sandbox.join(user)
    go_to(sandbox, MONDAY_9)
    # Everyone works 09:00-17:00 UTC but the one who will join a waiting pair: evenings.
    with sandbox.deps.unit_of_work() as session:
        programme = first_programme(session)
        start_round(session, programme, now=sandbox.now(), period_key="p", kind="scheduled")
        first_group = session.scalars(select(PairGroup).order_by(PairGroup.id)).first()
        assert first_group is not None
        gone, joiner = (s.slack_user_id for s in first_group.seats)
        session.execute(
            update(Member)
            .where(Member.slack_user_id == joiner)
            .values(work_start_minute=20 * 60, work_end_minute=23 * 60)
        )
    sandbox.emulator.add_user(gone, deleted=True)  # their account was deactivated meanwhile

    sandbox.delivery.run()

    with sandbox.deps.unit_of_work() as session:
        trio = session.scalars(
            select(PairGroup)
            .join(GroupSeat)
            .where(GroupSeat.slack_user_id == joiner)
            .where(PairGroup.id != first_group.id)
        ).one()
        slots = [MeetingSlot.model_validate(s) for s in trio.slots]
    assert slots
    for slot in slots:
        inside = slot.start.hour >= 20 and slot.start.hour * 60 + slot.start.minute + 30 <= 23 * 60
        assert inside or joiner in dict(slot.costs), (slot, joiner)


def test_someone_rescued_once_and_left_alone_again_can_be_a_rescue_partner_without_an_error(
    sandbox: Sandbox,
) -> None:
    from tests.cycle_helpers import MONDAY_9, go_to, press
    from tests.surface_helpers import every_logger_at

    six = ["U001", "U002", "U003", "U004", "U005", "U006"]
    for user in six:
        sandbox.join(user, level=3, goals=["delegation"])
    go_to(sandbox, MONDAY_9)
    sandbox.tick()
    sandbox.settle()

    def members(message) -> set[str]:  # type: ignore[no-untyped-def]
        return set(sandbox.emulator.conversation_members(message.channel))

    def latest_intro(user: str):  # type: ignore[no-untyped-def]
        return [m for m in intros(sandbox) if user in members(m)][-1]

    def cant_make_it(user: str) -> None:
        press(sandbox, user, ids.CANT_MAKE_IT, latest_intro(user))
        sandbox.settle()
        sandbox.tick()

    first_pairs = [members(m) for m in intros(sandbox)]
    (a, b), (c, d), (e, f) = (sorted(p) for p in first_pairs)
    cant_make_it(a)  # b is alone; nobody free yet
    cant_make_it(c)  # d is alone: d and b are the new pair
    assert members(intros(sandbox)[-1]) == {b, d}
    cant_make_it(b)  # in the new pair: d is alone again, nobody free
    with every_logger_at(logging.WARNING) as logs:
        cant_make_it(e)  # f is alone: d is free, rescued once already

    assert logs.at_least(logging.ERROR) == []
    assert members(intros(sandbox)[-1]) == {d, f}
    assert "try again" not in " ".join(str(r) for r in sandbox.emulator.responses).lower()


def test_cant_make_it_pressed_on_a_closed_rounds_intro_changes_nothing_and_tells_nobody(
    sandbox: Sandbox,
) -> None:
    from tests.cycle_helpers import MONDAY_9, button_value, go_to, next_week, press
    from tests.test_rescue import intro_of

    start_with_two_pairs(sandbox)
    sandbox.tick()
    old_intro = intro_of(sandbox, "U001")
    partner = partner_of(sandbox, "U001")
    group_value = button_value(old_intro, ids.CANT_MAKE_IT)
    press(sandbox, "U001", ids.WE_MET, old_intro)  # they met
    sandbox.settle()
    go_to(sandbox, next_week(MONDAY_9))
    sandbox.tick()  # round 2 starts: round 1 is closed (its buttons retire an hour later)
    sandbox.settle()
    with sandbox.deps.unit_of_work() as session:
        met_before = session.scalar(select(func.count()).where(PairGroup.met_at.is_not(None)))
    old_channel_before = len(sandbox.emulator.messages_in(old_intro.channel))

    # A copy of the intro from before the "we met" (another device, a slow client).
    sandbox.people.click(
        "U001",
        ids.CANT_MAKE_IT,
        value=group_value,
        channel_id=old_intro.channel,
        message_ts=old_intro.ts,
    )
    sandbox.settle()
    sandbox.tick()

    with sandbox.deps.unit_of_work() as session:
        met_after = session.scalar(select(func.count()).where(PairGroup.met_at.is_not(None)))
    assert met_after == met_before  # the closed round's figures stand
    new = sandbox.emulator.messages_in(old_intro.channel)[old_channel_before:]
    assert not any("can't make it" in m.text.lower() for m in new), [m.text for m in new]
    assert partner  # the partner is told nothing about a round that is over
    assert "That round is over" in str(sandbox.emulator.responses[-1])


def test_someone_who_leaves_before_the_feedback_pulse_goes_out_is_not_asked(
    sandbox: Sandbox,
) -> None:
    from tests.cycle_helpers import MONDAY_9, change_programme, first_programme, go_to
    from tests.test_feedback_pulse import pulse_asks

    for user in FOUR:
        sandbox.join(user)
    with sandbox.deps.unit_of_work() as session:
        change_programme(first_programme(session), pulse_every_cycles=1)
    go_to(sandbox, MONDAY_9)
    sandbox.tick()  # the round starts; its pulse DMs wait an hour
    sandbox.settle()
    _leave(sandbox, "U001")

    go_to(sandbox, MONDAY_9 + timedelta(hours=1, minutes=1))
    sandbox.tick()
    sandbox.settle()

    assert pulse_asks(sandbox, "U002")  # the others are asked
    assert pulse_asks(sandbox, "U001") == []  # not someone who left
