"""The join modal: what a person sees when opting in or editing, and what their answers become."""

from __future__ import annotations

from typing import Any

import pytest

from bot import ids
from bot.errors import StaleAction
from bot.profile_options import GOALS, LEVEL_BANDS, MAX_GOALS, MAX_NEVER_PAIR, MAX_TEAM_LENGTH
from bot.sandbox.slack_requests import (
    join_values,
    multi_select,
    select,
    text_input,
    users_select,
)
from bot.views.membership import join_modal, parse_join_submission
from tests.unit.bot.views.modals import (
    assert_refused_under,
    assert_slack_would_open,
    one_character_too_many,
    submitted_unchanged,
)

ME = "U001"
FILLED_IN = join_values(3, "  Platform Engineering ", ["delegation", "feedback"], ["U002", "U003"])


def parse(values: dict[str, Any]) -> Any:
    return parse_join_submission(values, user_id=ME)


def test_a_filled_in_modal_becomes_the_persons_profile() -> None:
    profile, errors = parse(FILLED_IN)

    assert errors == {}
    assert profile is not None
    assert (profile.level, profile.team) == (3, "Platform Engineering")
    assert profile.goals == ("delegation", "feedback")
    assert profile.never_pair == ("U002", "U003")


def test_options_the_modal_never_offered_are_out_of_date() -> None:
    topics = multi_select(ids.GOALS_BLOCK, ids.GOALS_ACTION, ["feedback", "juggling"])
    for forged in (topics, select(ids.LEVEL_BLOCK, ids.LEVEL_ACTION, "9")):
        with pytest.raises(StaleAction):
            parse(FILLED_IN | forged)


LEVEL_RULE = "Pick the level closest to yours."
TOO_MANY_TOPICS = list(GOALS)[: MAX_GOALS + 1]
TOO_MANY_PEOPLE = [f"U{n:03d}" for n in range(100, 101 + MAX_NEVER_PAIR)]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param({ids.LEVEL_BLOCK: {}}, LEVEL_RULE, id="no level"),
        pytest.param(
            text_input(ids.TEAM_BLOCK, ids.TEAM_ACTION, "   "), "Tell us your team or department."
        ),
        one_character_too_many(ids.TEAM_BLOCK, ids.TEAM_ACTION, MAX_TEAM_LENGTH),
        pytest.param(
            multi_select(ids.GOALS_BLOCK, ids.GOALS_ACTION, []), "Pick at least one topic."
        ),
        pytest.param(
            multi_select(ids.GOALS_BLOCK, ids.GOALS_ACTION, TOO_MANY_TOPICS),
            f"Pick at most {MAX_GOALS} topics.",
            id="too many topics",
        ),
        pytest.param(
            users_select(ids.NEVER_PAIR_BLOCK, ids.NEVER_PAIR_ACTION, ["U002", ME]),
            "You can leave yourself off this list.",
        ),
        pytest.param(
            users_select(ids.NEVER_PAIR_BLOCK, ids.NEVER_PAIR_ACTION, TOO_MANY_PEOPLE),
            f"List at most {MAX_NEVER_PAIR} people.",
            id="too many never-pair",
        ),
    ],
)
def test_a_problem_is_shown_under_its_own_input(change: dict[str, Any], message: str) -> None:
    assert_refused_under(parse(FILLED_IN | change), change, message)


def test_every_problem_is_shown_at_once() -> None:
    profile, errors = parse({})
    assert profile is None
    assert set(errors) == {ids.LEVEL_BLOCK, ids.TEAM_BLOCK, ids.GOALS_BLOCK}


def test_a_newcomer_sees_an_empty_join_modal_slack_would_open() -> None:
    modal = join_modal(None)

    assert_slack_would_open(modal)
    assert (modal["title"]["text"], modal["submit"]["text"]) == ("Join PeerCoach", "Join")
    levels = modal["blocks"][1]["element"]["options"]
    assert [o["text"]["text"] for o in levels] == list(LEVEL_BANDS.values())
    assert not any("initial" in key for b in modal["blocks"][1:] for key in b["element"])


def test_a_member_editing_sees_their_answers_and_saving_unchanged_keeps_them() -> None:
    profile, _ = parse(FILLED_IN)
    modal = join_modal(profile)

    assert (modal["title"]["text"], modal["submit"]["text"]) == ("Your PeerCoach profile", "Save")
    assert submitted_unchanged(modal, parse) == (profile, {})
