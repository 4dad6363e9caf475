"""A round as members live it: pairing, the intro DM, buttons, reflections, follow-ups."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from sqlalchemy import func, select

from bot import ids
from bot.sandbox.harness import Sandbox
from bot.sandbox.slack_requests import select as select_state
from bot.sandbox.slack_requests import text_input
from bot.services.rounds import start_round
from bot.views.pairing import no_new_partner_text
from db.models import Member, OutboxMessage, PairGroup, Reflection, Round
from tests.cycle_helpers import (
    MONDAY_9,
    button_value,
    dms_to,
    first_programme,
    go_to,
    intro_groups,
    intros,
    press,
)

USERS = ["U001", "U002", "U003", "U004", "U005"]


def join_all(sandbox: Sandbox, users: list[str] = USERS) -> None:
    for n, user in enumerate(users):
        sandbox.join(
            user, level=2 + n % 2, goals=["delegation", "feedback"] if n % 2 else ["delegation"]
        )


def reflection_values(
    usefulness: str, takeaway: str | None, commitment: str | None, share: bool = False
) -> dict:
    values = (
        select_state(ids.USEFULNESS_BLOCK, ids.USEFULNESS_ACTION, usefulness)
        | text_input(ids.TAKEAWAY_BLOCK, ids.TAKEAWAY_ACTION, takeaway)
        | text_input(ids.COMMITMENT_BLOCK, ids.COMMITMENT_ACTION, commitment)
    )
    checked = {
        ids.SHARE_BLOCK: {
            ids.SHARE_ACTION: {
                "type": "checkboxes",
                "selected_options": [{"value": "share"}] if share else [],
            }
        }
    }
    return values | checked


def test_each_member_gets_exactly_one_intro_with_agenda_prompts_and_buttons(
    sandbox: Sandbox,
) -> None:
    join_all(sandbox)
    go_to(sandbox, MONDAY_9)

    report = sandbox.tick()

    assert len(report.rounds_started) == 1
    groups = intro_groups(sandbox)
    assert sorted(len(g) for g in groups) == [2, 3]  # five members: one pair, one trio
    assert Counter(u for g in groups for u in g) == Counter(USERS)
    intro = intros(sandbox)[0]
    text = str(intro.blocks)
    assert "Check-in (5 min)" in text and "Commitments (" in text and "How to coach" in text
    assert "If you need a way in" in text
    assert "you go first" in text
    buttons = [
        e["action_id"] for b in intro.blocks if b["type"] == "actions" for e in b["elements"]
    ]
    assert buttons == [ids.WE_MET, ids.CANT_MAKE_IT, ids.OPEN_REFLECTION, ids.HOW_TO_COACH]
    assert "delegation" in text.lower()  # the shared goal is named as a reason


def test_ticking_again_or_restarting_never_starts_a_second_round_for_the_period(
    sandbox: Sandbox,
) -> None:
    join_all(sandbox)
    go_to(sandbox, MONDAY_9)
    sandbox.tick()
    sandbox.tick()
    sandbox.clock.advance(hours=3)
    sandbox.tick()

    with sandbox.deps.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(Round)) == 1
    assert len(intros(sandbox)) == 2


def test_a_round_missed_while_down_runs_when_the_process_returns_within_grace(
    sandbox: Sandbox,
) -> None:
    join_all(sandbox)
    go_to(sandbox, MONDAY_9 + timedelta(hours=6))  # the process was down at 09:00
    assert len(sandbox.tick().rounds_started) == 1

    go_to(sandbox, MONDAY_9 + timedelta(weeks=1, hours=25))  # down for over a day: skipped
    assert sandbox.tick().rounds_started == []


def test_paused_members_are_skipped_and_come_back_when_the_pause_ends(sandbox: Sandbox) -> None:
    join_all(sandbox)
    sandbox.people.command("U005", "pause 1 week")  # until Monday 08:00 + 1 week
    sandbox.people.command("U004", "skip")
    go_to(sandbox, MONDAY_9)
    sandbox.tick()
    assert {u for g in intro_groups(sandbox) for u in g} == {"U001", "U002", "U003"}

    go_to(sandbox, MONDAY_9 + timedelta(weeks=1))
    sandbox.tick()
    assert {u for g in intro_groups(sandbox, since=1) for u in g} == set(USERS)


def test_we_met_is_recorded_once_and_acknowledged_privately(sandbox: Sandbox) -> None:
    join_all(sandbox, USERS[:2])
    go_to(sandbox, MONDAY_9)
    sandbox.tick()
    intro = intros(sandbox)[0]
    group_id = button_value(intro, ids.WE_MET)

    for _ in range(2):
        sandbox.people.click(
            "U001", ids.WE_MET, value=group_id, channel_id=intro.channel, message_ts=intro.ts
        )
    sandbox.settle()

    # The two presses race; exactly one of them is the first, whichever that is.
    replies = sorted(r["text"] for r in sandbox.emulator.responses)
    assert replies[0].startswith("Already noted") and replies[1].startswith("Noted: you met")
    assert all(r["response_type"] == "ephemeral" for r in sandbox.emulator.responses)
    with sandbox.deps.unit_of_work() as session:
        assert session.scalar(select(PairGroup.met_at)) is not None


def test_cant_make_it_tells_the_partner_kindly_once_and_does_not_count_as_met(
    sandbox: Sandbox,
) -> None:
    join_all(sandbox, USERS[:2])
    go_to(sandbox, MONDAY_9)
    sandbox.tick()
    intro = intros(sandbox)[0]
    group_id = button_value(intro, ids.CANT_MAKE_IT)

    for _ in range(2):
        sandbox.people.click(
            "U002", ids.CANT_MAKE_IT, value=group_id, channel_id=intro.channel, message_ts=intro.ts
        )
    sandbox.settle()

    notes = [m.text for m in sandbox.emulator.messages_in(intro.channel)[1:]]
    assert notes == [
        "<@U002> can't make it this round. No problem: life happens. "
        "I'll look for someone else who is free this round."
    ]
    # Nobody else in this round is free: the one left is told so, kindly, once.
    assert [m.text for m in dms_to(sandbox, "U001")].count(no_new_partner_text()) == 1
    with sandbox.deps.unit_of_work() as session:
        assert session.scalar(select(PairGroup.met_at)) is None


def test_a_stranger_cannot_press_a_groups_buttons(sandbox: Sandbox) -> None:
    join_all(sandbox, USERS[:2])
    go_to(sandbox, MONDAY_9)
    sandbox.tick()
    intro = intros(sandbox)[0]
    press(sandbox, "U009", ids.WE_MET, intro)
    sandbox.settle()
    assert "isn't yours" in sandbox.emulator.responses[-1]["text"]
    with sandbox.deps.unit_of_work() as session:
        assert session.scalar(select(PairGroup.met_at)) is None


def open_reflection_modal(sandbox: Sandbox, user: str) -> dict:
    intro = next(
        m for m in intros(sandbox) if user in sandbox.emulator.conversation_members(m.channel)
    )
    press(sandbox, user, ids.OPEN_REFLECTION, intro)
    sandbox.settle()
    return sandbox.emulator.successful("views.open")[-1].response["view"]


def test_reflection_validates_stores_privately_and_counts_as_met(sandbox: Sandbox) -> None:
    join_all(sandbox, USERS[:2])
    go_to(sandbox, MONDAY_9)
    sandbox.tick()
    view = open_reflection_modal(sandbox, "U001")
    assert view["callback_id"] == ids.REFLECTION_MODAL

    refused = sandbox.people.submit("U001", view, reflection_values("", None, None, share=True))
    assert refused.json()["response_action"] == "errors"
    assert set(refused.json()["errors"]) == {ids.USEFULNESS_BLOCK, ids.SHARE_BLOCK}

    accepted = sandbox.people.submit(
        "U001", view, reflection_values("4", "Ask before advising", "Delegate the budget review")
    )
    assert accepted.status == 200 and accepted.body == b""
    sandbox.settle()

    with sandbox.deps.unit_of_work() as session:
        stored = session.scalars(select(Reflection)).one()
        assert (stored.usefulness, stored.commitment) == (4, "Delegate the budget review")
        assert session.scalar(select(PairGroup.met_at)) is not None
    group_dm = intros(sandbox)[0].channel
    everything_in_group_dm = str(
        [(m.text, m.blocks) for m in sandbox.emulator.messages_in(group_dm)]
    )
    assert "Ask before advising" not in everything_in_group_dm
    assert "Reflection saved" in dms_to(sandbox, "U001")[-1].text


def test_a_shared_takeaway_reaches_the_partner_once(sandbox: Sandbox) -> None:
    join_all(sandbox, USERS[:2])
    go_to(sandbox, MONDAY_9)
    sandbox.tick()
    for _ in range(2):
        view = open_reflection_modal(sandbox, "U002")
        sandbox.people.submit(
            "U002", view, reflection_values("5", "Silence is a tool", None, share=True)
        )
        sandbox.settle()
    group_dm = intros(sandbox)[0].channel
    shared = [
        m.text for m in sandbox.emulator.messages_in(group_dm) if "shared a takeaway" in m.text
    ]
    assert shared == [":bulb: <@U002> shared a takeaway from your chat: “Silence is a tool”"]


def test_reflect_command_opens_the_latest_pairing_prefilled(sandbox: Sandbox) -> None:
    assert "haven't been paired" in sandbox.people.command("U001", "reflect").text
    join_all(sandbox, USERS[:2])
    go_to(sandbox, MONDAY_9)
    sandbox.tick()
    view = open_reflection_modal(sandbox, "U001")
    sandbox.people.submit("U001", view, reflection_values("3", "Pause more", "Block focus time"))
    sandbox.settle()

    sandbox.people.command("U001", "reflect")
    sandbox.settle()
    reopened = sandbox.emulator.successful("views.open")[-1].args["view"]
    by_block = {b.get("block_id"): b for b in reopened["blocks"]}
    assert by_block[ids.USEFULNESS_BLOCK]["element"]["initial_option"]["value"] == "3"
    assert by_block[ids.COMMITMENT_BLOCK]["element"]["initial_value"] == "Block focus time"


def test_next_round_asks_privately_how_the_commitment_went(sandbox: Sandbox) -> None:
    join_all(sandbox, USERS[:2])
    go_to(sandbox, MONDAY_9)
    sandbox.tick()
    view = open_reflection_modal(sandbox, "U001")
    sandbox.people.submit("U001", view, reflection_values("4", None, "Hand over the weekly report"))
    sandbox.settle()

    go_to(sandbox, MONDAY_9 + timedelta(weeks=1))
    sandbox.tick()

    question = next(m for m in dms_to(sandbox, "U001") if "committed to" in m.text)
    assert "Hand over the weekly report" in question.text
    assert "asked privately" in str(intros(sandbox)[-1].blocks)
    assert "Hand over the weekly report" not in str(intros(sandbox)[-1].blocks)
    press(sandbox, "U001", ids.COMMITMENT_PARTLY, question)
    sandbox.settle()
    assert "*Partly*" in sandbox.emulator.responses[-1]["text"]
    with sandbox.deps.unit_of_work() as session:
        assert session.scalar(select(Reflection.commitment_outcome)) == "partly"
    history = sandbox.people.command("U001", "history").json()
    assert "Hand over the weekly report (partly done)" in str(history["blocks"])


def test_nudge_and_check_in_reach_groups_that_have_not_met_once_each(sandbox: Sandbox) -> None:
    join_all(sandbox, USERS[:4])
    go_to(sandbox, MONDAY_9)
    sandbox.tick()
    met_intro = intros(sandbox)[0]
    member = sandbox.emulator.conversation_members(met_intro.channel)[0]
    press(sandbox, member, ids.WE_MET, met_intro)
    sandbox.settle()
    quiet_channel = intros(sandbox)[1].channel

    for hours in range(0, 24 * 7, 6):  # a week of ticks every six hours
        go_to(sandbox, MONDAY_9 + timedelta(hours=hours))
        sandbox.tick()

    def texts(channel: str) -> list[str]:
        return [m.text for m in sandbox.emulator.messages_in(channel)]

    assert sum("gentle nudge" in t for t in texts(quiet_channel)) == 1
    assert sum("did you meet?" in t for t in texts(quiet_channel)) == 1
    assert not any("nudge" in t or "did you meet" in t for t in texts(met_intro.channel))


def test_members_silent_three_rounds_running_are_paused_with_a_kind_dm(sandbox: Sandbox) -> None:
    join_all(sandbox, USERS[:4])
    responsive = "U001"
    for week in range(4):
        go_to(sandbox, MONDAY_9 + timedelta(weeks=week))
        sandbox.tick()
        intro = [
            m
            for m in intros(sandbox)
            if responsive in sandbox.emulator.conversation_members(m.channel)
        ][-1]
        press(sandbox, responsive, ids.CANT_MAKE_IT, intro)
        sandbox.settle()

    with sandbox.deps.unit_of_work() as session:
        statuses = dict(session.execute(select(Member.slack_user_id, Member.status)).all())
    # U001 answered every round (can't make it); the others never answered at all.
    silent = [u for u, s in statuses.items() if s == "paused"]
    assert sorted(silent) == ["U002", "U003", "U004"] and statuses[responsive] == "active"
    for user in silent:
        note = next(m for m in dms_to(sandbox, user) if "paused your pairing" in m.text)
        buttons = [
            e["action_id"] for b in note.blocks if b["type"] == "actions" for e in b["elements"]
        ]
        assert buttons == [ids.RESUME_FROM_DM, ids.LEAVE_CONFIRM]


def test_someone_who_cannot_be_paired_is_told_kindly(sandbox: Sandbox) -> None:
    sandbox.join("U001", never=["U002"])
    sandbox.join("U002")
    go_to(sandbox, MONDAY_9)
    sandbox.tick()
    assert intros(sandbox) == []
    for user in ("U001", "U002"):
        assert "couldn't find a peer" in dms_to(sandbox, user)[-1].text


def test_a_deactivated_member_is_taken_out_at_round_time_and_their_partner_told(
    sandbox: Sandbox,
) -> None:
    join_all(sandbox, USERS[:2])
    sandbox.emulator.add_user("U002", deleted=True)
    go_to(sandbox, MONDAY_9)
    sandbox.tick()

    assert intros(sandbox) == []
    assert "couldn't find a peer" in dms_to(sandbox, "U001")[-1].text
    with sandbox.deps.unit_of_work() as session:
        assert (
            session.scalar(select(Member.status).where(Member.slack_user_id == "U002"))
            == "inactive"
        )
        assert (
            session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.status == "pending")
            )
            == 0
        )


def test_a_trio_with_a_deactivated_member_goes_ahead_as_a_pair(sandbox: Sandbox) -> None:
    join_all(sandbox, USERS[:3])
    sandbox.emulator.add_user("U003", deleted=True)
    go_to(sandbox, MONDAY_9)
    sandbox.tick()
    assert intro_groups(sandbox) == [("U001", "U002")]
    assert "U003" not in str(intros(sandbox)[0].blocks)


def test_history_shows_only_the_persons_own_notes(sandbox: Sandbox) -> None:
    join_all(sandbox, USERS[:2])
    go_to(sandbox, MONDAY_9)
    sandbox.tick()
    view = open_reflection_modal(sandbox, "U002")
    sandbox.people.submit(
        "U002", view, reflection_values("5", "U002 private takeaway", "U002 plan")
    )
    sandbox.settle()
    mine = str(sandbox.people.command("U001", "history").json())
    theirs = str(sandbox.people.command("U002", "history").json())
    assert "U002 private takeaway" not in mine and "<@U002>" in mine
    assert "U002 private takeaway" in theirs


def test_someone_whose_peer_is_unreachable_joins_a_pair_still_waiting_for_its_intro(
    sandbox: Sandbox,
) -> None:
    join_all(sandbox, ["U001", "U002", "U003", "U004", "U005", "U006"])
    go_to(sandbox, MONDAY_9)
    with sandbox.deps.unit_of_work() as session:  # record the round; nothing sent yet
        programme = first_programme(session)
        start_round(session, programme, now=sandbox.now(), period_key="p", kind="scheduled")
        first_group = session.scalars(select(PairGroup).order_by(PairGroup.id)).first()
        gone, partner = (s.slack_user_id for s in first_group.seats)
    sandbox.emulator.add_user(gone, deleted=True)  # their account was deactivated meanwhile

    sandbox.delivery.run()

    groups = intro_groups(sandbox)
    assert sorted(len(g) for g in groups) == [2, 3]
    assert partner in next(g for g in groups if len(g) == 3)
    assert gone not in {u for g in groups for u in g}
    assert not any("can't be reached" in m.text for m in dms_to(sandbox, partner))
