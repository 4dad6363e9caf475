"""Block Kit for working hours: the inputs (in the profile modal and their own modal), their
parser, and the App Home line."""

from __future__ import annotations

from typing import Any

from bot import ids
from bot.domain.meetings import DEFAULT_WORKING_HOURS, MINUTES_PER_DAY, WEEKDAYS, WorkingHours
from bot.views.blocks import Block, option, plain, selected_value, selected_values

STEP_MINUTES = 30
HOURS_HINT = (
    "In your own Slack time zone (empty: 09:00-17:00). Suggested meeting times stay inside "
    "everyone's hours, and never fall on your no-meeting days."
)


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _time_options(first: int, last: int) -> list[dict[str, Any]]:
    return [option(_clock(m), str(m)) for m in range(first, last + 1, STEP_MINUTES)]


def _days(action_id: str, chosen: frozenset[int]) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "checkboxes",
        "action_id": action_id,
        "options": [option(name, str(day)) for day, name in enumerate(WEEKDAYS)],
    }
    picked = [option(WEEKDAYS[d], str(d)) for d in sorted(chosen)]
    if picked:
        element["initial_options"] = picked
    return element


def working_hours_blocks(hours: WorkingHours | None) -> list[Block]:
    """The working hours inputs, prefilled with `hours` (None: empty, which means the
    default 09:00-17:00 on weekdays)."""
    start: dict[str, Any] = {
        "type": "static_select",
        "action_id": ids.WORK_START_ACTION,
        "placeholder": plain("09:00"),
        "options": _time_options(0, MINUTES_PER_DAY - STEP_MINUTES),
    }
    end: dict[str, Any] = {
        "type": "static_select",
        "action_id": ids.WORK_END_ACTION,
        "placeholder": plain("17:00"),
        "options": _time_options(STEP_MINUTES, MINUTES_PER_DAY),
    }
    if hours is not None:
        start["initial_option"] = option(_clock(hours.start_minute), str(hours.start_minute))
        end["initial_option"] = option(_clock(hours.end_minute), str(hours.end_minute))
    return [
        {
            "type": "input",
            "block_id": ids.WORK_START_BLOCK,
            "optional": True,
            "label": plain("Working hours start"),
            "hint": plain(HOURS_HINT),
            "element": start,
        },
        {
            "type": "input",
            "block_id": ids.WORK_END_BLOCK,
            "optional": True,
            "label": plain("Working hours end"),
            "element": end,
        },
        {
            "type": "input",
            "block_id": ids.WORK_DAYS_BLOCK,
            "optional": True,
            "label": plain("Working days"),
            "hint": plain("Empty: Monday to Friday."),
            "element": _days(ids.WORK_DAYS_ACTION, hours.days if hours else frozenset()),
        },
        {
            "type": "input",
            "block_id": ids.NO_MEETING_DAYS_BLOCK,
            "optional": True,
            "label": plain("No-meeting days"),
            "hint": plain("Days you keep free of meetings, if any."),
            "element": _days(
                ids.NO_MEETING_DAYS_ACTION, hours.no_meeting_days if hours else frozenset()
            ),
        },
    ]


def parse_working_hours(values: dict[str, Any]) -> tuple[WorkingHours | None, dict[str, str]]:
    """Read the working hours inputs; an input left empty keeps the default. Returns the
    hours, or inline errors by block_id. Raises StaleAction for an option never offered."""
    starts = [str(m) for m in range(0, MINUTES_PER_DAY, STEP_MINUTES)]
    ends = [str(m) for m in range(STEP_MINUTES, MINUTES_PER_DAY + 1, STEP_MINUTES)]
    start = selected_value(values, ids.WORK_START_BLOCK, ids.WORK_START_ACTION, starts)
    end = selected_value(values, ids.WORK_END_BLOCK, ids.WORK_END_ACTION, ends)
    day_values = [str(d) for d in range(7)]
    days = selected_values(values, ids.WORK_DAYS_BLOCK, ids.WORK_DAYS_ACTION, day_values)
    free = selected_values(
        values, ids.NO_MEETING_DAYS_BLOCK, ids.NO_MEETING_DAYS_ACTION, day_values
    )
    start_minute = int(start) if start else DEFAULT_WORKING_HOURS.start_minute
    end_minute = int(end) if end else DEFAULT_WORKING_HOURS.end_minute
    if end_minute <= start_minute:
        return None, {ids.WORK_END_BLOCK: "End your working hours after they start."}
    chosen = frozenset(int(d) for d in days) if days else DEFAULT_WORKING_HOURS.days
    kept_free = frozenset(int(d) for d in free)
    if not chosen - kept_free:
        return None, {ids.NO_MEETING_DAYS_BLOCK: "Leave at least one working day for meetings."}
    return WorkingHours(start_minute, end_minute, chosen, kept_free), {}


def working_hours_modal(hours: WorkingHours | None) -> dict[str, Any]:
    """The modal that edits a member's working hours (from the App Home)."""
    return {
        "type": "modal",
        "callback_id": ids.WORKING_HOURS_MODAL,
        "title": plain("Your working hours"),
        "submit": plain("Save"),
        "close": plain("Cancel"),
        "blocks": working_hours_blocks(hours),
    }


def working_hours_line(hours: WorkingHours | None, tz_name: str | None) -> str:
    """'Working hours: 09:00-17:00, Monday to Friday (Europe/Berlin)' for the App Home."""
    where = f" ({tz_name})" if tz_name else ""
    return f"Working hours: {(hours or DEFAULT_WORKING_HOURS).describe()}{where}"
