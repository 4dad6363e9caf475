"""Review of slack_roles and the request-thread listeners, through the real surface: what a
forged or foreign `user_change` can do to what someone's App Home shows (nothing)."""

from __future__ import annotations

import copy
import json
from datetime import timedelta

from sqlalchemy import select

from bot.sandbox.harness import Sandbox
from bot.sandbox.slack_requests import call_wsgi
from db.models import Member, ProgramAdmin, SlackRole
from tests.concurrency import ACK_DEADLINE_S, all_at_once, database_locked_elsewhere, timed
from tests.surface_helpers import sign
from tests.test_slack_roles import ADMIN, home_opened_by


def roles(sandbox: Sandbox) -> list[tuple[str, bool]]:
    with sandbox.deps.unit_of_work() as session:
        return [
            (r.slack_user_id, r.is_admin)
            for r in session.scalars(select(SlackRole).order_by(SlackRole.slack_user_id))
        ]


def promotion_of(sandbox: Sandbox, user: str, team_id: str) -> bytes:
    record = {**sandbox.emulator.users[user], "is_admin": True, "is_owner": True}
    return json.dumps(
        {
            "token": "deprecated-verification-token",
            "team_id": team_id,
            "api_app_id": "APEERCOACH",
            "event": {"type": "user_change", "user": record},
            "type": "event_callback",
            "event_id": "EvFORGED01",
            "event_time": 1,
        }
    ).encode()


def test_a_user_change_with_a_wrong_or_stale_signature_makes_nobody_an_admin(
    sandbox: Sandbox,
) -> None:
    sandbox.join("U001")
    before = roles(sandbox)
    assert before == [("U001", False)]
    body = promotion_of(sandbox, "U001", sandbox.people.team_id)
    wrong = {**sign(body), "X-Slack-Signature": "v0=" + "0" * 64}
    stale = sign(body, timestamp="1000000000")  # signed, but long ago (a replay)
    for headers in (wrong, stale, {}):
        response = call_wsgi(
            sandbox.wsgi,
            "POST",
            "/slack/events",
            body,
            {"Content-Type": "application/json", **headers},
        )
        assert response.status == 401
    sandbox.settle()

    assert roles(sandbox) == before
    home, methods = home_opened_by(sandbox, "U001")
    assert "Programme (admins)" not in home and "users.info" not in methods
    with sandbox.deps.unit_of_work() as session:
        assert session.scalars(select(ProgramAdmin.slack_user_id)).all() == []


def test_a_user_change_from_another_workspace_leaves_this_ones_people_as_they_were(
    sandbox: Sandbox,
) -> None:
    sandbox.join("U001")
    elsewhere = copy.copy(sandbox.people)
    elsewhere.team_id = "TELSEWHERE"
    record = {**sandbox.emulator.users["U001"], "is_owner": True, "tz": "Asia/Tokyo"}

    assert elsewhere.event({"type": "user_change", "user": record}).status == 200
    sandbox.settle()

    assert roles(sandbox) == [("U001", False)]
    home, methods = home_opened_by(sandbox, "U001")
    assert "Programme (admins)" not in home and "Asia/Tokyo" not in home
    assert "users.info" not in methods


def paused_then_back(sandbox: Sandbox, user: str) -> None:
    """The person paused for two weeks, and three weeks have passed."""
    sandbox.people.command(user, "pause 2 weeks")
    sandbox.settle()
    sandbox.clock.advance(timedelta(weeks=3))


def test_status_while_the_database_is_locked_elsewhere_answers_in_time(
    sandbox: Sandbox,
) -> None:
    sandbox.join("U001")
    sandbox.join("U002")
    paused_then_back(sandbox, "U002")

    with database_locked_elsewhere(sandbox.settings.database_url) as release:
        active, took_active = timed(lambda: sandbox.people.command("U001", "status"))
        back, took_back = timed(lambda: sandbox.people.command("U002", "status"))
        release()
    sandbox.settle()

    assert took_active < ACK_DEADLINE_S and took_back < ACK_DEADLINE_S
    assert active.status == 200 and back.status == 200
    assert "active" in active.text.lower()
    # Resuming is a write the lock holds up: either done in time, or "try again", never
    # "paused" for a pause that ended.
    assert "paused" not in back.text.lower() or "try again" in back.text.lower()
    again = sandbox.people.command("U002", "status")
    assert "active" in again.text.lower() and "paused" not in again.text.lower()


