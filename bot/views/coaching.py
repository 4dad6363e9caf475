"""The coach's toolkit as people see it: the "How to coach" modal."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot import ids
from bot.views.blocks import context, header, plain, section


def coaching_guide_modal(guide: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """A short GROW-style guide for whoever coaches in a peer chat (read-only modal)."""
    steps = "\n".join(f"*{n}. {step}*: {text}" for n, (step, text) in enumerate(guide, 1))
    return {
        "type": "modal",
        "callback_id": ids.COACHING_GUIDE_MODAL,
        "title": plain("How to coach"),
        "close": plain("Got it"),
        "blocks": [
            header("Coaching a peer in four steps"),
            section(steps),
            context(
                "When you coach, the challenge stays theirs: your job is good questions, "
                "not answers."
            ),
        ],
    }
