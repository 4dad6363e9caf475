"""Metric definitions on hand-computed cases, and the k-anonymity rule."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot import ids
from bot.sandbox.harness import Sandbox
from bot.services.metrics import Figure, count, cycle_figures, membership_figures, rate
from db.models import Programme
from tests.cycle_helpers import MONDAY_9, go_to, intros, press
from tests.test_rounds import open_reflection_modal, reflection_values


def test_figures_from_fewer_than_five_people_are_suppressed() -> None:
    assert count(4).shown() == "fewer than 5" and count(5).shown() == "5"
    assert count(0).shown() == "fewer than 5"
    assert rate(4, 100).shown() == "fewer than 5"  # only four people behind the numerator
    assert rate(5, 10).shown() == "50%" and rate(5, 10).export() == 0.5
    assert Figure(3.25, 6, "average").shown() == "3.2" and Figure(4.0, 4, "average").export() == (
        "fewer than 5"
    )


def programme_id(sandbox: Sandbox) -> int:
    with sandbox.deps.unit_of_work() as session:
        return session.scalar(select(Programme.id).order_by(Programme.id))


def test_one_cycle_computed_by_hand(sandbox: Sandbox) -> None:
    users = [f"U{n:03d}" for n in range(1, 13)]  # 12 people: 6 pairs
    for user in users:
        sandbox.join(user)
    go_to(sandbox, MONDAY_9)
    sandbox.tick()
    pairs = intros(sandbox)
    # 5 of the 6 pairs meet (one says so by button, four by a reflection from both members).
    first = pairs[0]
    press(sandbox, sandbox.emulator.conversation_members(first.channel)[0], ids.WE_MET, first)
    usefulness = iter(["5", "4", "4", "3", "5", "3", "2", "4"])
    for pair in pairs[1:5]:
        for person in sandbox.emulator.conversation_members(pair.channel):
            view = open_reflection_modal(sandbox, person)
            sandbox.people.submit(person, view, reflection_values(next(usefulness), None, "Try X"))
    sandbox.settle()
    # One member leaves before the figures are read.
    sandbox.people.command("U012", "leave")
    sandbox.people.click("U012", ids.LEAVE_CONFIRM, channel_id="C1", message_ts="1.1")
    sandbox.settle()

    with sandbox.deps.unit_of_work() as session:
        [cycle] = cycle_figures(session, programme_id(sandbox))
        members = membership_figures(session, programme_id(sandbox))
    assert cycle.paired.shown() == "12" and cycle.eligible.shown() == "12"
    assert cycle.groups == 6
    assert cycle.met_rate.value == 5 / 6 and cycle.met_rate.shown() == "83%"
    assert cycle.reflection_rate.value == 8 / 12 and cycle.reflection_rate.shown() == "67%"
    assert cycle.avg_usefulness.value == 30 / 8 and cycle.avg_usefulness.shown() == "3.8"
    assert cycle.commitments_made.shown() == "8"
    assert cycle.commitments_done.shown() == "fewer than 5"  # nobody has answered yet
    assert cycle.joined.shown() == "fewer than 5"  # all joined before the round started
    assert (members.active.shown(), members.left.shown()) == ("11", "fewer than 5")


def test_one_small_commitment_cell_hides_the_whole_breakdown() -> None:
    from bot.services.metrics import _commitment_breakdown

    assert [f.shown() for f in _commitment_breakdown({"done": 5, "partly": 5, "not_yet": 6})] == [
        "5",
        "5",
        "6",
    ]
    # Not-yet has nobody: it could be worked out from the total and the others, so all hide.
    assert {f.shown() for f in _commitment_breakdown({"done": 5, "partly": 5})} == {"fewer than 5"}


def test_repeat_pairs_and_commitment_follow_through_over_two_cycles(sandbox: Sandbox) -> None:
    users = [f"U{n:03d}" for n in range(1, 17)]
    for user in users:
        sandbox.join(user)
    go_to(sandbox, MONDAY_9)
    sandbox.tick()
    for pair in intros(sandbox):
        for person in sandbox.emulator.conversation_members(pair.channel):
            view = open_reflection_modal(sandbox, person)
            sandbox.people.submit(person, view, reflection_values("4", None, "Delegate more"))
    sandbox.settle()
    go_to(sandbox, MONDAY_9 + timedelta(weeks=1))
    sandbox.tick()
    answers = [ids.COMMITMENT_DONE] * 5 + [ids.COMMITMENT_PARTLY] * 5 + [ids.COMMITMENT_NOT_YET] * 6
    for user, answer in zip(users, answers, strict=True):
        question = next(
            m
            for m in sandbox.emulator.messages
            if "committed to" in m.text
            and sandbox.emulator.conversation_members(m.channel) == (user,)
        )
        press(sandbox, user, answer, question)
    sandbox.settle()

    with sandbox.deps.unit_of_work() as session:
        first, second = cycle_figures(session, programme_id(sandbox))
    assert first.commitments_made.shown() == "16"
    assert (
        first.commitments_done.shown(),
        first.commitments_partly.shown(),
        first.commitments_not_yet.shown(),
    ) == ("5", "5", "6")
    assert second.repeat_pairs.value == 0 and first.repeat_pairs.value == 0
