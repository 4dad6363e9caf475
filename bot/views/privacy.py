"""Block Kit for a person's own data: the deletion question and summary, the export file."""

from __future__ import annotations

import json
from typing import Any

from bot import ids
from bot.domain.privacy import DeletionReport
from bot.views.blocks import Block, actions, button, confirm_dialog, context, section

DELETE_QUESTION = (
    "*Delete your PeerCoach data?* This deletes your profile, topics, never-pair list and "
    "the text of every reflection and commitment you wrote, and takes you out of the "
    "pairing. In past pairings your name is replaced by an anonymous placeholder, so the "
    "programme's counts stay right. This can't be undone."
)
DELETE_CANCELLED_TEXT = "OK, nothing was deleted."
EXPORT_COMING_TEXT = (
    ":package: I'm putting a file with everything PeerCoach stores about you in our DM."
)
EXPORT_FILENAME = "peercoach-my-data.json"


def delete_confirmation() -> dict[str, Any]:
    """The ephemeral question `/peercoach delete-my-data` answers with."""
    return {
        "response_type": "ephemeral",
        "text": DELETE_QUESTION,
        "blocks": [
            section(DELETE_QUESTION),
            actions(
                button("Delete my data", ids.DELETE_DATA_CONFIRM, style="danger"),
                button("Cancel", ids.DELETE_DATA_CANCEL),
            ),
        ],
    }


def delete_button(action_id: str = ids.HOME_DELETE_DATA) -> dict[str, Any]:
    """A danger button that deletes the person's data after Slack's own confirmation."""
    return button(
        "Delete my data",
        action_id,
        style="danger",
        confirm=confirm_dialog("Delete your data?", DELETE_QUESTION, "Delete"),
    )


def privacy_actions() -> Block:
    """The App Home's two actions on a person's own data."""
    return actions(button("Download my data", ids.HOME_EXPORT_DATA), delete_button())


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def deleted_text(report: DeletionReport) -> str:
    """What deletion removed, in counts; or that there was nothing (a repeated press)."""
    if not report.anything:
        return (
            ":wastebasket: PeerCoach holds nothing about you that could be deleted "
            "(already deleted, or you never took part)."
        )
    lines = [":wastebasket: *Your PeerCoach data is deleted.*"]
    if report.profile:
        lines.append(f"• your profile (level, team) and {_plural(report.goals, 'topic')}")
    lines.append(f"• your never-pair list ({_plural(report.never_pair, 'person', 'people')})")
    lines.append(
        f"• the text of {_plural(report.reflections, 'reflection')} and "
        f"{_plural(report.commitments, 'commitment')}"
    )
    if report.membership:
        lines.append(
            f"• your name in your membership and {_plural(report.pairings, 'past pairing')}, "
            "replaced by an anonymous placeholder (ratings stay, unnamed, in the programme's "
            "counts)"
        )
    if report.messages_cancelled:
        lines.append(f"• {_plural(report.messages_cancelled, 'message')} not yet sent to you")
    if report.admin_role:
        lines.append("• your programme admin role")
    if report.pulses_answered:
        lines.append(
            f"• the record that you answered {_plural(report.pulses_answered, 'feedback pulse')}"
            " (the answers themselves never carried your name, so they stay, anonymous)"
        )
    lines.append("You're no longer in PeerCoach. `/peercoach join` starts afresh any time.")
    return "\n".join(lines)


def deleted_message(report: DeletionReport) -> dict[str, Any]:
    return {"replace_original": True, "text": deleted_text(report)}


def export_upload(data: dict[str, Any]) -> dict[str, Any]:
    """The files_upload_v2 arguments for the person's data file."""
    return {
        "content": json.dumps(data, indent=2, ensure_ascii=False),
        "filename": EXPORT_FILENAME,
        "title": "Your PeerCoach data",
        "initial_comment": (
            "Everything PeerCoach stores about you, as JSON. Partners appear as Slack ids; "
            "nobody else's reflections are included. `/peercoach delete-my-data` deletes it."
        ),
    }


def left_blocks(text: str) -> list[Block]:
    """The 'you've left' answer, offering deletion of what stays."""
    return [
        section(text),
        actions(delete_button(ids.DELETE_DATA_CONFIRM)),
        context("Or type `/peercoach delete-my-data`; `/peercoach my-data` shows what's kept."),
    ]
