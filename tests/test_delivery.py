"""Intros survive crashes and rate limits: every group gets one, and only one."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.jobs.delivery import CLAIM_TTL, Delivery
from bot.jobs.rounds import make_delivery
from bot.profile_options import GOALS
from bot.sandbox.harness import Sandbox
from bot.services import membership
from db.models import OutboxMessage
from tests.cycle_helpers import MONDAY_9, go_to, intros


class Crash(BaseException):
    """The process dying: nothing catches it."""


def crash_at(point: str, *, on_call: int) -> Callable[[str], None]:
    seen = Counter[str]()

    def checkpoint(reached: str) -> None:
        seen[reached] += 1
        if reached == point and seen[reached] == on_call:
            raise Crash(point)

    return checkpoint


def seed_members(sandbox: Sandbox, count: int) -> list[str]:
    """Members joined through the service (the join flow itself is tested end to end)."""
    goals = list(GOALS)
    users = [f"U{n:04d}" for n in range(1, count + 1)]
    with sandbox.deps.unit_of_work() as session:
        for n, user in enumerate(users):
            sandbox.emulator.add_user(user)
            membership.save_profile(
                session,
                team_id=sandbox.team_id,
                user_id=user,
                profile=membership.Profile(
                    level=1 + n % 5,
                    team=f"T{n % 7}",
                    goals=(goals[n % len(goals)],),
                    agreement_version=1,  # they accepted the agreement when they joined
                ),
                tz_name="UTC",
                tz_offset_minutes=0,
                now=sandbox.now(),
            )
    return users


def restarted_delivery(sandbox: Sandbox) -> Delivery:
    return make_delivery(sandbox.deps)


def intros_per_group(sandbox: Sandbox) -> Counter[tuple[str, ...]]:
    return Counter(sandbox.emulator.conversation_members(m.channel) for m in intros(sandbox))


@pytest.mark.parametrize("point", ["sending", "opened"])
def test_a_crash_before_slack_accepts_the_post_loses_and_repeats_nothing(
    sandbox: Sandbox, point: str
) -> None:
    users = seed_members(sandbox, 8)
    go_to(sandbox, MONDAY_9)
    sandbox.delivery.checkpoint = crash_at(point, on_call=2)
    with pytest.raises(Crash):
        sandbox.tick()

    # A restart at once leaves the dead sender's claimed message alone...
    restarted_delivery(sandbox).run()
    assert sorted(intros_per_group(sandbox).values()) == [1, 1, 1]
    # ...and sends it once the claim has lapsed.
    sandbox.clock.advance(CLAIM_TTL + timedelta(seconds=1))
    restarted_delivery(sandbox).run()

    per_group = intros_per_group(sandbox)
    assert sorted(per_group.values()) == [1, 1, 1, 1]
    assert sorted(u for group in per_group for u in group) == users


def test_a_crash_after_slack_accepted_the_post_repeats_only_that_intro(sandbox: Sandbox) -> None:
    seed_members(sandbox, 8)
    go_to(sandbox, MONDAY_9)
    sandbox.delivery.checkpoint = crash_at("posted", on_call=2)
    with pytest.raises(Crash):
        sandbox.tick()

    sandbox.clock.advance(CLAIM_TTL + timedelta(seconds=1))
    restarted_delivery(sandbox).run()

    # The app cannot know Slack took the second post: it sends it again rather than lose it.
    assert sorted(intros_per_group(sandbox).values()) == [1, 1, 1, 2]
    with sandbox.deps.unit_of_work() as session:
        statuses = Counter(session.scalars(select(OutboxMessage.status)))
    assert statuses == {"sent": 4}


def test_a_round_larger_than_the_tier_limit_completes_through_429s(sandbox: Sandbox) -> None:
    users = seed_members(sandbox, 130)  # 65 group DMs; conversations.open allows 50 a minute
    sandbox.emulator.enforce_rate_limits = True
    go_to(sandbox, MONDAY_9)

    report = sandbox.tick()

    assert report.delivery.sent == 65
    assert report.delivery.rate_limited_seconds >= 1
    assert any(c.status == 429 for c in sandbox.emulator.calls_to("conversations.open"))
    assert sorted(u for group in intros_per_group(sandbox) for u in group) == users
    assert set(intros_per_group(sandbox).values()) == {1}


def test_slack_errors_that_may_pass_are_retried_later_with_backoff(sandbox: Sandbox) -> None:
    seed_members(sandbox, 2)
    sandbox.emulator.fail_next("chat.postMessage", "internal_error", status=500, times=2)
    go_to(sandbox, MONDAY_9)

    first = sandbox.tick()
    assert (first.delivery.sent, first.delivery.deferred) == (0, 1)
    sandbox.clock.advance(seconds=29)
    assert sandbox.tick().delivery.sent == 0  # backing off: not yet due
    sandbox.clock.advance(seconds=2)
    assert sandbox.tick().delivery.deferred == 1  # second failure, longer backoff
    sandbox.clock.advance(minutes=2)
    assert sandbox.tick().delivery.sent == 1
    assert len(intros(sandbox)) == 1


def test_two_senders_at_once_never_send_the_same_message(sandbox: Sandbox) -> None:
    users = seed_members(sandbox, 8)
    go_to(sandbox, MONDAY_9)
    other = restarted_delivery(sandbox)  # e.g. a second worker, or an invite run in a listener
    interleaved = []

    def the_other_sender_runs_now(point: str) -> None:
        if point == "opened" and not interleaved:
            interleaved.append(other.run())  # while this sender holds its first message

    sandbox.delivery.checkpoint = the_other_sender_runs_now
    first = sandbox.tick().delivery

    assert interleaved[0].sent == 3 and first.sent == 1
    per_group = intros_per_group(sandbox)
    assert sorted(per_group.values()) == [1, 1, 1, 1]
    assert sorted(u for group in per_group for u in group) == users
