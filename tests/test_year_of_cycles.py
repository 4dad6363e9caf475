"""A year of weekly rounds on a manual clock: people join, pause and leave through Slack."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import networkx as nx
import pytest
from sqlalchemy import select

from bot import ids
from bot.sandbox.harness import Sandbox
from bot.schedule import round_times_after
from bot.services.membership import schedule_of
from db.models import Round
from tests.cycle_helpers import first_programme, intros, press, set_schedule

pytestmark = pytest.mark.slow  # fifty-two rounds through Slack

LONDON = ZoneInfo("Europe/London")


def test_a_year_of_weekly_rounds_pairs_everyone_eligible_and_avoids_repeats(
    sandbox: Sandbox,
) -> None:
    rng = random.Random(7)
    goals = ["delegation", "feedback", "conflict", "strategy", "wellbeing"]
    active: set[str] = set()
    paused_until: dict[str, datetime] = {}
    left: set[str] = set()
    next_user = 1

    def join_new() -> None:
        nonlocal next_user
        user = f"U{next_user:03d}"
        next_user += 1
        sandbox.emulator.add_user(user, tz="Europe/London")
        sandbox.join(user, level=rng.randint(1, 5), goals=rng.sample(goals, 2))
        active.add(user)

    for _ in range(30):
        join_new()
    set_schedule(sandbox, timezone="Europe/London", hour=9, day_of_week=0)

    met_before: set[frozenset[str]] = set()
    round_time = sandbox.now()
    rounds_checked = repeat_free_rounds = 0
    for _week in range(52):
        with sandbox.deps.unit_of_work() as session:
            round_time = round_times_after(schedule_of(first_programme(session)), round_time)
        sandbox.clock.set(round_time - timedelta(hours=1))
        # Life happens during the week before the round, through slash commands.
        for user in rng.sample(sorted(active), 2):
            weeks = rng.randint(1, 3)
            sandbox.people.command(user, f"pause {weeks} weeks")
            active.discard(user)
            paused_until[user] = sandbox.now() + timedelta(weeks=weeks)
        if rng.random() < 0.3 and len(active) > 10:
            leaver = rng.choice(sorted(active))
            sandbox.people.command(leaver, "leave")
            sandbox.people.click(leaver, ids.LEAVE_CONFIRM, channel_id="CGENERAL", message_ts="1.1")
            sandbox.settle()
            active.discard(leaver)
            left.add(leaver)
        if rng.random() < 0.3:
            join_new()
        for user, until in list(paused_until.items()):
            if until <= round_time:
                active.add(user)
                del paused_until[user]

        sandbox.clock.set(round_time)
        before = len(intros(sandbox))
        report = sandbox.tick()
        assert len(report.rounds_started) == 1, report
        assert report.delivery.failed == 0, sandbox.emulator.calls[-3:]
        groups = [
            sandbox.emulator.conversation_members(m.channel) for m in intros(sandbox)[before:]
        ]
        paired = [u for g in groups for u in g]

        assert sorted(paired) == sorted(active), "everyone eligible paired, nobody else"
        assert not set(paired) & left and not set(paired) & set(paused_until)
        pairs = {frozenset((a, b)) for g in groups for a in g for b in g if a < b}
        fresh = nx.Graph(
            (a, b) for a in active for b in active if a < b and frozenset((a, b)) not in met_before
        )
        if len(active) % 2 == 0 and len(
            nx.max_weight_matching(fresh, maxcardinality=True)
        ) * 2 == len(active):
            rounds_checked += 1
            repeat_free_rounds += not (pairs & met_before)
        met_before |= pairs
        # Each group meets and says so (silent members would be paused after three rounds).
        for message in intros(sandbox)[before:]:
            member = sandbox.emulator.conversation_members(message.channel)[0]
            press(sandbox, member, ids.WE_MET, message)
        sandbox.settle()

    assert rounds_checked >= 10  # the check above must not be vacuous
    assert repeat_free_rounds == rounds_checked, "a repeat while a fresh pairing existed"

    with sandbox.deps.unit_of_work() as session:
        starts = list(session.scalars(select(Round.started_at).order_by(Round.started_at)))
    assert len(starts) == 52
    local_hours = {s.astimezone(LONDON).hour for s in starts}
    assert local_hours == {9}, "09:00 London time on both sides of the clock changes"
    offsets = {s.astimezone(LONDON).utcoffset() for s in starts}
    assert offsets == {timedelta(0), timedelta(hours=1)}
    assert all(s.astimezone(LONDON).weekday() == 0 for s in starts)
