"""Coaching circles: the same small group for a season, a rotating challenge-bringer, new
circles with new people each season, and joiners and leavers handled mid-season."""

from __future__ import annotations

import re
from datetime import timedelta
from itertools import combinations

from sqlalchemy import func, select

from bot import ids
from bot.sandbox.harness import Sandbox
from bot.sandbox.slack_emulator import Message
from db.models import Circle, CircleSeat
from tests.cycle_helpers import MONDAY_9, dms_to, go_to, intros, press, set_schedule


def users(n: int, first: int = 1) -> list[str]:
    return [f"U{k:03d}" for k in range(first, first + n)]


def start_circles(sandbox: Sandbox, people: list[str], *, size: int, sessions: int) -> None:
    for n, user in enumerate(people):
        sandbox.join(user, level=2 + n % 3, goals=["delegation"])
    set_schedule(sandbox, format="circles", circle_size=size, season_sessions=sessions)


def run_session(sandbox: Sandbox, week: int) -> list[Message]:
    """Start the week's round; everyone's circle says it met (nobody is paused for silence)."""
    before = len(intros(sandbox))
    go_to(sandbox, MONDAY_9 + timedelta(weeks=week))
    sandbox.tick()
    started = intros(sandbox)[before:]
    for intro in started:
        members = sandbox.emulator.conversation_members(intro.channel)
        press(sandbox, members[0], ids.WE_MET, intro)
    sandbox.settle()
    return started


def circles_of(sandbox: Sandbox, started: list[Message]) -> set[frozenset[str]]:
    return {frozenset(sandbox.emulator.conversation_members(m.channel)) for m in started}


def bringer(intro: Message) -> str:
    found = re.search(r"This session <@(\w+)> brings a challenge", str(intro.blocks))
    assert found, "the intro names who brings a challenge"
    return found.group(1)


def test_a_circle_keeps_its_members_for_the_season_then_reforms_with_new_people(
    sandbox: Sandbox,
) -> None:
    people = users(9)
    start_circles(sandbox, people, size=3, sessions=3)

    season = [run_session(sandbox, week) for week in range(3)]
    first = circles_of(sandbox, season[0])
    assert len(first) == 3 and all(len(c) == 3 for c in first)
    assert [circles_of(sandbox, s) for s in season] == [first] * 3
    assert "session 1 of 3" in str(season[0][0].blocks)
    # The challenge seat rotates: in three sessions of a circle of three, each brings once.
    for circle in first:
        by_session = [
            bringer(next(m for m in s if circles_of(sandbox, [m]) == {circle})) for s in season
        ]
        assert sorted(by_session) == sorted(circle)

    new_season = circles_of(sandbox, run_session(sandbox, 3))
    met_before = {frozenset(p) for c in first for p in combinations(c, 2)}
    assert all(len(c) >= 3 for c in new_season)
    assert not any(frozenset(p) in met_before for c in new_season for p in combinations(c, 2))
    with sandbox.deps.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(Circle)) == 6


def test_ticking_twice_never_forms_a_season_twice(sandbox: Sandbox) -> None:
    start_circles(sandbox, users(6), size=3, sessions=4)
    go_to(sandbox, MONDAY_9)
    sandbox.tick()
    sandbox.tick()
    with sandbox.deps.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(Circle)) == 2
        assert session.scalar(select(func.count()).select_from(CircleSeat)) == 6


def test_a_mid_season_joiner_fills_a_gap_and_is_told_which_circle(sandbox: Sandbox) -> None:
    start_circles(sandbox, users(6), size=3, sessions=4)
    run_session(sandbox, 0)
    sandbox.join("U007", level=3, goals=["delegation"])

    started = run_session(sandbox, 1)
    sandbox.tick()

    placed = [m.text for m in dms_to(sandbox, "U007") if "there was room for you" in m.text]
    assert len(placed) == 1 and "session 2 of 4" in placed[0]
    joined = next(c for c in circles_of(sandbox, started) if "U007" in c)
    assert len(joined) == 4
    assert all(f"<@{u}>" in placed[0] for u in joined - {"U007"})


