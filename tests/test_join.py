"""Opting in through /peercoach join and the modal, as a person in Slack does it."""

from __future__ import annotations

from sqlalchemy import select

from bot import ids
from bot.sandbox.harness import Sandbox
from bot.sandbox.slack_requests import join_values
from db.models import Exclusion, Member


def test_join_opens_the_modal_with_the_commands_trigger(sandbox: Sandbox) -> None:
    response = sandbox.people.command("U001", "join")
    sandbox.settle()

    assert response.status == 200
    opened = sandbox.emulator.successful("views.open")
    assert len(opened) == 1
    view = opened[0].args["view"]
    assert view["callback_id"] == ids.JOIN_MODAL
    assert view["title"]["text"] == "Join PeerCoach"
    assert {b.get("block_id") for b in view["blocks"]} >= {
        ids.LEVEL_BLOCK,
        ids.TEAM_BLOCK,
        ids.GOALS_BLOCK,
        ids.NEVER_PAIR_BLOCK,
    }
    assert opened[0].args["trigger_id"].endswith(".trigger")


def test_submitting_the_modal_makes_an_active_member_with_slack_time_zone(sandbox: Sandbox) -> None:
    sandbox.emulator.add_user("U001", tz="America/New_York", tz_offset_seconds=-5 * 3600)

    sandbox.join("U001", level=2, goals=["feedback", "conflict"], never=["U007"])

    with sandbox.deps.unit_of_work() as session:
        member = session.scalars(select(Member)).one()
        assert (member.slack_user_id, member.status, member.level) == ("U001", "active", 2)
        assert member.goals == ["feedback", "conflict"]
        assert (member.tz_name, member.tz_offset_minutes) == ("America/New_York", -300)
        assert [e.excluded_user_id for e in session.scalars(select(Exclusion))] == ["U007"]
    confirmation = sandbox.emulator.successful("chat.postMessage")[-1]
    assert sandbox.emulator.conversation_members(confirmation.args["channel"]) == ("U001",)
    assert "You're in" in confirmation.args["text"]
    assert "You're active" in str(sandbox.emulator.homes["U001"]["blocks"])


def test_joining_again_edits_the_profile_prefilled(sandbox: Sandbox) -> None:
    sandbox.join("U002", level=4, goals=["strategy"], never=["U009"], team="Finance")

    sandbox.people.command("U002", "profile")
    sandbox.settle()
    view = sandbox.emulator.calls_to("views.open")[-1].args["view"]
    by_block = {b.get("block_id"): b for b in view["blocks"]}
    assert by_block[ids.LEVEL_BLOCK]["element"]["initial_option"]["value"] == "4"
    assert by_block[ids.TEAM_BLOCK]["element"]["initial_value"] == "Finance"
    assert [o["value"] for o in by_block[ids.GOALS_BLOCK]["element"]["initial_options"]] == [
        "strategy"
    ]
    assert by_block[ids.NEVER_PAIR_BLOCK]["element"]["initial_users"] == ["U009"]

    stored = sandbox.emulator.calls_to("views.open")[-1].response["view"]
    sandbox.people.submit("U002", stored, join_values(4, "Finance", ["strategy", "hiring"], []))
    sandbox.settle()
    with sandbox.deps.unit_of_work() as session:
        member = session.scalars(select(Member)).one()
        assert member.goals == ["strategy", "hiring"]
        assert session.scalars(select(Exclusion)).all() == []
    assert "profile is updated" in sandbox.emulator.successful("chat.postMessage")[-1].args["text"]


def test_invalid_modal_input_comes_back_as_inline_errors(sandbox: Sandbox) -> None:
    sandbox.people.command("U003", "join")
    sandbox.settle()
    view = sandbox.emulator.calls_to("views.open")[-1].response["view"]

    response = sandbox.people.submit("U003", view, join_values(3, "   ", [], ["U003"]))

    assert response.status == 200
    body = response.json()
    assert body["response_action"] == "errors"
    assert set(body["errors"]) == {ids.TEAM_BLOCK, ids.GOALS_BLOCK, ids.NEVER_PAIR_BLOCK}
    sandbox.settle()
    with sandbox.deps.unit_of_work() as session:
        assert session.scalars(select(Member)).all() == []


def test_join_still_works_when_slack_cannot_tell_the_time_zone(sandbox: Sandbox) -> None:
    sandbox.emulator.fail_next("users.info", "user_not_visible", times=5)

    sandbox.join("U004")

    with sandbox.deps.unit_of_work() as session:
        member = session.scalars(select(Member)).one()
        assert member.status == "active" and member.tz_name is None


def test_a_modal_slack_refuses_to_open_tells_the_person_to_try_again_once(
    sandbox: Sandbox,
) -> None:
    sandbox.emulator.fail_next("views.open", "expired_trigger_id")

    response = sandbox.people.command("U005", "join")
    sandbox.settle()

    assert response.status == 200
    [told] = sandbox.emulator.responses
    assert told["response_type"] == "ephemeral"
    assert told["text"].startswith("Slack is busy right now")
