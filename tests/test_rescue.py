"""When a chat falls through: the one left alone is offered someone free in the same round."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from bot import ids
from bot.sandbox.harness import Sandbox
from bot.sandbox.slack_emulator import Message
from bot.views.pairing import no_new_partner_text
from db.models import PairGroup
from tests.concurrency import all_at_once
from tests.cycle_helpers import MONDAY_9, button_value, dms_to, go_to, intros, press

FOUR = ["U001", "U002", "U003", "U004"]
CHECKIN_TIME = MONDAY_9 + timedelta(days=4, minutes=1)


def start_with_two_pairs(sandbox: Sandbox, never: dict[str, list[str]] | None = None) -> None:
    for user in FOUR:
        sandbox.join(user, level=3, goals=["delegation"], never=(never or {}).get(user, []))
    go_to(sandbox, MONDAY_9)
    sandbox.tick()
    assert len(intros(sandbox)) == 2


def intro_of(sandbox: Sandbox, user: str) -> Message:
    return next(
        m for m in intros(sandbox) if user in sandbox.emulator.conversation_members(m.channel)
    )


def partner_of(sandbox: Sandbox, user: str) -> str:
    members = sandbox.emulator.conversation_members(intro_of(sandbox, user).channel)
    return next(u for u in members if u != user)


def drop(sandbox: Sandbox, user: str) -> None:
    press(sandbox, user, ids.CANT_MAKE_IT, intro_of(sandbox, user))
    sandbox.settle()
    sandbox.tick()  # sends what was queued


def checkins_in(sandbox: Sandbox, channel: str) -> list[Message]:
    return [m for m in sandbox.emulator.messages_in(channel) if "did you meet?" in m.text]


def test_the_ones_left_alone_meet_each_other_and_dropped_chats_get_no_checkin(
    sandbox: Sandbox,
) -> None:
    start_with_two_pairs(sandbox)
    first = "U001"
    left_alone = partner_of(sandbox, first)
    third = next(u for u in FOUR if u not in (first, left_alone))
    last_one = partner_of(sandbox, third)

    drop(sandbox, first)
    # Nobody else is free yet: told kindly, and still free for a later drop.
    assert [m.text for m in dms_to(sandbox, left_alone)][-1] == no_new_partner_text()
    drop(sandbox, third)

    rescued = intros(sandbox)[2:]
    assert len(rescued) == 1
    assert set(sandbox.emulator.conversation_members(rescued[0].channel)) == {
        left_alone,
        last_one,
    }
    assert "couldn't make it" in str(rescued[0].blocks)
    # Like every intro, the new pair's offers times that suit both.
    assert "suit everyone's working hours" in str(rescued[0].blocks)
    assert (
        sum(b.get("accessory", {}).get("action_id") == ids.PICK_SLOT for b in rescued[0].blocks)
        == 3
    )
    assert no_new_partner_text() not in [m.text for m in dms_to(sandbox, last_one)]

    go_to(sandbox, CHECKIN_TIME)
    sandbox.tick()
    assert len(checkins_in(sandbox, rescued[0].channel)) == 1
    for dropped in intros(sandbox)[:2]:
        assert checkins_in(sandbox, dropped.channel) == []


def test_never_pair_lists_hold_in_a_rescue(sandbox: Sandbox) -> None:
    # U002 privately listed U004: when both are left alone they are never put together.
    start_with_two_pairs(sandbox, never={"U002": ["U004"]})

    drop(sandbox, partner_of(sandbox, "U002"))
    drop(sandbox, partner_of(sandbox, "U004"))

    assert len(intros(sandbox)) == 2  # no new chat
    assert no_new_partner_text() in [m.text for m in dms_to(sandbox, "U002")]
    assert no_new_partner_text() in [m.text for m in dms_to(sandbox, "U004")]


def test_two_drops_at_the_same_moment_make_exactly_one_rescue(sandbox: Sandbox) -> None:
    start_with_two_pairs(sandbox)
    first = "U001"
    left_alone = partner_of(sandbox, first)
    third = next(u for u in FOUR if u not in (first, left_alone))

    def press_now(user: str):  # type: ignore[no-untyped-def]
        message = intro_of(sandbox, user)
        return lambda: sandbox.people.click(
            user,
            ids.CANT_MAKE_IT,
            value=button_value(message, ids.CANT_MAKE_IT),
            channel_id=message.channel,
            message_ts=message.ts,
        )

    results = all_at_once([press_now(first), press_now(third), press_now(first)])
    sandbox.settle()
    sandbox.tick()

    assert [r.status for r, _ in results] == [200, 200, 200]
    with sandbox.deps.unit_of_work() as session:
        rescues = session.scalar(
            select(func.count()).select_from(PairGroup).where(PairGroup.rescue.is_(True))
        )
    assert rescues == 1
    assert len(intros(sandbox)) == 3
