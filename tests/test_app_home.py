"""The App Home tab: a person's own status, with buttons to change it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot import ids
from bot.sandbox.harness import Sandbox
from tests.cycle_helpers import MONDAY_9, go_to, intros, press

# Everyone's Home ends with the actions on their own data.
DATA = [ids.HOME_EXPORT_DATA, ids.HOME_DELETE_DATA]


def home_buttons(sandbox: Sandbox, user: str) -> list[str]:
    home: dict[str, Any] = sandbox.emulator.homes[user]
    return [e["action_id"] for b in home["blocks"] if b["type"] == "actions" for e in b["elements"]]


def test_opening_the_home_tab_before_joining_offers_join(sandbox: Sandbox) -> None:
    response = sandbox.people.open_home("U001")
    sandbox.settle()
    assert response.status == 200
    assert home_buttons(sandbox, "U001") == [ids.HOME_JOIN, *DATA]
    assert "not in PeerCoach" in str(sandbox.emulator.homes["U001"]["blocks"])


def test_home_join_button_opens_the_modal(sandbox: Sandbox) -> None:
    sandbox.people.open_home("U001")
    sandbox.settle()
    view = sandbox.emulator.homes["U001"]
    sandbox.people.click("U001", ids.HOME_JOIN, view=view)
    sandbox.settle()
    assert (
        sandbox.emulator.successful("views.open")[-1].args["view"]["callback_id"] == ids.JOIN_MODAL
    )


def test_member_can_pause_resume_and_leave_from_home(sandbox: Sandbox) -> None:
    sandbox.join("U001")
    assert home_buttons(sandbox, "U001") == [
        ids.HOME_EDIT,
        ids.HOME_PAUSE,
        ids.HOW_TO_COACH,
        ids.HOME_GOAL,
        ids.HOME_WORKING_HOURS,
        ids.HOME_LEAVE,
        *DATA,
    ]

    sandbox.people.click("U001", ids.HOME_PAUSE, view=sandbox.emulator.homes["U001"])
    sandbox.settle()
    assert home_buttons(sandbox, "U001") == [
        ids.HOME_EDIT,
        ids.HOME_RESUME,
        ids.HOW_TO_COACH,
        ids.HOME_GOAL,
        ids.HOME_WORKING_HOURS,
        ids.HOME_LEAVE,
        *DATA,
    ]
    assert "You're paused" in str(sandbox.emulator.homes["U001"]["blocks"])

    sandbox.people.click("U001", ids.HOME_RESUME, view=sandbox.emulator.homes["U001"])
    sandbox.settle()
    assert home_buttons(sandbox, "U001") == [
        ids.HOME_EDIT,
        ids.HOME_PAUSE,
        ids.HOW_TO_COACH,
        ids.HOME_GOAL,
        ids.HOME_WORKING_HOURS,
        ids.HOME_LEAVE,
        *DATA,
    ]

    sandbox.people.click("U001", ids.HOME_LEAVE, view=sandbox.emulator.homes["U001"])
    sandbox.settle()
    assert home_buttons(sandbox, "U001") == [ids.HOME_JOIN, *DATA]


def test_leave_button_asks_for_confirmation_in_slack(sandbox: Sandbox) -> None:
    sandbox.join("U001")
    blocks = sandbox.emulator.homes["U001"]["blocks"]
    leave = next(
        e
        for b in blocks
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == ids.HOME_LEAVE
    )
    assert leave["confirm"]["confirm"]["text"] == "Leave"


def test_opening_an_unchanged_home_again_publishes_nothing_new_but_a_change_shows(
    sandbox: Sandbox,
) -> None:
    sandbox.join("U001")
    published = len(sandbox.emulator.successful("views.publish"))
    sandbox.people.open_home("U001")
    sandbox.people.open_home("U001")
    sandbox.settle()
    assert len(sandbox.emulator.successful("views.publish")) == published

    sandbox.people.command("U001", "pause 2 weeks")
    sandbox.people.open_home("U001")
    sandbox.settle()
    assert len(sandbox.emulator.successful("views.publish")) == published + 1
    assert "You're paused" in str(sandbox.emulator.homes["U001"]["blocks"])


def test_a_home_changed_through_another_replica_is_put_right_by_the_next_action_here(
    sandbox: Sandbox,
) -> None:
    other_replica = Sandbox(emulator=sandbox.emulator, engine=sandbox.engine, clock=sandbox.clock)
    try:
        sandbox.join("U001")  # this replica publishes the Home: active
        other_replica.people.click("U001", ids.HOME_PAUSE, view=sandbox.emulator.homes["U001"])
        other_replica.settle()
        assert "You're paused" in str(sandbox.emulator.homes["U001"]["blocks"])

        sandbox.people.click("U001", ids.HOME_RESUME, view=sandbox.emulator.homes["U001"])
        sandbox.settle()
        # Rendered here, the view equals the one this replica last published; Slack shows
        # the other replica's, so it is published anyway.
        assert "You're paused" not in str(sandbox.emulator.homes["U001"]["blocks"])
        assert ids.HOME_PAUSE in home_buttons(sandbox, "U001")
    finally:
        other_replica.settle()
        other_replica.close()


def home_text(sandbox: Sandbox, user: str) -> str:
    sandbox.people.open_home(user)
    sandbox.settle()
    return str(sandbox.emulator.homes[user]["blocks"])


def test_home_shows_this_rounds_chat_until_the_round_closes(sandbox: Sandbox) -> None:
    sandbox.join("U001")
    sandbox.join("U002")
    assert "This round" not in home_text(sandbox, "U001")
    go_to(sandbox, MONDAY_9)
    sandbox.tick()
    assert "*This round*: your chat with <@U002>, not yet." in home_text(sandbox, "U001")

    [intro] = intros(sandbox)
    press(sandbox, "U002", ids.WE_MET, intro)
    sandbox.settle()  # "we met" is recorded after its ack
    assert "*This round*: your chat with <@U002>, it happened" in home_text(sandbox, "U001")

    sandbox.people.command("U001", "pause 2 weeks")
    go_to(sandbox, MONDAY_9 + timedelta(weeks=1))
    sandbox.tick()  # the next round closes the last one; U001 sits it out
    assert "This round" not in home_text(sandbox, "U001")
