"""What every modal test asks: would Slack open it, and what comes back when it is submitted."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.sandbox.reference import check_view
from bot.sandbox.slack_requests import prefilled_values

Values = dict[str, Any]


def assert_slack_would_open(view: dict[str, Any]) -> None:
    """Fail with Slack's reasons if views.open would refuse this modal."""
    assert check_view(view) == [], check_view(view)


def submitted_unchanged(view: dict[str, Any], parse: Callable[[Values], Any]) -> Any:
    """Check Slack would open `view`, submit it as prefilled and return what `parse` makes of it."""
    assert_slack_would_open(view)
    return parse(prefilled_values(view))
