"""Keep meeting: after a chat each person chooses privately; the pair stays together only when
everyone chose it, and either can end it at any time without the other being told why."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from bot import ids
from bot.sandbox.harness import Sandbox
from bot.sandbox.slack_emulator import Message
from bot.views.pairing import KEEP_MEETING_ENDED_TEXT
from db.models import KeepMeeting
from tests.concurrency import all_at_once
from tests.cycle_helpers import MONDAY_9, button_value, dms_to, go_to, intros, press

FOUR = ["U001", "U002", "U003", "U004"]
KEEP_2 = f"{ids.KEEP_MEETING}_2"


def round_groups(sandbox: Sandbox, round_number: int) -> list[frozenset[str]]:
    return [
        frozenset(sandbox.emulator.conversation_members(m.channel))
        for m in intros(sandbox)[2 * round_number : 2 * round_number + 2]
    ]


def partner_in(sandbox: Sandbox, round_number: int, user: str) -> str:
    group = next(g for g in round_groups(sandbox, round_number) if user in g)
    return next(u for u in group if u != user)


def meet(sandbox: Sandbox, round_number: int, user: str) -> None:
    intro = next(
        m
        for m in intros(sandbox)[2 * round_number :]
        if user in sandbox.emulator.conversation_members(m.channel)
    )
    if ids.WE_MET not in str(intro.blocks):
        return  # the group said so already
    press(sandbox, user, ids.WE_MET, intro)
    sandbox.settle()
    sandbox.tick()


def offer_to(sandbox: Sandbox, user: str) -> Message:
    return [m for m in dms_to(sandbox, user) if m.text.startswith("Would you like to keep")][-1]


def next_round(sandbox: Sandbox, weeks: int) -> None:
    """Everyone meets in the current round (so nobody is paused for silence), then the next
    round starts."""
    if weeks:
        for group in round_groups(sandbox, weeks - 1):
            meet(sandbox, weeks - 1, min(group))
    go_to(sandbox, MONDAY_9 + timedelta(weeks=weeks))
    sandbox.tick()


def start(sandbox: Sandbox) -> str:
    for user in FOUR:
        sandbox.join(user, level=3, goals=["delegation"])
    next_round(sandbox, 0)
    partner = partner_in(sandbox, 0, "U001")
    meet(sandbox, 0, "U001")
    return partner


def test_after_a_chat_each_person_is_asked_privately(sandbox: Sandbox) -> None:
    partner = start(sandbox)
    for user in ("U001", partner):
        offer = offer_to(sandbox, user)
        assert "Only you see this" in str(offer.blocks)
        assert sandbox.emulator.conversation_members(offer.channel) == (user,)


def test_one_persons_wish_alone_keeps_nobody_together(sandbox: Sandbox) -> None:
    partner = start(sandbox)
    press(sandbox, "U001", KEEP_2, offer_to(sandbox, "U001"))
    sandbox.settle()

    next_round(sandbox, 1)

    assert partner_in(sandbox, 1, "U001") != partner
    assert not any("keep meeting for" in m.text for m in dms_to(sandbox, partner))


def test_when_both_choose_they_stay_together_for_the_rounds_chosen_then_rotate(
    sandbox: Sandbox,
) -> None:
    partner = start(sandbox)
    press(sandbox, "U001", KEEP_2, offer_to(sandbox, "U001"))
    press(sandbox, partner, f"{ids.KEEP_MEETING}_3", offer_to(sandbox, partner))
    sandbox.settle()
    sandbox.tick()
    # Both are told, privately, for the rounds everyone agreed to (the fewer).
    for user in ("U001", partner):
        assert any("keep meeting for 2 more rounds" in m.text for m in dms_to(sandbox, user))

    next_round(sandbox, 1)
    next_round(sandbox, 2)
    next_round(sandbox, 3)

    assert [partner_in(sandbox, n, "U001") for n in (1, 2)] == [partner, partner]
    assert partner_in(sandbox, 3, "U001") != partner


def test_either_can_end_it_and_the_other_only_hears_a_new_peer_comes(sandbox: Sandbox) -> None:
    partner = start(sandbox)
    press(sandbox, "U001", KEEP_2, offer_to(sandbox, "U001"))
    press(sandbox, partner, KEEP_2, offer_to(sandbox, partner))
    sandbox.settle()
    sandbox.tick()
    agreed = [m for m in dms_to(sandbox, partner) if "will keep meeting" in m.text][-1]

    press(sandbox, partner, ids.KEEP_MEETING_END, agreed)
    sandbox.settle()
    sandbox.tick()
    next_round(sandbox, 1)

    told = [m.text for m in dms_to(sandbox, "U001")]
    assert told.count(KEEP_MEETING_ENDED_TEXT) == 1
    assert KEEP_MEETING_ENDED_TEXT not in [m.text for m in dms_to(sandbox, partner)]
    assert partner_in(sandbox, 1, "U001") != partner


def test_both_choosing_at_the_same_moment_is_recorded_once_each_and_told_once(
    sandbox: Sandbox,
) -> None:
    partner = start(sandbox)
    offers = {user: offer_to(sandbox, user) for user in ("U001", partner)}

    def choose(user: str):  # type: ignore[no-untyped-def]
        return lambda: sandbox.people.click(
            user,
            KEEP_2,
            value=button_value(offers[user], KEEP_2),
            channel_id=offers[user].channel,
            message_ts=offers[user].ts,
        )

    results = all_at_once([choose("U001"), choose(partner), choose("U001"), choose(partner)])
    sandbox.settle()
    sandbox.tick()

    assert [r.status for r, _ in results] == [200] * 4
    with sandbox.deps.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(KeepMeeting)) == 2
    for user in ("U001", partner):
        agreed = [m for m in dms_to(sandbox, user) if "will keep meeting" in m.text]
        assert len(agreed) == 1
    next_round(sandbox, 1)
    assert partner_in(sandbox, 1, "U001") == partner
