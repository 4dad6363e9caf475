"""What every modal test asks: would Slack open it, and what comes back when it is submitted."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from bot.sandbox.reference import check_view
from bot.sandbox.slack_requests import prefilled_values, text_input

Values = dict[str, Any]


def assert_slack_would_open(view: dict[str, Any]) -> None:
    """Fail with Slack's reasons if views.open would refuse this modal."""
    assert check_view(view) == [], check_view(view)


def submitted_unchanged(view: dict[str, Any], parse: Callable[[Values], Any]) -> Any:
    """Check Slack would open `view`, submit it as prefilled and return what `parse` makes of it."""
    assert_slack_would_open(view)
    return parse(prefilled_values(view))


def assert_refused_under(parsed: tuple[Any, dict[str, str]], change: Values, message: str) -> None:
    """The submission was refused, with `message` under the one input `change` replaced."""
    result, errors = parsed
    assert result is None
    assert errors == {next(iter(change)): message}


def one_character_too_many(block_id: str, action_id: str, limit: int) -> Any:
    """A parametrize case: a text input one character over `limit`, and what the person reads."""
    return pytest.param(
        text_input(block_id, action_id, "x" * (limit + 1)),
        f"Keep it under {limit} characters.",
        id=f"{block_id} too long",
    )
