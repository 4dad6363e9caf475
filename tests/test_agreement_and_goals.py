"""The confidentiality agreement people accept, and the private goal each member works on."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot import ids
from bot.sandbox.harness import Sandbox
from bot.sandbox.slack_requests import join_values, text_input
from bot.sandbox.slack_requests import select as select_state
from db.models import Member
from tests.cycle_helpers import MONDAY_9, dms_to, go_to, intro_groups, press
from tests.test_admin import ADMIN, open_settings, settings_values
from tests.test_rounds import open_reflection_modal, reflection_values

AGREE = {
    ids.AGREEMENT_BLOCK: {
        ids.AGREEMENT_ACTION: {"type": "checkboxes", "selected_options": [{"value": "agree"}]}
    }
}


def test_joining_asks_for_the_agreement_and_refuses_without_it(sandbox: Sandbox) -> None:
    sandbox.people.command("U001", "join")
    sandbox.settle()
    view = sandbox.emulator.calls_to("views.open")[-1].response["view"]
    assert "What is said in a PeerCoach chat stays between the peers" in str(view["blocks"])

    refused = sandbox.people.submit(
        "U001", view, join_values(3, "Sales", ["delegation"], agree=False)
    )
    assert ids.AGREEMENT_BLOCK in refused.json()["errors"]

    accepted = sandbox.people.submit("U001", view, join_values(3, "Sales", ["delegation"]))
    assert accepted.status == 200 and accepted.body == b""
    sandbox.settle()
    with sandbox.deps.unit_of_work() as session:
        member = session.scalars(select(Member)).one()
        assert member.agreement_version == 1 and member.agreement_accepted_at == sandbox.now()

    sandbox.people.command("U001", "profile")  # editing later does not ask again
    sandbox.settle()
    again = sandbox.emulator.calls_to("views.open")[-1].response["view"]
    assert ids.AGREEMENT_BLOCK not in str(again["blocks"])


def test_a_changed_agreement_makes_the_next_round_wait_for_acceptance(sandbox: Sandbox) -> None:
    sandbox.emulator.add_user(ADMIN, name="programme-lead", is_admin=True)
    for user in ("U001", "U002", "U003", "U004"):
        sandbox.join(user)
    changed = settings_values() | text_input(
        ids.AGREEMENT_TEXT_BLOCK, ids.AGREEMENT_TEXT_ACTION, "Chatham House rules apply."
    )
    sandbox.people.submit(ADMIN, open_settings(sandbox), changed)
    sandbox.settle()
    sandbox.tick()  # the request to accept goes out to every member
    ask = next(m for m in dms_to(sandbox, "U001") if "agreement has changed" in m.text)

    press(sandbox, "U001", ids.AGREEMENT_REVIEW, ask)
    sandbox.settle()
    modal = sandbox.emulator.successful("views.open")[-1].args["view"]
    assert "Chatham House rules apply." in str(modal)
    sandbox.people.submit(
        "U001", sandbox.emulator.successful("views.open")[-1].response["view"], AGREE
    )
    press(
        sandbox,
        "U002",
        ids.AGREEMENT_REVIEW,
        next(m for m in dms_to(sandbox, "U002") if "agreement" in m.text),
    )
    sandbox.settle()
    sandbox.people.submit(
        "U002", sandbox.emulator.successful("views.open")[-1].response["view"], AGREE
    )
    sandbox.settle()

    go_to(sandbox, MONDAY_9)
    sandbox.tick()
    assert intro_groups(sandbox) == [("U001", "U002")]  # U003 and U004 wait
    asked = [m for m in dms_to(sandbox, "U003") if "agreement has changed" in m.text]
    assert len(asked) == 1  # asked once per version, not again at round time


def test_a_goal_is_private_its_progress_reaches_admins_only_as_an_aggregate(
    sandbox: Sandbox,
) -> None:
    sandbox.emulator.add_user(ADMIN, name="programme-lead", is_admin=True)
    sandbox.people.command(ADMIN, "admin")  # a Slack admin seen using it gets digests
    sandbox.settle()
    people = [f"U{n:03d}" for n in range(1, 11)]
    for user in people:
        sandbox.join(user)
    secret_goal = "Stop rewriting my leads' slide decks at midnight"
    sandbox.people.command("U001", "goal")
    sandbox.settle()
    goal_view = sandbox.emulator.successful("views.open")[-1].response["view"]
    sandbox.people.submit(
        "U001", goal_view, text_input(ids.GOAL_BLOCK, ids.GOAL_ACTION, secret_goal)
    )
    sandbox.settle()
    for user in people[1:]:
        with sandbox.deps.unit_of_work() as session:
            member = session.scalars(select(Member).where(Member.slack_user_id == user)).one()
            member.goal = f"goal of {user}"

    go_to(sandbox, MONDAY_9)
    sandbox.tick()
    for user in people:
        view = open_reflection_modal(sandbox, user)
        assert ids.GOAL_PROGRESS_BLOCK in str(view["blocks"])
        progress = select_state(
            ids.GOAL_PROGRESS_BLOCK, ids.GOAL_PROGRESS_ACTION, "2" if user != "U010" else "0"
        )
        sandbox.people.submit(user, view, reflection_values("4", None, None) | progress)
    sandbox.settle()
    go_to(sandbox, MONDAY_9 + timedelta(weeks=1))
    sandbox.tick()

    digest = next(u for u in sandbox.emulator.uploads.values() if u["content"])
    assert "moved toward their own goal 90%" in digest["initial_comment"]
    sandbox.people.open_home(ADMIN)
    sandbox.people.open_home("U001")
    sandbox.settle()
    admin_saw = str(sandbox.emulator.homes[ADMIN]) + digest["initial_comment"]
    assert secret_goal not in admin_saw and "goal of" not in admin_saw
    own_home = str(sandbox.emulator.homes["U001"])
    assert secret_goal in own_home and "good progress so far" in own_home


def test_goal_progress_from_fewer_than_five_people_is_not_shown(sandbox: Sandbox) -> None:
    sandbox.emulator.add_user(ADMIN, name="programme-lead", is_admin=True)
    sandbox.people.command(ADMIN, "admin")
    sandbox.settle()
    for user in ("U001", "U002", "U003", "U004"):
        sandbox.join(user)
        with sandbox.deps.unit_of_work() as session:
            session.scalars(select(Member).where(Member.slack_user_id == user)).one().goal = "x"
    go_to(sandbox, MONDAY_9)
    sandbox.tick()
    for user in ("U001", "U002", "U003", "U004"):
        view = open_reflection_modal(sandbox, user)
        progress = select_state(ids.GOAL_PROGRESS_BLOCK, ids.GOAL_PROGRESS_ACTION, "1")
        sandbox.people.submit(user, view, reflection_values("4", None, None) | progress)
    sandbox.settle()
    go_to(sandbox, MONDAY_9 + timedelta(weeks=1))
    sandbox.tick()
    digest = next(u for u in sandbox.emulator.uploads.values() if u["content"])
    assert "moved toward their own goal fewer than 5" in digest["initial_comment"]


def test_the_members_own_home_shows_their_chat_commitment_and_agreement(sandbox: Sandbox) -> None:
    sandbox.join("U001")
    sandbox.join("U002")
    go_to(sandbox, MONDAY_9)
    sandbox.tick()
    view = open_reflection_modal(sandbox, "U001")
    sandbox.people.submit(
        "U001", view, reflection_values("5", "Ask before telling", "Ship the RFC")
    )
    sandbox.settle()
    sandbox.people.open_home("U001")
    sandbox.people.open_home("U002")
    sandbox.settle()
    mine = str(sandbox.emulator.homes["U001"])
    assert "your chat with <@U002>, it happened" in mine
    assert "Ship the RFC" in mine and "Ask before telling" in mine
    assert "stays between the peers" in mine
    theirs = str(sandbox.emulator.homes["U002"])
    assert "Ship the RFC" not in theirs and "Ask before telling" not in theirs
