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
