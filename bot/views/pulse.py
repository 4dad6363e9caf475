"""Block Kit for the anonymous feedback pulse: its DM, its modal (and parser), the thanks."""

from __future__ import annotations

import json
from typing import Any

from bot import ids
from bot.domain.messages import Rendered
from bot.domain.people import PulseInput
from bot.errors import StaleAction
from bot.views.blocks import (
    actions,
    button,
    context,
    option,
    plain,
    record_id,
    section,
    selected_value,
    selected_values,
    text_value,
)

QUESTION = "How useful is this programme to you?"
SCORE_LABELS = {
    1: "1 · Not useful",
    2: "2 · A little useful",
    3: "3 · Useful",
    4: "4 · Very useful",
    5: "5 · Essential",
}
SHARE_LABEL = "Share this with the organisers without my name"
MAX_SUGGESTION = 1000
PROMISE = (
    "Anonymous: your answer is stored without your name or the time you gave it, apart "
    "from the note that you answered. Organisers see only the average, once at least 5 "
    "people answered, and only the suggestions shared with them."
)


def pulse_message(pulse_id: int, programme: str | None = None) -> Rendered:
    """The 1:1 DM asking for the feedback pulse of `programme` (its name; None: PeerCoach),
    with the button that opens its modal."""
    text = (
        f":bar_chart: Two quick questions about {programme or 'PeerCoach'}, anonymously: how "
        "useful is the programme to you, and what would make it better?"
    )
    return Rendered(
        text,
        [
            section(text),
            actions(button("Give feedback", ids.PULSE_OPEN, value=str(pulse_id), style="primary")),
            context(PROMISE),
        ],
    )


def pulse_modal(pulse_id: int) -> dict[str, Any]:
    """The two-question pulse modal (the score, an optional suggestion to share)."""
    share_option = option(SHARE_LABEL, "share")
    return {
        "type": "modal",
        "callback_id": ids.PULSE_MODAL,
        "private_metadata": json.dumps({"pulse_id": pulse_id}),
        "title": plain("Programme feedback"),
        "submit": plain("Send"),
        "close": plain("Cancel"),
        "blocks": [
            context(PROMISE),
            {
                "type": "input",
                "block_id": ids.PULSE_SCORE_BLOCK,
                "label": plain(QUESTION),
                "element": {
                    "type": "static_select",
                    "action_id": ids.PULSE_SCORE_ACTION,
                    "placeholder": plain("1 to 5"),
                    "options": [option(label, str(n)) for n, label in SCORE_LABELS.items()],
                },
            },
            {
                "type": "input",
                "block_id": ids.PULSE_SUGGESTION_BLOCK,
                "optional": True,
                "label": plain("One suggestion for the organisers"),
                "hint": plain("Kept only if you tick the box below; otherwise nobody reads it."),
                "element": {
                    "type": "plain_text_input",
                    "action_id": ids.PULSE_SUGGESTION_ACTION,
                    "multiline": True,
                    "max_length": MAX_SUGGESTION,
                },
            },
            {
                "type": "input",
                "block_id": ids.PULSE_SHARE_BLOCK,
                "optional": True,
                "label": plain("Sharing"),
                "element": {
                    "type": "checkboxes",
                    "action_id": ids.PULSE_SHARE_ACTION,
                    "options": [share_option],
                },
            },
        ],
    }


def pulse_id_of(view: dict[str, Any]) -> int:
    """The pulse a pulse modal answers, from its private_metadata; StaleAction if forged."""
    try:
        metadata = json.loads(view.get("private_metadata") or "{}")
    except (ValueError, TypeError):
        raise StaleAction(block_id=ids.PULSE_SCORE_BLOCK) from None
    if not isinstance(metadata, dict):
        raise StaleAction(block_id=ids.PULSE_SCORE_BLOCK)
    return record_id(metadata.get("pulse_id"), block_id=ids.PULSE_SCORE_BLOCK)


def parse_pulse(values: dict[str, Any]) -> tuple[PulseInput | None, dict[str, str]]:
    """Read the pulse modal; return the answer or inline errors by block_id. Raises
    StaleAction (under the block concerned) for an option the modal never offered."""
    errors: dict[str, str] = {}
    raw = selected_value(
        values, ids.PULSE_SCORE_BLOCK, ids.PULSE_SCORE_ACTION, (str(n) for n in SCORE_LABELS)
    )
    if raw is None:
        errors[ids.PULSE_SCORE_BLOCK] = "Pick a number from 1 to 5."
    suggestion = text_value(values, ids.PULSE_SUGGESTION_BLOCK, ids.PULSE_SUGGESTION_ACTION)
    if len(suggestion) > MAX_SUGGESTION:
        errors[ids.PULSE_SUGGESTION_BLOCK] = f"Keep it under {MAX_SUGGESTION} characters."
    share = "share" in selected_values(
        values, ids.PULSE_SHARE_BLOCK, ids.PULSE_SHARE_ACTION, ("share",)
    )
    if share and not suggestion:
        errors[ids.PULSE_SHARE_BLOCK] = "Write a suggestion to share, or untick sharing."
    if errors or raw is None:
        return None, errors
    return PulseInput(int(raw), suggestion, share), {}


def pulse_thanks_view(stored: bool) -> dict[str, Any]:
    """What the modal turns into once sent (no DM: a message would time-stamp the answer)."""
    text = (
        "Thank you: your answer is in, without your name."
        if stored
        else "You had already answered this pulse; your first answer stands. Thank you!"
    )
    return {
        "type": "modal",
        "title": plain("Programme feedback"),
        "close": plain("Close"),
        "blocks": [section(text)],
    }