def test_two_status_commands_at_once_after_a_pause_ended_both_say_active(
    sandbox: Sandbox,
) -> None:
    sandbox.join("U001")
    paused_then_back(sandbox, "U001")

    answers = all_at_once([lambda: sandbox.people.command("U001", "status")] * 2)
    sandbox.settle()

    for response, took in answers:
        assert response.status == 200 and took < ACK_DEADLINE_S
        assert "active" in response.text.lower() and "paused" not in response.text.lower()
    with sandbox.deps.unit_of_work() as session:
        member = session.scalars(select(Member)).one()
        assert (member.status, member.paused_until) == ("active", None)


def test_a_command_refused_on_the_request_thread_is_answered_once_and_the_next_request_is_served(
    sandbox: Sandbox,
) -> None:
    sandbox.join("U001")
    sandbox.settle()
    calls, responses = len(sandbox.emulator.calls), len(sandbox.emulator.responses)

    refused = sandbox.people.command("U001", "status --programme No Such Programme")
    sandbox.settle()

    assert refused.status == 200 and "No Such Programme" in refused.text
    assert sandbox.emulator.responses[responses:] == []  # no second answer by response_url
    assert [c.method for c in sandbox.emulator.calls[calls:]] == []  # nor by DM
    # The same thread then serves an ordinary command, and an unsigned one is inert.
    assert "active" in sandbox.people.command("U001", "status").text.lower()
    unsigned = call_wsgi(
        sandbox.wsgi,
        "POST",
        "/slack/events",
        sandbox.people.command_body("U001", "pause 2 weeks"),
        {"Content-Type": "application/x-www-form-urlencoded"},
    )
    sandbox.settle()
    assert unsigned.status == 401
    with sandbox.deps.unit_of_work() as session:
        assert session.scalar(select(Member.status)) == "active"


def test_a_late_user_change_older_than_slacks_last_answer_does_not_hide_an_admins_programme(
    sandbox: Sandbox,
) -> None:
    sandbox.emulator.add_user(ADMIN, name="programme-lead", is_admin=True)
    sandbox.join(ADMIN)  # users.info just now: an admin
    fresh = Sandbox(emulator=sandbox.emulator, engine=sandbox.engine, clock=sandbox.clock)
    # Slack retries an event from an hour before, when they were not an admin yet.
    earlier = int((sandbox.now() - timedelta(hours=1)).timestamp())
    record = {**sandbox.emulator.users[ADMIN], "is_admin": False}
    envelope = {
        "token": "deprecated-verification-token",
        "team_id": sandbox.people.team_id,
        "api_app_id": "APEERCOACH",
        "event": {"type": "user_change", "user": record},
        "type": "event_callback",
        "event_id": "EvLATE0001",
        "event_time": earlier,
    }
    try:
        late = sandbox.people.post(json.dumps(envelope).encode(), "application/json")
        assert late.status == 200
        sandbox.settle()

        home, _ = home_opened_by(fresh, ADMIN)
        assert "Programme (admins)" in home
    finally:
        fresh.settle()
        fresh.close()


def test_my_data_says_what_slack_said_of_ones_role_and_nobody_elses(sandbox: Sandbox) -> None:
    sandbox.emulator.add_user(ADMIN, name="programme-lead", is_admin=True)
    sandbox.join(ADMIN)
    sandbox.join("U001")

    sandbox.people.command("U001", "my-data")
    sandbox.settle()

    (upload,) = [
        u for u in sandbox.emulator.uploads.values() if u["filename"] == "peercoach-my-data.json"
    ]
    content = upload["content"].decode()
    assert json.loads(content)["slack_role"] == {
        "is_admin": False,
        "checked_at": sandbox.now().isoformat(),
    }
    assert ADMIN not in content
