"""Small Block Kit helpers shared by every surface's builders."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from bot import ids
from bot.errors import StaleAction

Block = dict[str, Any]

SECTION_TEXT_LIMIT = 3000


def plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": True}


def mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text}


def section(text: str, *, block_id: str | None = None) -> Block:
    """A text section, cut to Slack's 3000 characters so a long value never breaks a view."""
    if len(text) > SECTION_TEXT_LIMIT:
        text = text[: SECTION_TEXT_LIMIT - 1] + "…"
    block: Block = {"type": "section", "text": mrkdwn(text)}
    if block_id:
        block["block_id"] = block_id
    return block


def header(text: str) -> Block:
    return {"type": "header", "text": plain(text[:150])}


def context(text: str) -> Block:
    return {"type": "context", "elements": [mrkdwn(text)]}


def divider() -> Block:
    return {"type": "divider"}


def button(
    text: str,
    action_id: str,
    *,
    value: str = "",
    style: str | None = None,
    confirm: dict[str, Any] | None = None,
) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "button", "text": plain(text), "action_id": action_id}
    if value:
        element["value"] = value
    if style:
        element["style"] = style
    if confirm:
        element["confirm"] = confirm
    return element


def confirm_dialog(title: str, text: str, confirm: str, deny: str = "Cancel") -> dict[str, Any]:
    return {
        "title": plain(title),
        "text": mrkdwn(text),
        "confirm": plain(confirm),
        "deny": plain(deny),
        "style": "danger",
    }


def actions(*elements: dict[str, Any], block_id: str | None = None) -> Block:
    block: Block = {"type": "actions", "elements": list(elements)}
    if block_id:
        block["block_id"] = block_id
    return block


def slack_date(
    moment: datetime,
    fmt: str = "{date_short_pretty} at {time}",
    fallback_format: str = "%Y-%m-%d %H:%M UTC",
) -> str:
    """Render a moment in each reader's own time zone, with a UTC fallback (`moment` aware;
    the fallback is `fallback_format` of its UTC time)."""
    fallback = moment.astimezone(UTC).strftime(fallback_format)
    return f"<!date^{int(moment.timestamp())}^{fmt}|{fallback}>"


def option(text: str, value: str) -> dict[str, Any]:
    return {"text": plain(text[:75]), "value": value}


# The largest id our tables hold (PostgreSQL `integer`); a button value beyond it is forged.
MAX_RECORD_ID = 2**31 - 1


def input_state(values: Any, block_id: str, action_id: str) -> dict[str, Any]:
    """One input's state from a view_submission's `view.state.values` (empty if absent or
    not shaped as Slack sends it)."""
    block = values.get(block_id) if isinstance(values, dict) else None
    state = block.get(action_id) if isinstance(block, dict) else None
    return state if isinstance(state, dict) else {}


def record_id(value: Any, *, block_id: str | None = None) -> int:
    """A database id carried by a button value or modal metadata, as an int.

    Raises StaleAction for anything else (empty, `abc`, `²`, negative, too large): such a
    value was never written by this app, or belongs to a version that is gone.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and 0 < len(value) <= 10 and value.isascii() and value.isdigit():
        number = int(value)
    else:
        raise StaleAction(block_id=block_id)
    if not 1 <= number <= MAX_RECORD_ID:
        raise StaleAction(block_id=block_id)
    return number


def record_pair(value: Any) -> tuple[int, int]:
    """Two positive numbers a button value carries as "a:b" (a group id and a slot number
    or version). Raises StaleAction for anything else."""
    if not isinstance(value, str) or value.count(":") != 1:
        raise StaleAction()
    first, second = value.split(":")
    return record_id(first), record_id(second)


def programme_in_metadata(metadata: str) -> int | None:
    """The programme id a modal carries in its private_metadata (`{"programme_id": N}`),
    or None when it names none (a modal of the workspace's only programme).

    Raises StaleAction for a value this app never wrote.
    """
    try:
        value = json.loads(metadata or "{}").get("programme_id")
    except (ValueError, AttributeError):
        raise StaleAction() from None
    return None if value is None else record_id(value)


def text_value(values: Any, block_id: str, action_id: str) -> str:
    """A text input's value, stripped; '' when empty. NUL characters are dropped (no
    database stores them, and nobody types one)."""
    value = input_state(values, block_id, action_id).get("value")
    return value.replace("\x00", "").strip() if isinstance(value, str) else ""


def selected_value(
    values: Any, block_id: str, action_id: str, allowed: Iterable[str]
) -> str | None:
    """The chosen option of a single select, or None when nothing is chosen.

    Raises StaleAction (under that block) when the option is not one the modal offers.
    """
    chosen = input_state(values, block_id, action_id).get("selected_option")
    value = chosen.get("value") if isinstance(chosen, dict) else None
    if chosen is None or value == "":  # nothing chosen (Slack options are never empty)
        return None
    if not isinstance(value, str) or value not in set(allowed):
        raise StaleAction(block_id=block_id)
    return value


def selected_values(
    values: Any, block_id: str, action_id: str, allowed: Iterable[str]
) -> tuple[str, ...]:
    """The chosen options of a multi select or checkboxes, in order, without repeats.

    Raises StaleAction (under that block) when any option is not one the modal offers.
    """
    chosen = input_state(values, block_id, action_id).get("selected_options") or []
    if not isinstance(chosen, list):
        raise StaleAction(block_id=block_id)
    offered = set(allowed)
    picked = [o.get("value") if isinstance(o, dict) else None for o in chosen]
    if any(not isinstance(v, str) or v not in offered for v in picked):
        raise StaleAction(block_id=block_id)
    return tuple(dict.fromkeys(str(v) for v in picked))


def selected_users(values: Any, block_id: str, action_id: str) -> tuple[str, ...]:
    """The people chosen in a multi users select, without repeats.

    Raises StaleAction (under that block) when an entry is not a Slack user id.
    """
    chosen = input_state(values, block_id, action_id).get("selected_users") or []
    if not isinstance(chosen, list) or any(
        not isinstance(u, str) or not ids.USER_ID.fullmatch(u) for u in chosen
    ):
        raise StaleAction(block_id=block_id)
    return tuple(dict.fromkeys(chosen))
