"""Issue 12, who may be invited and paired: never bots, the app itself or deactivated
accounts; guests and people from other organisations only as the programme allows. Checked
at invite, at join and at round time."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot import ids
from bot.sandbox.harness import Sandbox
from bot.sandbox.slack_emulator import APP_USER_ID
from bot.sandbox.slack_requests import join_values
from db.models import Member
from tests.cycle_helpers import MONDAY_9, dms_to, go_to, intro_groups
from tests.test_admin import ADMIN, open_settings, settings_values

INVITED = "invites you"


def include_guests(sandbox: Sandbox) -> None:
    view = open_settings(sandbox)
    guests_on = {
        ids.GUESTS_BLOCK: {
            ids.GUESTS_ACTION: {"type": "checkboxes", "selected_options": [{"value": "guests"}]}
        }
    }
    response = sandbox.people.submit(ADMIN, view, settings_values() | guests_on)
    assert response.status == 200 and response.body == b""
    sandbox.settle()


def invited(sandbox: Sandbox, user: str) -> bool:
    return any(INVITED in m.text for m in dms_to(sandbox, user))


def progress(sandbox: Sandbox) -> str:
    return [m for m in dms_to(sandbox, ADMIN) if m.text.startswith("Invited")][-1].text


def test_invite_skips_the_app_itself_other_bots_and_the_admin(sandbox: Sandbox) -> None:
    sandbox.emulator.add_user(ADMIN, name="programme-lead", is_admin=True)
    sandbox.emulator.add_user("UOTHERBOT", name="standup-bot", is_bot=True)
    sandbox.emulator.channel_members["C0LEADERS"] = [
        "U001",
        "U002",
        APP_USER_ID,
        "UOTHERBOT",
        ADMIN,
    ]

    sandbox.people.command(ADMIN, "admin invite <#C0LEADERS|leaders>")
    sandbox.settle()

    assert progress(sandbox).startswith("Invited 2 of 2")
    assert [u for u in ("U001", "U002", APP_USER_ID, "UOTHERBOT") if invited(sandbox, u)] == [
        "U001",
        "U002",
    ]


def test_guests_outsiders_and_deactivated_accounts_are_left_out_unless_guests_are_on(
    sandbox: Sandbox,
) -> None:
    emulator = sandbox.emulator
    emulator.add_user(ADMIN, name="programme-lead", is_admin=True)
    emulator.add_user("UGUEST1", name="single-channel-guest", is_ultra_restricted=True)
    emulator.add_user("UGUEST2", name="multi-channel-guest", is_restricted=True)
    emulator.add_user("UOUTSIDE", name="partner-org", team_id="T0OTHERORG")
    emulator.add_user("UGONE", name="left-the-company", deleted=True)
    emulator.channel_members["C0SHARED"] = ["U001", "UGUEST1", "UGUEST2", "UOUTSIDE", "UGONE"]

    sandbox.people.command(ADMIN, "admin invite <#C0SHARED|shared>")
    sandbox.settle()
    assert progress(sandbox).startswith("Invited 1 of 1.")
    assert "3 guest or external account(s) left out" in progress(sandbox)

    include_guests(sandbox)
    sandbox.people.command(ADMIN, "admin invite <#C0SHARED|shared>")
    sandbox.settle()
    assert progress(sandbox).startswith("Invited 2 of 2")  # the two guests, now welcome
    assert [u for u in ("UGUEST1", "UGUEST2", "UOUTSIDE", "UGONE") if invited(sandbox, u)] == [
        "UGUEST1",
        "UGUEST2",
    ]


def test_a_guest_who_tries_to_join_while_guests_are_off_gets_a_polite_answer(
    sandbox: Sandbox,
) -> None:
    sandbox.emulator.add_user("UGUEST1", name="guest", is_restricted=True)
    sandbox.people.command("UGUEST1", "join")
    sandbox.settle()
    view = sandbox.emulator.calls_to("views.open")[-1].response["view"]
    response = sandbox.people.submit("UGUEST1", view, join_values(3, "Sales", ["delegation"], None))
    sandbox.settle()

    # Answered in the modal itself, before its ack (the join is checked before it is stored).
    assert response.json()["response_action"] == "errors"
    answer = str(response.json()["errors"])
    assert "guest accounts aren't included" in answer and "Sorry" not in answer
    assert dms_to(sandbox, "UGUEST1") == []
    with sandbox.deps.unit_of_work() as session:
        assert session.scalars(select(Member)).all() == []


def test_status_changes_after_joining_are_checked_at_round_time(sandbox: Sandbox) -> None:
    sandbox.emulator.add_user(ADMIN, name="programme-lead", is_admin=True)
    for user in ("U001", "U002", "U003", "U004", "U005"):
        sandbox.join(user)
    sandbox.emulator.add_user("U003", name="now-a-guest", is_restricted=True)
    sandbox.emulator.add_user("U004", name="now-a-bot", is_bot=True)
    sandbox.emulator.add_user("U005", name="deactivated", deleted=True)

    go_to(sandbox, MONDAY_9)
    sandbox.tick()

    assert intro_groups(sandbox) == [("U001", "U002")]
    assert any("guest accounts aren't included" in m.text for m in dms_to(sandbox, "U003"))
    with sandbox.deps.unit_of_work() as session:
        statuses = dict(session.execute(select(Member.slack_user_id, Member.status)).all())
    assert statuses["U005"] == "inactive" and statuses["U003"] == "active"

    go_to(sandbox, MONDAY_9 + timedelta(weeks=1))  # the next round: still a guest
    sandbox.tick()
    assert intro_groups(sandbox, since=1) == [("U001", "U002")]
    told = [m for m in dms_to(sandbox, "U003") if "guest accounts aren't included" in m.text]
    assert len(told) == 1  # told once, not every round

    include_guests(sandbox)  # from the next round, guests take part
    go_to(sandbox, MONDAY_9 + timedelta(weeks=2))
    sandbox.tick()
    assert {u for g in intro_groups(sandbox, since=2) for u in g} == {"U001", "U002", "U003"}
