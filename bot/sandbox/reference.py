"""Slack's method reference (a compact extract) and the checks real Slack would make."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

REFERENCE_FILE = Path(__file__).resolve().parent / "slack_reference.json"

# Block Kit limits Slack enforces (see docs/ and Slack's Block Kit reference).
MAX_BLOCKS = {"message": 50, "modal": 100, "home": 100}
MAX_TITLE = 24
MAX_SECTION_TEXT = 3000
MAX_BUTTON_TEXT = 75
MAX_ID = 255
MAX_PRIVATE_METADATA = 3000

# slack-sdk adds `team_id` to every call made with a Bolt per-request client (Bolt builds it
# with WebClient(team_id=...)); Slack takes it on every method to pick the workspace of an
# org-wide token. It is checked against the workspace instead (see SlackEmulator).
TRANSPORT_ARGS = frozenset({"team_id"})


@cache
def reference() -> dict[str, Any]:
    """The extract made by build_reference.py from Slack's machine-readable reference."""
    extract: dict[str, Any] = json.loads(REFERENCE_FILE.read_text())
    return extract


def method_spec(method: str) -> dict[str, Any] | None:
    spec: dict[str, Any] | None = reference()["methods"].get(method)
    return spec


def check_call(method: str, args: dict[str, Any]) -> list[str]:
    """Return why real Slack would refuse this call (empty when it would accept it)."""
    spec = method_spec(method)
    if spec is None:
        return [f"{method}: not a method in the reference extract"]
    problems = [
        f"{method}: unknown argument {name!r}"
        for name in args
        if name not in spec["args"] and name not in TRANSPORT_ARGS
    ]
    problems += [
        f"{method}: missing required argument {name!r}"
        for name in spec["required"]
        if args.get(name) in (None, "")
    ]
    return problems


def check_blocks(blocks: list[dict[str, Any]], surface: str) -> list[str]:
    """Return the Block Kit limits these blocks break on a message, modal or home surface."""
    problems: list[str] = []
    if len(blocks) > MAX_BLOCKS[surface]:
        problems.append(f"{surface}: {len(blocks)} blocks, limit {MAX_BLOCKS[surface]}")
    for block in blocks:
        text = block.get("text") or {}
        if block.get("type") == "section" and len(text.get("text", "")) > MAX_SECTION_TEXT:
            problems.append(f"section text over {MAX_SECTION_TEXT} characters")
        if len(block.get("block_id", "")) > MAX_ID:
            problems.append("block_id over 255 characters")
        nested = [block.get("element") or {}, block.get("accessory") or {}]
        for element in [*block.get("elements", []), *nested]:
            if element.get("type") == "button":
                if len(element["text"]["text"]) > MAX_BUTTON_TEXT:
                    problems.append(
                        f"button text over {MAX_BUTTON_TEXT}: {element['text']['text']!r}"
                    )
                if len(element.get("value", "")) > 2000:
                    problems.append("button value over 2000 characters")
            if len(element.get("action_id", "")) > MAX_ID:
                problems.append("action_id over 255 characters")
            if (
                element.get("type") in ("static_select", "multi_static_select")
                and len(element.get("options", [])) > 100
            ):
                problems.append("select with more than 100 options")
            if element.get("type") == "file_input":
                if surface != "modal" or block.get("type") != "input":
                    problems.append("file_input outside a modal's input block")
                if not 1 <= int(element.get("max_files", 10)) <= 10:
                    problems.append("file_input max_files must be 1 to 10")
    return problems


def check_view(view: dict[str, Any]) -> list[str]:
    """Return the limits a modal or home view breaks."""
    surface = view.get("type")
    if surface not in ("modal", "home"):
        return [f"view type {surface!r} is neither modal nor home"]
    problems = check_blocks(view.get("blocks", []), surface)
    if surface == "modal":
        for key in ("title", "submit", "close"):
            text = (view.get(key) or {}).get("text", "")
            if len(text) > MAX_TITLE:
                problems.append(f"modal {key} {text!r} over {MAX_TITLE} characters")
        if not (view.get("title") or {}).get("text"):
            problems.append("modal without a title")
    if len(view.get("private_metadata", "")) > MAX_PRIVATE_METADATA:
        problems.append("private_metadata over 3000 characters")
    if len(view.get("callback_id", "")) > MAX_ID:
        problems.append("callback_id over 255 characters")
    return problems
