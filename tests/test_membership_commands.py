"""The /peercoach subcommands people use to manage their own membership."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from bot import ids
from bot.sandbox.harness import Sandbox
from db.models import Exclusion, Member


def member(sandbox: Sandbox, user: str) -> Member:
    with sandbox.deps.unit_of_work() as session:
        return session.scalars(select(Member).where(Member.slack_user_id == user)).one()


def test_help_and_empty_command_show_every_subcommand_ephemerally(sandbox: Sandbox) -> None:
    for text in ("help", ""):
        response = sandbox.people.command("U001", text)
        body = response.json()
        assert body["response_type"] == "ephemeral"
        for word in ("join", "pause", "resume", "status", "leave", "profile"):
            assert f"/peercoach {word}" in body["text"]


def test_unknown_subcommand_says_so_and_shows_help(sandbox: Sandbox) -> None:
    body = sandbox.people.command("U001", "dance now").json()
    assert body["response_type"] == "ephemeral"
    assert body["text"].startswith("I don't know `dance`")
    assert "/peercoach join" in body["text"]


def test_status_before_joining_points_to_join(sandbox: Sandbox) -> None:
    assert "/peercoach join" in sandbox.people.command("U001", "status").text


def test_status_of_an_active_member_names_the_next_round(sandbox: Sandbox) -> None:
    sandbox.join("U001")
    text = sandbox.people.command("U001", "status").text
    assert "You're active" in text
    # Default schedule: Mondays 09:00 UTC; the clock stands at Monday 08:00 UTC.
    assert "Next round: <!date^1795424400^" in text


def test_pause_defaults_to_one_cycle_and_resumes_by_itself(sandbox: Sandbox) -> None:
    sandbox.join("U001")  # Monday 08:00 UTC; rounds Mondays 09:00 UTC
    reply = sandbox.people.command("U001", "pause").text
    back = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)  # sits out today's 09:00 round
    assert "Paused until the round of" in reply and f"<!date^{int(back.timestamp())}^" in reply
    assert member(sandbox, "U001").paused_until == back
    assert "You're paused" in sandbox.people.command("U001", "status").text

    sandbox.clock.set(back)

    assert "You're active" in sandbox.people.command("U001", "status").text
    assert member(sandbox, "U001").status == "active"


def test_pause_for_weeks_or_until_a_date(sandbox: Sandbox) -> None:
    sandbox.join("U001")
    # Rounds starting in the next three weeks are sat out; back for the first one after.
    sandbox.people.command("U001", "pause 3 weeks")
    assert member(sandbox, "U001").paused_until == datetime(2026, 12, 14, 9, 0, tzinfo=UTC)
    # Until a date: back for the first round on or after it (a Friday: the Monday after).
    sandbox.people.command("U001", "pause until 2027-01-15")
    assert member(sandbox, "U001").paused_until.isoformat() == "2027-01-18T09:00:00+00:00"


def test_malformed_pause_explains_the_forms_and_changes_nothing(sandbox: Sandbox) -> None:
    sandbox.join("U001")
    assert "pause 3 weeks" in sandbox.people.command("U001", "pause forever").text
    assert "already passed" in sandbox.people.command("U001", "pause until 2020-01-01").text
    assert "YYYY-MM-DD" in sandbox.people.command("U001", "pause until someday").text
    assert "up to a year" in sandbox.people.command("U001", "pause 60 weeks").text
    assert member(sandbox, "U001").status == "active"


def test_pause_and_resume_need_membership(sandbox: Sandbox) -> None:
    assert "/peercoach join" in sandbox.people.command("U001", "pause").text
    assert "/peercoach join" in sandbox.people.command("U001", "resume").text


def test_resume_brings_a_paused_member_back(sandbox: Sandbox) -> None:
    sandbox.join("U001")
    assert "already active" in sandbox.people.command("U001", "resume").text
    sandbox.people.command("U001", "pause 2")
    assert "Welcome back" in sandbox.people.command("U001", "resume").text
    assert member(sandbox, "U001").status == "active"


def test_leave_asks_to_confirm_then_forgets_the_profile(sandbox: Sandbox) -> None:
    sandbox.join("U001", never=["U002"])
    question = sandbox.people.command("U001", "leave").json()
    assert "Leave PeerCoach?" in question["text"]
    buttons = [
        e["action_id"] for b in question["blocks"] if b["type"] == "actions" for e in b["elements"]
    ]
    assert buttons == [ids.LEAVE_CONFIRM, ids.LEAVE_CANCEL]
    assert member(sandbox, "U001").status == "active"

    sandbox.people.click("U001", ids.LEAVE_CONFIRM, channel_id="CGENERAL", message_ts="1.2")
    sandbox.settle()

    left = member(sandbox, "U001")
    assert (left.status, left.level, left.team, left.goals) == ("left", None, None, [])
    with sandbox.deps.unit_of_work() as session:
        assert session.scalars(select(Exclusion)).all() == []
    assert sandbox.emulator.responses[-1]["replace_original"] is True
    assert "You've left" in sandbox.emulator.responses[-1]["text"]
    assert "not in PeerCoach" in sandbox.people.command("U001", "status").text


def test_staying_after_the_leave_question_keeps_the_membership(sandbox: Sandbox) -> None:
    sandbox.join("U001")
    sandbox.people.command("U001", "leave")
    sandbox.people.click("U001", ids.LEAVE_CANCEL, channel_id="CGENERAL", message_ts="1.2")
    sandbox.settle()
    assert member(sandbox, "U001").status == "active"
    assert "still in PeerCoach" in sandbox.emulator.responses[-1]["text"]


def test_leave_when_not_a_member(sandbox: Sandbox) -> None:
    assert "nothing to leave" in sandbox.people.command("U001", "leave").text


def test_rejoining_after_leaving_starts_fresh(sandbox: Sandbox) -> None:
    sandbox.join("U001")
    sandbox.people.command("U001", "leave")
    sandbox.people.click("U001", ids.LEAVE_CONFIRM, channel_id="CGENERAL", message_ts="1.2")
    sandbox.settle()
    sandbox.people.command("U001", "join")
    sandbox.settle()
    view = sandbox.emulator.calls_to("views.open")[-1].args["view"]
    assert view["title"]["text"] == "Join PeerCoach"  # not prefilled: the profile was deleted
    sandbox.join("U001", level=1)
    rejoined = member(sandbox, "U001")
    assert (rejoined.status, rejoined.level, rejoined.left_at) == ("active", 1, None)
