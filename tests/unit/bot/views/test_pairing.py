"""Why a group was put together, in the words the intro DM uses."""

from __future__ import annotations

import pytest

from bot.views.pairing import describe_reasons


@pytest.mark.parametrize(
    ("reasons", "phrases"),
    [
        (
            ["first_meeting", "shared_goal:delegation", "shared_goal:hiring", "same_level"],
            [
                "you both want to work on *Delegation*, *Hiring and building teams*",
                "you lead at the same level",
                "it's your first PeerCoach chat together",
            ],
        ),
        (
            ["repeat", "adjacent_level", "tz_overlap", "cross_team"],
            [
                "you lead at similar levels",
                "your working hours overlap",
                "you sit in different teams, so you bring fresh eyes",
                "you've met before, a chance to go deeper",
            ],
        ),
        (["kept_together"], ["you've met before, a chance to go deeper"]),
        (["shared_goal:origami"], ["you both want to work on *origami*"]),
        ([], []),
    ],
    ids=["first meeting", "met before", "kept together", "topic no longer offered", "none"],
)
def test_reasons_read_as_short_phrases_in_a_fixed_order(
    reasons: list[str], phrases: list[str]
) -> None:
    assert describe_reasons(reasons) == phrases


def test_codes_it_does_not_know_say_nothing_rather_than_leak() -> None:
    assert describe_reasons(["excluded:U002", "never_pair", "U002"]) == []


def test_a_keep_meeting_button_carries_its_group_and_rounds_and_nothing_else_is_read() -> None:
    from bot.errors import StaleAction
    from bot.views.pairing import keep_value, parse_keep_value

    assert parse_keep_value(keep_value(42, 3)) == (42, 3)
    for forged in ("", "42", "42:", ":3", "x:3", "42:x", "42:333", "-1:2", None):
        with pytest.raises(StaleAction):
            parse_keep_value(forged)


def test_the_keep_meeting_question_offers_one_button_per_round_up_to_the_cap() -> None:
    from bot import ids
    from bot.views.pairing import keep_meeting_offer

    offer = keep_meeting_offer(7, ["U002"], 3)
    buttons = [e for b in offer.blocks if b["type"] == "actions" for e in b["elements"]]
    assert [b["action_id"] for b in buttons] == [f"{ids.KEEP_MEETING}_{n}" for n in (1, 2, 3)]
    assert [b["value"] for b in buttons] == ["7:1", "7:2", "7:3"]
    assert "Only you see this" in str(offer.blocks)


def test_a_circle_intro_names_the_session_and_who_brings_a_challenge() -> None:
    from bot.domain.messages import IntroNotice
    from bot.views.pairing import intro_message

    notice = IntroNotice(
        group_id=1,
        user_ids=("U003", "U001", "U002"),
        reasons=(),
        prompts=(),
        circle_session=2,
        season_sessions=6,
    )
    text = str(intro_message(notice).blocks)
    assert "session 2 of 6" in text and "This session <@U003> brings a challenge" in text