def test_a_mid_season_joiner_waits_for_the_next_season_when_every_circle_is_full(
    sandbox: Sandbox,
) -> None:
    start_circles(sandbox, users(10), size=5, sessions=3)
    run_session(sandbox, 0)
    sandbox.join("U011", level=3, goals=["delegation"])

    started = run_session(sandbox, 1)
    sandbox.tick()

    waiting = [m.text for m in dms_to(sandbox, "U011") if "Every coaching circle is full" in m.text]
    assert len(waiting) == 1
    assert not any("U011" in c for c in circles_of(sandbox, started))
    # The next season seats them.
    run_session(sandbox, 2)
    assert any("U011" in c for c in circles_of(sandbox, run_session(sandbox, 3)))


def leave(sandbox: Sandbox, user: str) -> None:
    sandbox.people.click(user, ids.LEAVE_CONFIRM, channel_id="D0", message_ts="1.2")
    sandbox.settle()


def test_a_circle_that_keeps_three_carries_on_after_someone_leaves(sandbox: Sandbox) -> None:
    start_circles(sandbox, users(8), size=4, sessions=4)
    first = circles_of(sandbox, run_session(sandbox, 0))
    leaver = "U001"
    leave(sandbox, leaver)

    after = circles_of(sandbox, run_session(sandbox, 1))

    assert after == {c - {leaver} for c in first}


def test_a_circle_left_with_two_is_merged_and_its_members_are_told(sandbox: Sandbox) -> None:
    start_circles(sandbox, users(6), size=3, sessions=4)
    first = circles_of(sandbox, run_session(sandbox, 0))
    leaver = "U001"
    remnant = next(c for c in first if leaver in c) - {leaver}
    leave(sandbox, leaver)

    after = circles_of(sandbox, run_session(sandbox, 1))
    sandbox.tick()

    assert after == {frozenset(set(users(6)) - {leaver})}
    for user in remnant:
        merged = [m.text for m in dms_to(sandbox, user) if "too small to carry on" in m.text]
        assert len(merged) == 1


def test_a_joiner_is_never_placed_beside_someone_on_their_never_pair_list(
    sandbox: Sandbox,
) -> None:
    start_circles(sandbox, users(6), size=3, sessions=4)
    run_session(sandbox, 0)
    sandbox.join("U007", level=3, goals=["delegation"], never=["U001"])

    started = run_session(sandbox, 1)

    joined = next(c for c in circles_of(sandbox, started) if "U007" in c)
    assert "U001" not in joined


def test_a_circles_programme_runs_beside_a_pairs_programme_without_mixing_people(
    sandbox: Sandbox,
) -> None:
    from tests.test_programmes import (
        ADMIN,
        DIRECTORS,
        MANAGERS,
        join_programme,
        new_programme,
        open_settings_of,
        save_settings,
    )

    sandbox.emulator.add_user(ADMIN, name="programme-lead", is_admin=True)
    for user in [*DIRECTORS, "U105", "U106"]:
        sandbox.emulator.add_user(user)
    for user in MANAGERS:
        sandbox.join(user, level=3, goals=["delegation"])
    new_programme(sandbox, "Directors")
    save_settings(
        sandbox,
        open_settings_of(sandbox, "Directors"),
        hour="15",
        format="circles",
        circle="3",
        season="2",
    )
    circle_people = [*DIRECTORS, "U105", "U106"]
    for user in circle_people:
        join_programme(sandbox, user, "Directors")

    for week in range(3):
        for hour in (9, 15):
            go_to(sandbox, MONDAY_9.replace(hour=hour) + timedelta(weeks=week))
            sandbox.tick()
            sandbox.settle()

    circle_intros = [m for m in intros(sandbox) if "Coaching circle" in str(m.blocks)]
    pair_intros = [m for m in intros(sandbox) if m not in circle_intros]
    assert len(circle_intros) == 2 * 3 and len(pair_intros) == 3 * 3
    for message in circle_intros:
        assert set(sandbox.emulator.conversation_members(message.channel)) <= set(circle_people)
    for message in pair_intros:
        assert set(sandbox.emulator.conversation_members(message.channel)) <= set(MANAGERS)
    # Two sessions of the same circles, then a new season with new circles.
    seasons = [circles_of(sandbox, circle_intros[k : k + 2]) for k in (0, 2, 4)]
    assert seasons[0] == seasons[1] != seasons[2]
