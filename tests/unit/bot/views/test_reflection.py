"""The reflection modal: what a person sees after a chat, and what their answers become."""

from __future__ import annotations

from typing import Any

import pytest

from bot import ids
from bot.sandbox.slack_requests import multi_select, select, text_input
from bot.views.reflection import (
    MAX_COMMITMENT,
    MAX_TAKEAWAY,
    group_id_of,
    parse_reflection,
    reflection_modal,
)
from tests.unit.bot.views.modals import (
    assert_refused_under,
    assert_slack_would_open,
    one_character_too_many,
    submitted_unchanged,
)

SHARE = {ids.SHARE_BLOCK: {ids.SHARE_ACTION: {"type": "checkboxes", "selected_options": []}}}
FILLED_IN = (
    select(ids.USEFULNESS_BLOCK, ids.USEFULNESS_ACTION, "4")
    | text_input(ids.TAKEAWAY_BLOCK, ids.TAKEAWAY_ACTION, " Ask before advising. ")
    | text_input(ids.COMMITMENT_BLOCK, ids.COMMITMENT_ACTION, "Delegate the weekly report")
    | multi_select(ids.SHARE_BLOCK, ids.SHARE_ACTION, ["share"])
)


def test_a_filled_in_reflection_is_kept_as_written_without_the_padding() -> None:
    reflection, errors = parse_reflection(FILLED_IN)

    assert errors == {}
    assert reflection is not None
    assert reflection.usefulness == 4
    assert reflection.takeaway == "Ask before advising."
    assert reflection.commitment == "Delegate the weekly report"
    assert reflection.share_takeaway is True


def test_only_the_rating_is_required_and_blank_notes_are_no_notes() -> None:
    values = (
        select(ids.USEFULNESS_BLOCK, ids.USEFULNESS_ACTION, "1")
        | text_input(ids.TAKEAWAY_BLOCK, ids.TAKEAWAY_ACTION, "   ")
        | SHARE
    )
    reflection, errors = parse_reflection(values)
    assert errors == {}
    assert reflection is not None
    assert (reflection.takeaway, reflection.commitment, reflection.share_takeaway) == (
        None,
        None,
        False,
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param({ids.USEFULNESS_BLOCK: {}}, "Pick a number from 1 to 5.", id="no rating"),
        one_character_too_many(ids.COMMITMENT_BLOCK, ids.COMMITMENT_ACTION, MAX_COMMITMENT),
        one_character_too_many(ids.TAKEAWAY_BLOCK, ids.TAKEAWAY_ACTION, MAX_TAKEAWAY),
    ],
)
def test_a_problem_is_shown_under_its_own_input(change: dict[str, Any], message: str) -> None:
    assert_refused_under(parse_reflection(FILLED_IN | change), change, message)


def test_sharing_needs_a_takeaway_to_share() -> None:
    values = FILLED_IN | text_input(ids.TAKEAWAY_BLOCK, ids.TAKEAWAY_ACTION, None)
    assert parse_reflection(values) == (
        None,
        {ids.SHARE_BLOCK: "Write a takeaway to share, or untick sharing."},
    )


def test_a_first_reflection_names_the_peers_and_promises_privacy() -> None:
    modal = reflection_modal(42, ["U002", "U003"], None)

    assert_slack_would_open(modal)
    assert group_id_of(modal) == 42
    intro = modal["blocks"][0]["text"]["text"]
    assert "<@U002>, <@U003>" in intro and "private to you" in intro
    assert "your peers" in reflection_modal(42, [], None)["blocks"][0]["text"]["text"]


def test_reopening_shows_the_saved_reflection_and_saving_unchanged_keeps_it() -> None:
    saved, _ = parse_reflection(FILLED_IN)
    modal = reflection_modal(42, ["U002"], saved)

    assert submitted_unchanged(modal, parse_reflection) == (saved, {})
