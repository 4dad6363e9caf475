"""What a leader sees in a round: the agreement, the coach's toolkit, an intro that keeps
everyone up to date, and admin messages in plain words."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot import ids
from bot.sandbox.harness import Sandbox
from bot.schedule import Schedule, round_times_after
from bot.services.rounds import RETIRE_AFTER
from db.models import Workspace
from tests.cycle_helpers import MONDAY_9, button_value, dms_to, go_to, intros, press, set_schedule
from tests.test_admin import ADMIN, open_settings, settings_values


def block_texts(blocks: list[dict]) -> str:
    return str(blocks)


def buttons(blocks: list[dict]) -> list[str]:
    return [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]


def test_a_trio_intro_speaks_to_three_and_its_half_hour_adds_up(sandbox: Sandbox) -> None:
    for user in ("U001", "U002", "U003"):
        sandbox.join(user, goals=["delegation", "feedback"])
    go_to(sandbox, MONDAY_9)
    sandbox.tick()

    [intro] = intros(sandbox)
    text = block_texts(intro.blocks)
    assert "you both" not in text and "two or more of you want to work on" in text
    assert "Challenges (6 min each)" in text and "Commitments (7 min)" in text  # 5+18+7 = 30
    assert "Find 30 minutes this week" in text
    assert "What's said here stays here" in text  # the agreement, restated


def test_a_fortnightly_programme_gives_two_weeks_to_meet(sandbox: Sandbox) -> None:
    sandbox.join("U001")
    sandbox.join("U002")
    set_schedule(sandbox, cadence_weeks=2)
    go_to(sandbox, round_times_after(Schedule(cadence_weeks=2), sandbox.now()))
    sandbox.tick()
    assert "Find 30 minutes in the next two weeks" in block_texts(intros(sandbox)[0].blocks)


def test_the_coach_gets_two_questions_and_a_guide_one_click_away(sandbox: Sandbox) -> None:
    sandbox.join("U001", goals=["feedback"])
    sandbox.join("U002", goals=["feedback"])
    go_to(sandbox, MONDAY_9)
    sandbox.tick()
    [intro] = intros(sandbox)
    coach = next(b for b in intro.blocks if "For whoever coaches" in str(b))
    assert str(coach).count("•") == 2

    press(sandbox, "U002", ids.HOW_TO_COACH, intro)
    sandbox.settle()
    guide = sandbox.emulator.successful("views.open")[-1].args["view"]
    assert guide["callback_id"] == ids.COACHING_GUIDE_MODAL
    assert all(step in str(guide) for step in ("Goal", "Reality", "Options", "Will"))

    sandbox.people.click(
        "U001", ids.HOW_TO_COACH, value="home", view=sandbox.emulator.homes["U001"]
    )
    sandbox.settle()
    assert sandbox.emulator.successful("views.open")[-1].args["view"]["callback_id"] == (
        ids.COACHING_GUIDE_MODAL
    )


def test_we_met_updates_the_intro_for_everyone_and_a_closed_round_retires_its_buttons(
    sandbox: Sandbox,
) -> None:
    sandbox.join("U001")
    sandbox.join("U002")
    go_to(sandbox, MONDAY_9)
    sandbox.tick()
    [intro] = intros(sandbox)
    press(sandbox, "U002", ids.WE_MET, intro)
    sandbox.settle()  # the listener records after its ack: U002's press is the first
    press(sandbox, "U001", ids.WE_MET, intro)  # the second press changes nothing more
    sandbox.settle()
    sandbox.tick()

    updates = sandbox.emulator.successful("chat.update")
    assert len(updates) == 1 and updates[0].args["ts"] == intro.ts
    assert "<@U002> said you met" in str(intro.blocks)  # the emulator keeps the live message
    assert buttons(intro.blocks) == [ids.OPEN_REFLECTION, ids.HOW_TO_COACH]

    go_to(sandbox, MONDAY_9 + timedelta(weeks=1))
    sandbox.tick()  # the next round; the old intro is retired once the new intros are out
    assert len(sandbox.emulator.successful("chat.update")) == 1
    go_to(sandbox, MONDAY_9 + timedelta(weeks=1) + RETIRE_AFTER)
    sandbox.tick()
    assert len(sandbox.emulator.successful("chat.update")) == 2
    assert buttons(intro.blocks) == [] and "This round has closed" in str(intro.blocks)
    assert "<@U002> said you met" in str(intro.blocks)


def test_leaving_from_the_auto_pause_dm_asks_first(sandbox: Sandbox) -> None:
    sandbox.join("U001")
    sandbox.join("U002")
    for week in range(4):  # three silent rounds, then the fourth round pauses them
        go_to(sandbox, MONDAY_9 + timedelta(weeks=week))
        sandbox.tick()
    notice = next(m for m in dms_to(sandbox, "U001") if "paused your pairing" in m.text)
    leave = next(
        e
        for b in notice.blocks
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == ids.LEAVE_CONFIRM
    )
    assert leave["confirm"]["confirm"]["text"] == "Leave"


def test_admin_messages_speak_plainly(sandbox: Sandbox) -> None:
    sandbox.emulator.add_user(ADMIN, name="programme-lead", is_admin=True)
    sandbox.join("U001", goals=["leading_change"])
    sandbox.people.submit(ADMIN, open_settings(sandbox), settings_values(hour="10", size="3"))
    sandbox.settle()
    saved = dms_to(sandbox, ADMIN)[-1].text
    assert saved == "Settings saved (time, group size changed). They apply from the next round."

    sandbox.people.open_home("U001")
    sandbox.settle()
    assert "Topics: Leading change" in str(sandbox.emulator.homes["U001"])
    with sandbox.deps.unit_of_work() as session:
        team_id = session.scalars(select(Workspace.team_id)).one()

    for user in ("U002", "U003", "U004"):
        sandbox.join(user)
    go_to(sandbox, MONDAY_9.replace(hour=10))
    sandbox.tick()
    go_to(sandbox, MONDAY_9.replace(hour=10) + timedelta(weeks=1))
    sandbox.tick()
    digest = next(u for u in sandbox.emulator.uploads.values() if u["content"])
    assert team_id not in digest["initial_comment"]
    assert "usefulness: fewer than 5 answers" in digest["initial_comment"]
    assert "/ 5" not in digest["initial_comment"]
    sandbox.people.open_home(ADMIN)
    sandbox.settle()
    assert "```" not in str(sandbox.emulator.homes[ADMIN])
    _ = button_value
