"""Acknowledgements within Slack's 3 seconds whatever Slack or the database is doing.

Each request's ack latency is measured by timing the WSGI call, and asserted under Slack's
deadline: a correctness bound (Slack drops a late ack), not a benchmark.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from bot.errors import SLACK_BUSY_TEXT
from bot.listeners.common import IN_HAND_TEXT
from bot.sandbox.harness import Sandbox
from bot.sandbox.slack_emulator import SlackEmulator
from bot.sandbox.slack_requests import join_values
from bot.views import membership as views
from db.models import Member, OutboxMessage
from tests.concurrency import ACK_DEADLINE_S, all_at_once, database_locked_elsewhere, timed
from tests.cycle_helpers import dms_to

PEOPLE = [f"U{n:03d}" for n in range(1, 13)]


def storm(emulator: SlackEmulator) -> None:
    """Slack rate-limits every call the request path makes (Retry-After 30 s) and fails a
    fifth of the DMs (half of those with a 429 too)."""
    for method in ("users.info", "views.open", "views.publish"):
        emulator.fail_fraction(method, 1.0, "ratelimited", status=429, retry_after=30)
    emulator.fail_fraction("conversations.open", 0.2, "ratelimited", status=429, retry_after=30)
    emulator.fail_fraction("chat.postMessage", 0.2, "internal_error")


def calm(emulator: SlackEmulator) -> None:
    for method in ("users.info", "views.open", "views.publish", "conversations.open"):
        emulator.fail_fraction(method, 0)
    emulator.fail_fraction("chat.postMessage", 0)


def deliver_everything(sandbox: Sandbox) -> None:
    """Run the outbox until nothing is left to send, moving the clock past each backoff."""
    for _ in range(40):
        sandbox.delivery.run()
        with sandbox.deps.unit_of_work() as session:
            waiting = session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.status.in_(("pending", "sending")))
            )
        if not waiting:
            return
        sandbox.clock.advance(timedelta(hours=1))
    raise AssertionError("the outbox never emptied")


def test_a_429_storm_delays_no_ack_and_loses_no_join(sandbox: Sandbox) -> None:
    modals = {}
    for user in PEOPLE:  # everyone opens the join modal while Slack is calm
        sandbox.people.command(user, "join")
        sandbox.settle()
        modals[user] = sandbox.emulator.calls_to("views.open")[-1].response["view"]
    storm(sandbox.emulator)

    submissions = [
        lambda u=u: sandbox.people.submit(u, modals[u], join_values(3, "Sales", ["delegation"]))
        for u in PEOPLE
    ]
    homes = [lambda u=u: sandbox.people.open_home(u) for u in PEOPLE[:6]]
    join_commands = [lambda u=u: sandbox.people.command(u, "join") for u in PEOPLE[6:]]
    results = all_at_once(submissions + homes + join_commands)
    sandbox.settle()

    latencies = sorted(took for _, took in results)
    assert [t for t in latencies if t >= ACK_DEADLINE_S] == [], latencies
    assert [r.status for r, _ in results] == [200] * len(results)
    assert [r.body for r, _ in results[: len(PEOPLE)]] == [b""] * len(PEOPLE)
    with sandbox.deps.unit_of_work() as session:
        enrolled = session.scalars(select(Member.slack_user_id).where(Member.status == "active"))
        assert sorted(enrolled) == PEOPLE
    # The six whose modal Slack would not open were told to try again, each exactly once.
    told = [r["text"] for r in sandbox.emulator.responses]
    assert told == [SLACK_BUSY_TEXT] * len(join_commands)
    # Welcome DMs wait in the outbox through the storm; each person gets exactly one.
    deliver_everything(sandbox)
    calm(sandbox.emulator)
    for user in PEOPLE:
        assert [m.text for m in dms_to(sandbox, user)] == [
            views.joined_text(views.JoinOutcome.JOINED)
        ]


def test_when_slack_rate_limits_views_open_the_person_is_told_to_try_again_once(
    sandbox: Sandbox,
) -> None:
    sandbox.emulator.rate_limit_next("views.open", retry_after=30)

    response, took = timed(lambda: sandbox.people.command("U001", "join"))
    sandbox.settle()

    assert took < ACK_DEADLINE_S and response.status == 200
    assert [r["text"] for r in sandbox.emulator.responses] == [SLACK_BUSY_TEXT]
    assert len(sandbox.emulator.calls_to("views.open")) == 1  # no retry behind the person's back


def test_a_pause_while_the_database_is_locked_is_acked_in_time_and_confirmed_once(
    sandbox: Sandbox,
) -> None:
    sandbox.join("U001")
    before = len(sandbox.emulator.responses)

    with database_locked_elsewhere(sandbox.settings.database_url) as release:
        response, took = timed(lambda: sandbox.people.command("U001", "pause 2 weeks"))
        assert took < ACK_DEADLINE_S
        assert response.text == IN_HAND_TEXT
        with sandbox.deps.unit_of_work() as session:  # not stored yet: it waits for the lock
            assert session.scalar(select(Member.status)) == "active"
        release()
        sandbox.settle()

    with sandbox.deps.unit_of_work() as session:
        member = session.scalars(select(Member)).one()
        assert member.status == "paused"
        assert member.paused_until is not None
        # Back for the first round at least two weeks away (the issue-12 pause rule).
        assert member.paused_until.replace(tzinfo=None) >= (
            sandbox.now() + timedelta(weeks=2)
        ).replace(tzinfo=None)
    assert [r["text"] for r in sandbox.emulator.responses[before:]] == [
        views.paused_text(member.paused_until)
    ]


def test_a_join_while_the_database_is_locked_keeps_the_modal_open_and_stores_nothing(
    sandbox: Sandbox,
) -> None:
    sandbox.people.command("U002", "join")
    sandbox.settle()
    modal = sandbox.emulator.calls_to("views.open")[-1].response["view"]

    with database_locked_elsewhere(sandbox.settings.database_url):
        response, took = timed(
            lambda: sandbox.people.submit("U002", modal, join_values(3, "Sales", ["delegation"]))
        )

    assert took < ACK_DEADLINE_S
    assert response.json()["response_action"] == "errors"
    assert "nothing was changed" in str(response.json()["errors"])
    with sandbox.deps.unit_of_work() as session:
        assert session.scalars(select(Member)).all() == []
