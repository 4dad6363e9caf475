"""Plain-text views for `peercoach demo`: Block Kit as a terminal shows it, and a progress bar."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

MENTION = re.compile(r"<@([A-Z0-9]+)>")
DATE_TOKEN = re.compile(r"<!date\^[^|>]*\|([^>]*)>")
LINK = re.compile(r"<(?:https?|mailto):[^|>]*\|([^>]*)>|<((?:https?|mailto):[^>]*)>")
BOLD = re.compile(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])")
ITALIC = re.compile(r"(?<![\w_])_([^_\n]+)_(?![\w_])")


def mrkdwn_to_text(text: str, names: Mapping[str, str] | None = None) -> str:
    """Slack mrkdwn as plain text: mentions by name, dates and links by their labels."""
    names = names or {}
    text = MENTION.sub(lambda m: "@" + names.get(m.group(1), m.group(1)), text)
    text = DATE_TOKEN.sub(lambda m: m.group(1), text)
    text = LINK.sub(lambda m: m.group(1) or m.group(2), text)
    text = BOLD.sub(lambda m: m.group(1), text)
    return ITALIC.sub(lambda m: m.group(1), text)


def _text_of(obj: Mapping[str, Any] | None, convert: Callable[[str], str]) -> str:
    if not obj:
        return ""
    text = str(obj.get("text", ""))
    return convert(text) if obj.get("type") == "mrkdwn" else text


def _element_text(element: Mapping[str, Any], convert: Callable[[str], str]) -> str:
    kind = element.get("type")
    if kind == "button":
        return f"[{_text_of(element.get('text'), convert)}]"
    if kind in ("mrkdwn", "plain_text"):
        return _text_of(element, convert)
    if kind == "image":
        return f"({element.get('alt_text', 'image')})"
    choices = [_text_of(o.get("text"), convert) for o in element.get("options", [])]
    if kind in ("checkboxes", "radio_buttons"):
        return "  ".join(f"☐ {c}" for c in choices)
    placeholder = _text_of(element.get("placeholder"), convert)
    if choices:
        shown = " | ".join(choices[:6]) + (f" | … {len(choices) - 6} more" if choices[6:] else "")
        return f"[{placeholder + ': ' if placeholder else ''}{shown} ▾]"
    if kind in ("plain_text_input", "number_input"):
        initial = element.get("initial_value")
        return f"[{initial or placeholder or '…'}]"
    return f"[{placeholder or kind} ▾]"


def blocks_to_text(
    blocks: Sequence[Mapping[str, Any]], names: Mapping[str, str] | None = None
) -> list[str]:
    """Render a message's blocks as lines of plain text, roughly as Slack lays them out.

    Headers are underlined, sections and context keep their text (context indented),
    fields are listed, buttons become `[We met]`, dividers a rule.
    """

    def convert(text: str) -> str:
        return mrkdwn_to_text(text, names)

    lines: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            title = _text_of(block.get("text"), convert)
            lines += [title, "=" * len(title)]
        elif kind == "section":
            if block.get("text"):
                lines += _text_of(block["text"], convert).splitlines()
            for field in block.get("fields", []):
                lines.append("  " + _text_of(field, convert))
            if block.get("accessory"):
                lines.append(_element_text(block["accessory"], convert))
        elif kind == "context":
            parts = [_element_text(e, convert) for e in block.get("elements", [])]
            lines.append("  " + " ".join(p for p in parts if p))
        elif kind == "actions":
            lines.append(" ".join(_element_text(e, convert) for e in block.get("elements", [])))
        elif kind == "divider":
            lines.append("-" * 40)
        elif kind == "input":
            label = _text_of(block.get("label"), convert)
            lines.append(f"{label}: {_element_text(block.get('element', {}), convert)}")
        elif kind == "image":
            lines.append(f"({block.get('alt_text', 'image')})")
    return lines


def progress_bar(cycle: int, cycles: int, done: int, total: int, width: int = 20) -> str:
    """`cycle 2/6 [########------------] 9/15 groups met`."""
    filled = round(width * done / total) if total else width
    return (
        f"cycle {cycle}/{cycles} [{'#' * filled}{'-' * (width - filled)}] {done}/{total} groups met"
    )


def join_names(names: Sequence[str]) -> str:
    if not names:
        return "nobody"
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def indent(lines: Sequence[str], prefix: str = "    │ ") -> str:
    return "\n".join((prefix + line).rstrip() for line in lines)
