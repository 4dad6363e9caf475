"""Block Kit for reflections: the modal (and its parser) and a person's own history."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from bot import ids
from bot.domain.people import HistoryEntry, ReflectionInput
from bot.domain.programme import GOAL_PROGRESS
from bot.errors import StaleAction
from bot.views.blocks import (
    Block,
    option,
    plain,
    record_id,
    section,
    selected_value,
    selected_values,
    slack_date,
    text_value,
)

MAX_TAKEAWAY = 1000
MAX_COMMITMENT = 500
USEFULNESS_LABELS = {
    1: "1 · Not useful",
    2: "2 · A little",
    3: "3 · Useful",
    4: "4 · Very useful",
    5: "5 · Exceptional",
}


def reflection_modal(
    group_id: int,
    partners: Sequence[str],
    current: ReflectionInput | None,
    *,
    goal: str | None = None,
) -> dict[str, Any]:
    """The reflection modal for one pairing, prefilled if the person reflected already; with
    a goal, one quick question about progress toward it."""
    usefulness: dict[str, Any] = {
        "type": "static_select",
        "action_id": ids.USEFULNESS_ACTION,
        "placeholder": plain("1 to 5"),
        "options": [option(label, str(n)) for n, label in USEFULNESS_LABELS.items()],
    }
    takeaway: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": ids.TAKEAWAY_ACTION,
        "multiline": True,
        "max_length": MAX_TAKEAWAY,
    }
    commitment: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": ids.COMMITMENT_ACTION,
        "multiline": True,
        "max_length": MAX_COMMITMENT,
        "placeholder": plain("One thing you'll do before the next chat"),
    }
    share_option = option("Share my takeaway with my peer(s)", "share")
    share: dict[str, Any] = {
        "type": "checkboxes",
        "action_id": ids.SHARE_ACTION,
        "options": [share_option],
    }
    if current is not None:
        usefulness["initial_option"] = option(
            USEFULNESS_LABELS[current.usefulness], str(current.usefulness)
        )
        if current.takeaway:
            takeaway["initial_value"] = current.takeaway
        if current.commitment:
            commitment["initial_value"] = current.commitment
        if current.share_takeaway:
            share["initial_options"] = [share_option]
    with_whom = ", ".join(f"<@{p}>" for p in partners) or "your peers"
    return {
        "type": "modal",
        "callback_id": ids.REFLECTION_MODAL,
        "private_metadata": json.dumps({"group_id": group_id}),
        "title": plain("Reflect"),
        "submit": plain("Save"),
        "close": plain("Cancel"),
        "blocks": [
            section(f"Your chat with {with_whom}. What you write here is private to you."),
            {
                "type": "input",
                "block_id": ids.USEFULNESS_BLOCK,
                "label": plain("How useful was it?"),
                "element": usefulness,
            },
            {
                "type": "input",
                "block_id": ids.TAKEAWAY_BLOCK,
                "optional": True,
                "label": plain("One takeaway"),
                "element": takeaway,
            },
            {
                "type": "input",
                "block_id": ids.COMMITMENT_BLOCK,
                "optional": True,
                "label": plain("One commitment for next cycle"),
                "element": commitment,
                "hint": plain("Next round I'll ask you (privately) how it went."),
            },
            {
                "type": "input",
                "block_id": ids.SHARE_BLOCK,
                "optional": True,
                "label": plain("Sharing"),
                "element": share,
            },
            *(_goal_progress_input(goal, current) if goal else []),
        ],
    }


def _goal_progress_input(goal: str, current: ReflectionInput | None) -> list[dict[str, Any]]:
    element: dict[str, Any] = {
        "type": "static_select",
        "action_id": ids.GOAL_PROGRESS_ACTION,
        "placeholder": plain("Pick one"),
        "options": [option(label, str(n)) for n, label in GOAL_PROGRESS.items()],
    }
    if current is not None and current.goal_progress in GOAL_PROGRESS:
        progress = current.goal_progress
        element["initial_option"] = option(GOAL_PROGRESS[progress], str(progress))
    return [
        {
            "type": "input",
            "block_id": ids.GOAL_PROGRESS_BLOCK,
            "optional": True,
            "label": plain("Progress on your goal"),
            "hint": plain(f"Your goal (private): {goal}"[:150]),
            "element": element,
        }
    ]


def group_id_of(view: dict[str, Any]) -> int:
    """The group a reflection modal is about, from its private_metadata.

    Raises StaleAction when the metadata is not what this app wrote (forged or from an
    older version).
    """
    try:
        metadata = json.loads(view.get("private_metadata") or "{}")
    except (ValueError, TypeError):
        raise StaleAction(block_id=ids.USEFULNESS_BLOCK) from None
    if not isinstance(metadata, dict):
        raise StaleAction(block_id=ids.USEFULNESS_BLOCK)
    return record_id(metadata.get("group_id"), block_id=ids.USEFULNESS_BLOCK)


def parse_reflection(values: dict[str, Any]) -> tuple[ReflectionInput | None, dict[str, str]]:
    """Read the reflection modal's state; return the input or inline errors by block_id.

    Raises StaleAction (under the block concerned) for an option the modal never offered.
    """
    errors: dict[str, str] = {}
    raw = selected_value(
        values, ids.USEFULNESS_BLOCK, ids.USEFULNESS_ACTION, (str(n) for n in USEFULNESS_LABELS)
    )
    if raw is None:
        errors[ids.USEFULNESS_BLOCK] = "Pick a number from 1 to 5."
    takeaway = text_value(values, ids.TAKEAWAY_BLOCK, ids.TAKEAWAY_ACTION) or None
    if takeaway and len(takeaway) > MAX_TAKEAWAY:
        errors[ids.TAKEAWAY_BLOCK] = f"Keep it under {MAX_TAKEAWAY} characters."
    commitment = text_value(values, ids.COMMITMENT_BLOCK, ids.COMMITMENT_ACTION) or None
    if commitment and len(commitment) > MAX_COMMITMENT:
        errors[ids.COMMITMENT_BLOCK] = f"Keep it under {MAX_COMMITMENT} characters."
    picked = selected_value(
        values,
        ids.GOAL_PROGRESS_BLOCK,
        ids.GOAL_PROGRESS_ACTION,
        [str(n) for n in GOAL_PROGRESS],
    )
    progress = int(picked) if picked is not None else None
    share = "share" in selected_values(values, ids.SHARE_BLOCK, ids.SHARE_ACTION, ("share",))
    if share and not takeaway:
        errors[ids.SHARE_BLOCK] = "Write a takeaway to share, or untick sharing."
    if errors or raw is None:
        return None, errors
    return ReflectionInput(int(raw), takeaway, commitment, share, progress), {}


def shared_takeaway_text(user_id: str, takeaway: str) -> str:
    return f":bulb: <@{user_id}> shared a takeaway from your chat: “{takeaway}”"


OUTCOME_LABELS = {"done": "done", "partly": "partly done", "not_yet": "not yet"}


def history_message(entries: Sequence[HistoryEntry]) -> dict[str, Any]:
    """`/peercoach history`: the person's own past pairings, reflections and commitments."""
    if not entries:
        return {
            "response_type": "ephemeral",
            "text": "No rounds yet: your history starts with your first pairing.",
        }
    blocks: list[Block] = [section("*Your PeerCoach history* (only you can see this)")]
    for entry in entries:
        partners = ", ".join(f"<@{p}>" for p in entry.partners) or "nobody"
        lines = [
            f"*{slack_date(entry.started_at, '{date_short_pretty}')}* with {partners}: "
            + ("met" if entry.met else "didn't meet")
        ]
        if entry.usefulness:
            lines.append(f"Usefulness: {entry.usefulness}/5")
        if entry.takeaway:
            lines.append(f"Takeaway: {entry.takeaway}")
        if entry.commitment:
            outcome = OUTCOME_LABELS.get(entry.commitment_outcome or "", "not answered yet")
            lines.append(f"Commitment: {entry.commitment} ({outcome})")
        blocks.append(section("\n".join(lines)))
    return {"response_type": "ephemeral", "text": "Your PeerCoach history", "blocks": blocks[:50]}
