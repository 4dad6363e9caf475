"""Issue 12, coming back: joining again resumes someone paused for going silent, or says
plainly that they are still paused and how to come back. Nobody is left out silently."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.sandbox.harness import Sandbox
from db.models import Member
from tests.cycle_helpers import MONDAY_9, dms_to, go_to, intro_groups

PAIR = ["U001", "U002"]


def status_of(sandbox: Sandbox, user: str) -> str:
    with sandbox.deps.unit_of_work() as session:
        return session.scalars(select(Member.status).where(Member.slack_user_id == user)).one()


def test_a_member_auto_paused_after_three_silent_rounds_is_back_after_joining_again(
    sandbox: Sandbox,
) -> None:
    for user in PAIR:
        sandbox.join(user)
    for week in range(4):  # three silent rounds; the fourth round's start closes the third
        go_to(sandbox, MONDAY_9 + timedelta(weeks=week))
        sandbox.tick()
    assert status_of(sandbox, "U001") == "paused"
    assert len(intro_groups(sandbox)) == 3  # the fourth round had nobody to pair

    sandbox.clock.advance(hours=2)
    sandbox.join("U001")

    assert status_of(sandbox, "U001") == "active"
    said = dms_to(sandbox, "U001")[-1].text
    assert "Welcome back" in said and "paired in the next round" in said
    sandbox.join("U002")
    go_to(sandbox, MONDAY_9 + timedelta(weeks=5))
    sandbox.tick()
    assert intro_groups(sandbox, since=3) == [tuple(PAIR)]


def test_joining_again_during_a_chosen_pause_says_so_and_how_to_resume(
    sandbox: Sandbox,
) -> None:
    sandbox.join("U001")
    sandbox.people.command("U001", "pause 3 weeks")

    sandbox.join("U001")

    assert status_of(sandbox, "U001") == "paused"
    said = dms_to(sandbox, "U001")[-1].text
    assert "still paused" in said and "/peercoach resume" in said
    assert "back for the round of <!date^" in said
