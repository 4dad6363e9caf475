"""The feedback pulse's modal and its parser."""

from __future__ import annotations

import pytest

from bot import ids
from bot.domain.people import PulseInput
from bot.errors import StaleAction
from bot.sandbox.slack_requests import select, text_input
from bot.views.pulse import parse_pulse, pulse_id_of, pulse_modal


def values(score: str | None, suggestion: str = "", share: bool = False) -> dict:
    picked = select(ids.PULSE_SCORE_BLOCK, ids.PULSE_SCORE_ACTION, score) if score else {}
    return (
        picked
        | text_input(ids.PULSE_SUGGESTION_BLOCK, ids.PULSE_SUGGESTION_ACTION, suggestion)
        | {
            ids.PULSE_SHARE_BLOCK: {
                ids.PULSE_SHARE_ACTION: {
                    "type": "checkboxes",
                    "selected_options": [{"value": "share"}] if share else [],
                }
            }
        }
    )


def test_a_score_and_a_shared_suggestion_are_read() -> None:
    assert parse_pulse(values("4", " Longer rounds ", share=True)) == (
        PulseInput(4, "Longer rounds", True),
        {},
    )


def test_the_score_is_required_and_sharing_needs_a_suggestion() -> None:
    answer, errors = parse_pulse(values(None, "", share=True))
    assert answer is None
    assert set(errors) == {ids.PULSE_SCORE_BLOCK, ids.PULSE_SHARE_BLOCK}


def test_a_score_the_modal_never_offered_is_out_of_date() -> None:
    with pytest.raises(StaleAction):
        parse_pulse(values("9"))


def test_the_modal_carries_its_pulse_and_a_forged_one_is_refused() -> None:
    modal = pulse_modal(7)
    assert pulse_id_of(modal) == 7
    with pytest.raises(StaleAction):
        pulse_id_of({"private_metadata": '{"pulse_id": "x"}'})
