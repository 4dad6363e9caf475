"""Block Kit for programme admins: settings modal (and parser), Home section, preview, digest."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from functools import cache
from typing import Any
from zoneinfo import available_timezones

from bot import ids
from bot.domain.enums import ProgrammeFormat
from bot.domain.figures import (
    SUPPRESSED,
    CycleFigures,
    DeliveryHealth,
    Figure,
    MembershipFigures,
    PulseResults,
)
from bot.domain.messages import OrgImportNotice
from bot.domain.programme import (
    CIRCLE_SIZES,
    DEFAULT_AGREEMENT,
    DEFAULTS,
    FIRST_PROGRAMME_NAME,
    ProgrammeRef,
    ProgramSettings,
)
from bot.errors import StaleAction
from bot.matching import MatchResult
from bot.profile_options import GOALS
from bot.views.blocks import (
    Block,
    actions,
    button,
    confirm_dialog,
    context,
    divider,
    header,
    option,
    plain,
    section,
    selected_users,
    selected_value,
    selected_values,
    slack_date,
    text_value,
)

CADENCES = {1: "Weekly", 2: "Every 2 weeks", 4: "Every 4 weeks"}
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
GROUP_SIZES = {2: "Pairs (a trio when the count is odd)", 3: "Circles of 3", 4: "Circles of 4"}
FORMATS = {
    ProgrammeFormat.PAIRS: "Rotating pairs: new peers every round",
    ProgrammeFormat.CIRCLES: "Coaching circles: the same small group for a season",
}
CIRCLE_SIZE_LABELS = {n: f"Circles of {n}" for n in CIRCLE_SIZES}
SEASON_SESSIONS = range(2, 27)
KEEP_MEETING_MAX = {0: "Not offered", 1: "Up to 1 round", 2: "Up to 2 rounds", 3: "Up to 3 rounds"}
PREFERENCES = {
    "level": "Prefer the same level band",
    "goals": "Prefer shared goals",
    "tz": "Prefer overlapping working hours",
    "cross_team": "Prefer people from different teams",
}
# Auto-schedule: days without a picked time before PeerCoach picks one (0: off).
AUTO_SCHEDULE = {0: "Off", **{n: f"After {n} days" for n in (2, 3, 5, 7)}}
HARD_RULES = {
    "reporting_line": "Never a person and their manager (imported org chart)",
    "skip_level": "… nor their manager's manager (skip-level)",
    "same_team": "Never two people from the same team",
}
MAX_SHARED_HOURS = 8
MAX_PREVIEW_LINES = 60
MAX_AGREEMENT_LENGTH = 1000


def _select(
    block_id: str, action_id: str, label: str, choices: dict[Any, str], current: Any
) -> Block:
    options = [option(text, str(value)) for value, text in choices.items()]
    element: dict[str, Any] = {"type": "static_select", "action_id": action_id, "options": options}
    if current in choices:
        element["initial_option"] = option(choices[current], str(current))
    return {"type": "input", "block_id": block_id, "label": plain(label), "element": element}


RETENTION_MONTHS = range(1, 61)
PULSE_EVERY = range(0, 53)


def settings_modal(
    current: ProgramSettings, programme: ProgrammeRef | None = None
) -> dict[str, Any]:
    """A programme's settings modal, prefilled with its current settings (`programme`: which
    one, carried in the modal's metadata; None: the workspace's only programme)."""
    prefs = {
        "level": current.prefer_same_level,
        "goals": current.prefer_shared_goals,
        "tz": current.prefer_tz_overlap,
        "cross_team": current.prefer_cross_team,
    }
    pref_element: dict[str, Any] = {
        "type": "checkboxes",
        "action_id": ids.PREFERENCES_ACTION,
        "options": [option(text, key) for key, text in PREFERENCES.items()],
    }
    chosen = [option(PREFERENCES[k], k) for k, on in prefs.items() if on]
    if chosen:
        pref_element["initial_options"] = chosen
    guests_option = option(GUESTS_OPTION, "guests")
    guests_element: dict[str, Any] = {
        "type": "checkboxes",
        "action_id": ids.GUESTS_ACTION,
        "options": [guests_option],
    }
    if current.include_guests:
        guests_element["initial_options"] = [guests_option]
    repeat: dict[str, Any] = {
        "type": "number_input",
        "action_id": ids.REPEAT_WINDOW_ACTION,
        "is_decimal_allowed": False,
        "min_value": "1",
        "max_value": "52",
    }
    if current.repeat_window:
        repeat["initial_value"] = str(current.repeat_window)
    retention: dict[str, Any] = {
        "type": "number_input",
        "action_id": ids.RETENTION_ACTION,
        "is_decimal_allowed": False,
        "min_value": str(RETENTION_MONTHS[0]),
        "max_value": str(RETENTION_MONTHS[-1]),
        "initial_value": str(current.retention_months),
    }
    themes: dict[str, Any] = {
        "type": "multi_static_select",
        "action_id": ids.THEMES_ACTION,
        "options": [option(label, key) for key, label in GOALS.items()],
        "placeholder": plain("All themes"),
    }
    if current.prompt_themes:
        themes["initial_options"] = [
            option(GOALS[t], t) for t in current.prompt_themes if t in GOALS
        ]
    rules = {
        "reporting_line": current.never_pair_reporting_line,
        "skip_level": current.never_pair_skip_level,
        "same_team": current.avoid_same_team,
    }
    rules_element: dict[str, Any] = {
        "type": "checkboxes",
        "action_id": ids.HARD_RULES_ACTION,
        "options": [option(text, key) for key, text in HARD_RULES.items()],
    }
    if any(rules.values()):
        rules_element["initial_options"] = [
            option(HARD_RULES[k], k) for k, on in rules.items() if on
        ]
    shared_hours: dict[str, Any] = {
        "type": "number_input",
        "action_id": ids.SHARED_HOURS_ACTION,
        "is_decimal_allowed": False,
        "min_value": "0",
        "max_value": str(MAX_SHARED_HOURS),
        "initial_value": str(current.min_shared_hours),
    }
    pulse_every: dict[str, Any] = {
        "type": "number_input",
        "action_id": ids.PULSE_EVERY_ACTION,
        "is_decimal_allowed": False,
        "min_value": str(PULSE_EVERY[0]),
        "max_value": str(PULSE_EVERY[-1]),
        "initial_value": str(current.pulse_every_cycles),
    }
    admins: dict[str, Any] = {"type": "multi_users_select", "action_id": ids.ADMINS_ACTION}
    if current.admins:
        admins["initial_users"] = list(current.admins)
    return {
        "type": "modal",
        "callback_id": ids.SETTINGS_MODAL,
        "title": plain("PeerCoach settings"),
        "submit": plain("Save"),
        "close": plain("Cancel"),
        "private_metadata": json.dumps({"programme_id": programme.id if programme else None}),
        "blocks": [
            section(
                (f"*{programme.name}*: " if programme else "")
                + "Changes apply from the next round and are recorded (who, what, when)."
            ),
            _select(
                ids.CADENCE_BLOCK, ids.CADENCE_ACTION, "How often", CADENCES, current.cadence_weeks
            ),
            _select(
                ids.DAY_BLOCK, ids.DAY_ACTION, "Day", dict(enumerate(DAYS)), current.day_of_week
            ),
            _select(
                ids.HOUR_BLOCK,
                ids.HOUR_ACTION,
                "Time",
                {h: f"{h:02d}:00" for h in range(24)},
                current.hour,
            ),
            {
                "type": "input",
                "block_id": ids.TIMEZONE_BLOCK,
                "label": plain("Time zone"),
                "hint": plain("An IANA name such as Europe/London or America/New_York"),
                "element": {
                    "type": "plain_text_input",
                    "action_id": ids.TIMEZONE_ACTION,
                    "initial_value": current.timezone,
                    "max_length": 64,
                },
            },
            _select(ids.FORMAT_BLOCK, ids.FORMAT_ACTION, "Format", FORMATS, current.format),
            _select(
                ids.GROUP_SIZE_BLOCK,
                ids.GROUP_SIZE_ACTION,
                "Group size (rotating pairs)",
                GROUP_SIZES,
                current.group_size,
            ),
            _select(
                ids.AUTO_SCHEDULE_BLOCK,
                ids.AUTO_SCHEDULE_ACTION,
                "Pick a time when a group hasn't",
                AUTO_SCHEDULE,
                current.auto_schedule_days or 0,
            ),
            _select(
                ids.KEEP_MAX_BLOCK,
                ids.KEEP_MAX_ACTION,
                "Keep meeting a partner (rotating pairs)",
                KEEP_MEETING_MAX,
                current.keep_meeting_max,
            ),
            _select(
                ids.CIRCLE_SIZE_BLOCK,
                ids.CIRCLE_SIZE_ACTION,
                "Circle size (coaching circles)",
                CIRCLE_SIZE_LABELS,
                current.circle_size,
            ),
            {
                "type": "input",
                "block_id": ids.SEASON_BLOCK,
                "label": plain("Sessions per season (coaching circles)"),
                "hint": plain("Circles re-form with new people after this many sessions."),
                "element": {
                    "type": "number_input",
                    "action_id": ids.SEASON_ACTION,
                    "is_decimal_allowed": False,
                    "min_value": str(SEASON_SESSIONS[0]),
                    "max_value": str(SEASON_SESSIONS[-1]),
                    "initial_value": str(current.season_sessions),
                },
            },
            {
                "type": "input",
                "block_id": ids.PREFERENCES_BLOCK,
                "optional": True,
                "label": plain("Matching preferences"),
                "element": pref_element,
            },
            {
                "type": "input",
                "block_id": ids.HARD_RULES_BLOCK,
                "optional": True,
                "label": plain("Never group (hard rules)"),
                "hint": plain(
                    "Kept in every round, like each person's private never-pair list. Teams "
                    "come from people's profiles; the org chart from `/peercoach admin org`."
                ),
                "element": rules_element,
            },
            {
                "type": "input",
                "block_id": ids.SHARED_HOURS_BLOCK,
                "optional": True,
                "label": plain("Shared working hours, at least"),
                "hint": plain(
                    "Never group people whose working hours (09:00-17:00 on weekdays in each "
                    "one's Slack time zone) overlap by fewer hours than this. 0: no limit."
                ),
                "element": shared_hours,
            },
            {
                "type": "input",
                "block_id": ids.GUESTS_BLOCK,
                "optional": True,
                "label": plain("Who may take part"),
                "hint": plain(
                    "Bots, deactivated accounts and people from other organisations never are."
                ),
                "element": guests_element,
            },
            {
                "type": "input",
                "block_id": ids.REPEAT_WINDOW_BLOCK,
                "optional": True,
                "label": plain("Avoid repeat pairs for (rounds)"),
                "hint": plain("Empty: as long as a fresh partner exists."),
                "element": repeat,
            },
            {
                "type": "input",
                "block_id": ids.THEMES_BLOCK,
                "optional": True,
                "label": plain("Prompt themes in use"),
                "element": themes,
            },
            {
                "type": "input",
                "block_id": ids.ADMINS_BLOCK,
                "optional": True,
                "label": plain("Other programme admins"),
                "hint": plain("Slack workspace admins and owners are always admins."),
                "element": admins,
            },
            {
                "type": "input",
                "block_id": ids.RETENTION_BLOCK,
                "optional": True,
                "label": plain("Delete reflection text after (months)"),
                "hint": plain(
                    "Takeaways and commitments are deleted this long after they are written; "
                    f"ratings stay for the figures. Empty: {DEFAULTS.retention_months}."
                ),
                "element": retention,
            },
            {
                "type": "input",
                "block_id": ids.PULSE_EVERY_BLOCK,
                "optional": True,
                "label": plain("Anonymous feedback pulse every (rounds)"),
                "hint": plain(
                    "Members are asked how useful the programme is, anonymously. 0 turns it "
                    f"off. Empty: {DEFAULTS.pulse_every_cycles}."
                ),
                "element": pulse_every,
            },
            {
                "block_id": ids.AGREEMENT_TEXT_BLOCK,
                "optional": True,
                "label": plain("Confidentiality agreement"),
                "hint": plain(
                    "Members accept this when they join. Changing it asks everyone to accept "
                    "the new text before their next round. Empty: the standard text."
                ),
                "element": {
                    "type": "plain_text_input",
                    "action_id": ids.AGREEMENT_TEXT_ACTION,
                    "multiline": True,
                    "max_length": MAX_AGREEMENT_LENGTH,
                    "initial_value": current.agreement_text or DEFAULT_AGREEMENT,
                },
            },
        ],
    }


@cache
def _zone_names() -> frozenset[str]:
    # Looking the name up in the list, not opening it: ZoneInfo("a" * 5000) raises OSError.
    return frozenset(available_timezones())


def parse_settings(
    values: dict[str, Any], current: ProgramSettings = DEFAULTS
) -> tuple[ProgramSettings | None, dict[str, str]]:
    """Read the settings modal; return the settings or inline errors by block_id. Settings
    the modal does not show keep their `current` values.

    Raises StaleAction (under the block concerned) for an option the modal never offered or
    an admin entry that is not a Slack user id.
    """
    errors: dict[str, str] = {}

    def number(block_id: str, action_id: str, allowed: Sequence[int], message: str) -> int:
        raw = selected_value(values, block_id, action_id, (str(n) for n in allowed))
        if raw is None:
            errors[block_id] = message
            return allowed[0]
        return int(raw)

    cadence = number(ids.CADENCE_BLOCK, ids.CADENCE_ACTION, list(CADENCES), "Pick how often.")
    day = number(ids.DAY_BLOCK, ids.DAY_ACTION, range(7), "Pick a day.")
    hour = number(ids.HOUR_BLOCK, ids.HOUR_ACTION, range(24), "Pick a time.")
    size = number(ids.GROUP_SIZE_BLOCK, ids.GROUP_SIZE_ACTION, list(GROUP_SIZES), "Pick a size.")
    keep_max = number(
        ids.KEEP_MAX_BLOCK, ids.KEEP_MAX_ACTION, list(KEEP_MEETING_MAX), "Pick how long."
    )
    circle_size = number(
        ids.CIRCLE_SIZE_BLOCK, ids.CIRCLE_SIZE_ACTION, list(CIRCLE_SIZES), "Pick a size."
    )
    chosen_format = selected_value(values, ids.FORMAT_BLOCK, ids.FORMAT_ACTION, list(FORMATS))
    if chosen_format is None:
        errors[ids.FORMAT_BLOCK] = "Pick a format."
    season_raw = text_value(values, ids.SEASON_BLOCK, ids.SEASON_ACTION)
    season_sessions = DEFAULTS.season_sessions
    if season_raw:
        if not (season_raw.isascii() and season_raw.isdigit()) or (
            int(season_raw) not in SEASON_SESSIONS
        ):
            errors[ids.SEASON_BLOCK] = (
                f"Use a whole number of sessions from {SEASON_SESSIONS[0]} to "
                f"{SEASON_SESSIONS[-1]}."
            )
        else:
            season_sessions = int(season_raw)
    zone = text_value(values, ids.TIMEZONE_BLOCK, ids.TIMEZONE_ACTION)
    if zone not in _zone_names():
        errors[ids.TIMEZONE_BLOCK] = "Use a time zone name such as Europe/London."
    repeat_raw = text_value(values, ids.REPEAT_WINDOW_BLOCK, ids.REPEAT_WINDOW_ACTION)
    repeat_window = None
    if repeat_raw:
        if not (repeat_raw.isascii() and repeat_raw.isdigit()) or not 1 <= int(repeat_raw) <= 52:
            errors[ids.REPEAT_WINDOW_BLOCK] = "Use a whole number of rounds from 1 to 52."
        else:
            repeat_window = int(repeat_raw)
    retention_raw = text_value(values, ids.RETENTION_BLOCK, ids.RETENTION_ACTION)
    retention_months = DEFAULTS.retention_months
    if retention_raw:
        if not retention_raw.isdigit() or int(retention_raw) not in RETENTION_MONTHS:
            errors[ids.RETENTION_BLOCK] = "Use a whole number of months from 1 to 60."
        else:
            retention_months = int(retention_raw)
    pulse_raw = text_value(values, ids.PULSE_EVERY_BLOCK, ids.PULSE_EVERY_ACTION)
    pulse_every = DEFAULTS.pulse_every_cycles
    if pulse_raw:
        if not (pulse_raw.isascii() and pulse_raw.isdigit()) or int(pulse_raw) not in PULSE_EVERY:
            errors[ids.PULSE_EVERY_BLOCK] = "Use a whole number of rounds from 0 (off) to 52."
        else:
            pulse_every = int(pulse_raw)
    prefs = selected_values(values, ids.PREFERENCES_BLOCK, ids.PREFERENCES_ACTION, PREFERENCES)
    themes = selected_values(values, ids.THEMES_BLOCK, ids.THEMES_ACTION, GOALS)
    admins = selected_users(values, ids.ADMINS_BLOCK, ids.ADMINS_ACTION)
    agreement = text_value(values, ids.AGREEMENT_TEXT_BLOCK, ids.AGREEMENT_TEXT_ACTION)
    if len(agreement) > MAX_AGREEMENT_LENGTH:
        errors[ids.AGREEMENT_TEXT_BLOCK] = f"Keep it under {MAX_AGREEMENT_LENGTH} characters."
    include_guests = "guests" in selected_values(
        values, ids.GUESTS_BLOCK, ids.GUESTS_ACTION, ("guests",)
    )
    auto_raw = selected_value(
        values, ids.AUTO_SCHEDULE_BLOCK, ids.AUTO_SCHEDULE_ACTION, map(str, AUTO_SCHEDULE)
    )
    rules = selected_values(values, ids.HARD_RULES_BLOCK, ids.HARD_RULES_ACTION, HARD_RULES)
    hours_raw = text_value(values, ids.SHARED_HOURS_BLOCK, ids.SHARED_HOURS_ACTION)
    shared_hours = 0
    if hours_raw:
        if not (hours_raw.isascii() and hours_raw.isdigit()) or int(hours_raw) > MAX_SHARED_HOURS:
            errors[ids.SHARED_HOURS_BLOCK] = f"Use whole hours from 0 to {MAX_SHARED_HOURS}."
        else:
            shared_hours = int(hours_raw)
    if errors:
        return None, errors
    return replace(
        current,
        cadence_weeks=cadence,
        day_of_week=day,
        hour=hour,
        timezone=zone,
        group_size=size,
        repeat_window=repeat_window,
        prefer_same_level="level" in prefs,
        prefer_shared_goals="goals" in prefs,
        prefer_tz_overlap="tz" in prefs,
        prefer_cross_team="cross_team" in prefs,
        prompt_themes=themes,
        admins=admins,
        retention_months=retention_months,
        # The standard text, left as it was, is stored as "no custom agreement".
        agreement_text="" if agreement == DEFAULT_AGREEMENT else agreement,
        include_guests=include_guests,
        auto_schedule_days=(int(auto_raw) or None) if auto_raw else None,
        never_pair_reporting_line="reporting_line" in rules,
        never_pair_skip_level="skip_level" in rules,
        avoid_same_team="same_team" in rules,
        min_shared_hours=shared_hours,
        format=ProgrammeFormat(chosen_format or ProgrammeFormat.PAIRS),
        season_sessions=season_sessions,
        circle_size=circle_size,
        keep_meeting_max=keep_max,
        pulse_every_cycles=pulse_every,
    ), {}


# What each programme setting is called where admins read it (never the column's name).
SETTING_LABELS = {
    "cadence_weeks": "how often",
    "day_of_week": "day",
    "hour": "time",
    "timezone": "time zone",
    "group_size": "group size",
    "repeat_window": "repeat window",
    "prefer_same_level": "same-level preference",
    "prefer_shared_goals": "shared-topic preference",
    "prefer_tz_overlap": "time-zone preference",
    "prefer_cross_team": "cross-team preference",
    "prompt_themes": "prompt themes",
    "admins": "programme admins",
    "agreement_text": "agreement",
    "auto_schedule_days": "auto-schedule",
    "never_pair_reporting_line": "reporting-line rule",
    "never_pair_skip_level": "skip-level rule",
    "avoid_same_team": "same-team rule",
    "min_shared_hours": "shared working hours",
    "format": "format",
    "season_sessions": "sessions per season",
    "circle_size": "circle size",
    "keep_meeting_max": "keep meeting",
    "retention_months": "text retention",
    "include_guests": "guests",
    "pulse_every_cycles": "feedback pulse",
}


def settings_saved_text(changed: Sequence[str]) -> str:
    """The admin's confirmation after saving settings, naming what changed in plain words."""
    if not changed:
        return "Settings saved: nothing changed."
    labels = list(dict.fromkeys(SETTING_LABELS.get(name, name) for name in changed))
    return f"Settings saved ({', '.join(labels)} changed). They apply from the next round."


def usefulness_text(figure: Figure) -> str:
    """Average usefulness as words: a score out of 5, or how few answered (never a fake score)."""
    if not figure.visible:
        return f"usefulness: {SUPPRESSED} answers"
    return f"usefulness {figure.shown()} out of 5"


def pulse_text(score: Figure) -> str:
    """A pulse's average as words, or how few answered (never a fake score)."""
    if not score.visible:
        return f"{SUPPRESSED} answers"
    return f"{score.shown()} out of 5 ({int(score.people)} answers)"


MAX_SUGGESTIONS_SHOWN = 20


def pulse_blocks(results: PulseResults | None) -> list[Block]:
    """The latest closed feedback pulse for admins: the average and the suggestions shared
    with them (sorted, no names, dated by the cycle only), both from at least 5 answers."""
    if results is None:
        return []
    cycle = slack_date(results.cycle_started_at, "{date_short_pretty}")
    blocks: list[Block] = [
        section(
            f"*Feedback pulse* (the cycle from {cycle}): how useful the programme is, "
            f"{pulse_text(results.score)}"
        )
    ]
    if results.score.visible and results.shared_suggestions:
        shown = results.shared_suggestions[:MAX_SUGGESTIONS_SHOWN]
        text = "\n".join(f"• {s}" for s in shown)
        if len(text) > 2900:
            text = text[:2900] + "…"
        blocks.append(section(f"*Suggestions shared with you* (anonymous, in no order)\n{text}"))
    return blocks


def figures_table(cycles: Sequence[CycleFigures]) -> str:
    """The last cycles, one line each (aggregates only); a list reads right in any font."""
    if not cycles:
        return "No rounds yet."
    return "\n".join(
        f"• *{c.started_at:%d %b %Y}*: paired {c.paired.shown()} · met {c.met_rate.shown()} · "
        f"reflected {c.reflection_rate.shown()} · {usefulness_text(c.avg_usefulness)} · "
        f"goal progress {c.goal_progress.shown()} · time picked {c.time_picked_rate.shown()} · "
        f"met after picking {c.met_after_pick_rate.shown()}"
        + (f" · feedback pulse {pulse_text(c.pulse_score)}" if c.had_pulse else "")
        for c in cycles
    )


def delivery_lines(health: DeliveryHealth) -> list[str]:
    """What admins need to know about messages not reaching people (empty when all is well)."""
    lines = []
    if health.blocked_since is not None:
        lines.append(
            f":warning: *Messages are on hold* since {slack_date(health.blocked_since)}: Slack "
            f"refuses PeerCoach's token (`{health.blocked_error}`). Reinstall the app or "
            "restore its token; held messages go out on their own once Slack accepts it."
        )
    if health.undelivered_groups:
        lines.append(
            f"Undelivered: {health.undelivered_groups} group(s) of the current round never got "
            "their intro (Slack refused it); their members were told and it won't count "
            "against them."
        )
    return lines


def admin_home_section(
    membership: MembershipFigures,
    cycles: Sequence[CycleFigures],
    next_round: datetime,
    delivery: DeliveryHealth | None = None,
    pulse: PulseResults | None = None,
    programme: ProgrammeRef | None = None,
) -> list[Block]:
    """The admin part of the App Home for one programme (`programme`; None: the workspace's
    only one): figures only, never anyone's words. Its buttons carry the programme's id."""
    value = str(programme.id) if programme is not None else ""
    current = cycles[-1] if cycles else None
    lines = [
        f"Members: active {membership.active.shown()} · paused {membership.paused.shown()} · "
        f"left {membership.left.shown()}",
        f"Next round: {slack_date(next_round)}",
        *delivery_lines(delivery or DeliveryHealth()),
    ]
    if current is not None:
        lines.insert(
            1,
            f"Current cycle (from {slack_date(current.started_at, '{date_short_pretty}')}):"
            f" paired {current.paired.shown()} · met {current.met_rate.shown()} · "
            f"reflected {current.reflection_rate.shown()}",
        )
    return [
        divider(),
        header(f"{programme.name} (admins)"[:150] if programme else "Programme (admins)"),
        section("\n".join(lines)),
        section(figures_table(cycles)),
        *pulse_blocks(pulse),
        context(
            "Figures from fewer than 5 people show as “fewer than 5”. Nobody's reflections "
            "are ever shown here."
        ),
        actions(
            button("Settings", ids.ADMIN_SETTINGS, value=value),
            button("Preview next round", ids.ADMIN_PREVIEW, value=value),
            button(
                "Run a round now",
                ids.ADMIN_RUN_NOW,
                value=value,
                style="danger",
                confirm=confirm_dialog(
                    "Run a round now?",
                    "This closes the current round and "
                    "pairs everyone now. Intros go out right away.",
                    "Run it",
                ),
            ),
            button("Export CSV", ids.ADMIN_EXPORT, value=value),
        ),
    ]


def preview_modal(result: MatchResult, quality: dict[str, str]) -> dict[str, Any]:
    """The groups a round would make now, for the admin's eyes only; nothing is sent."""
    lines = [" + ".join(f"<@{u}>" for u in g.members) for g in result.groups]
    shown = lines[:MAX_PREVIEW_LINES]
    if len(lines) > MAX_PREVIEW_LINES:
        shown.append(f"… and {len(lines) - MAX_PREVIEW_LINES} more groups")
    blocks: list[Block] = [
        section("*Preview: nothing has been sent.* These are the groups a round would make now."),
        section("\n".join(f"• {k}: {v}" for k, v in quality.items())),
    ]
    for start in range(0, len(shown), 20):
        blocks.append(section("\n".join(shown[start : start + 20])))
    if result.unmatched:
        blocks.append(
            context(f"{len(result.unmatched)} could not be paired and would get a kind note.")
        )
    return {
        "type": "modal",
        "callback_id": ids.PREVIEW_MODAL,
        "title": plain("Next round preview"),
        "close": plain("Close"),
        "blocks": blocks,
    }


def digest_text(cycle: CycleFigures, membership: MembershipFigures, programme: str = "") -> str:
    """The round digest admins get by DM: figures only (of `programme`, named when it is not
    the workspace's first)."""
    title = f"{programme} digest" if programme and programme != FIRST_PROGRAMME_NAME else "digest"
    return (
        f"*PeerCoach {title}: the cycle that started {cycle.started_at:%A %d %B %Y}*\n"
        f"• Eligible {cycle.eligible.shown()}, paired {cycle.paired.shown()}, "
        f"not paired {cycle.not_paired.shown()}, joined {cycle.joined.shown()}\n"
        f"• Groups met {cycle.met_rate.shown()} · reflections {cycle.reflection_rate.shown()} · "
        f"{usefulness_text(cycle.avg_usefulness)}\n"
        f"• Picked a time {cycle.time_picked_rate.shown()} · of those, met "
        f"{cycle.met_after_pick_rate.shown()}\n"
        f"• Commitments made {cycle.commitments_made.shown()}: "
        f"done {cycle.commitments_done.shown()}, "
        f"partly {cycle.commitments_partly.shown()}, "
        f"not yet {cycle.commitments_not_yet.shown()}\n"
        f"• Repeat pairs {cycle.repeat_pairs.shown()} · moved toward their own goal "
        f"{cycle.goal_progress.shown()}\n"
        f"• Members now: active {membership.active.shown()}, paused {membership.paused.shown()}, "
        f"left {membership.left.shown()}\n"
        "_Figures from fewer than 5 people show as “fewer than 5”._"
    )


GUESTS_OPTION = "Include guests (single- and multi-channel guest accounts)"


def round_started_moments_ago(
    last_started_at: datetime, programme_id: int | None = None
) -> dict[str, Any]:
    """Told to an admin whose "Run a round now" came moments after a round started: plainly,
    with a button for one who truly wants another (it carries the start they were shown)."""
    text = (
        f"A round started moments ago ({slack_date(last_started_at, '{time}')}), so I didn't "
        "start another: everyone already has their intro. If you really want a new round, "
        "which closes that one, press the button."
    )
    return {
        "text": text,
        "blocks": [
            section(text),
            actions(
                button(
                    "Start another round anyway",
                    ids.ADMIN_RUN_ANYWAY,
                    value=last_started_at.isoformat()
                    + (f"|{programme_id}" if programme_id is not None else ""),
                    style="danger",
                )
            ),
        ],
    }


def round_started_text(groups: int) -> str:
    return f"A new round has started: {groups} groups, intros are going out."


def delivery_blocked_text(error: str, since: datetime) -> str:
    return (
        f":warning: Slack refused PeerCoach's token (`{error}`) at {slack_date(since)}, so "
        "intros and other messages are on hold. Reinstall the app or restore its token: held "
        "messages go out on their own once Slack accepts it again, and the round carries on."
    )


def delivery_resumed_text(error: str, since: datetime) -> str:
    return (
        f":white_check_mark: Slack accepts PeerCoach's token again. Messages were on hold "
        f"since {slack_date(since)} (`{error}`); they are going out now."
    )


def org_import_modal() -> dict[str, Any]:
    """The admin's org-chart upload: one CSV file (person email, manager email)."""
    return {
        "type": "modal",
        "callback_id": ids.ORG_IMPORT_MODAL,
        "title": plain("Import org chart"),
        "submit": plain("Import"),
        "close": plain("Cancel"),
        "blocks": [
            section(
                "Upload a CSV file with a header row and two columns: the person's email and "
                "their manager's email (empty for the top of the chart). It replaces the "
                "reporting lines imported before. I'll DM you what was imported and every "
                "email Slack doesn't know; only you see that."
            ),
            {
                "type": "input",
                "block_id": ids.ORG_FILE_BLOCK,
                "label": plain("Org chart (CSV)"),
                "element": {
                    "type": "file_input",
                    "action_id": ids.ORG_FILE_ACTION,
                    "filetypes": ["csv", "txt"],
                    "max_files": 1,
                },
            },
            context(
                "Emails are used only to find people in Slack and are not stored. The "
                "\u201cnever a person and their manager\u201d rule is in Settings."
            ),
        ],
    }


def parse_org_import(values: dict[str, Any]) -> str:
    """Read the org-chart modal: the uploaded file's id. Raises StaleAction (under the file
    block) when no file came with it."""
    files = (values.get(ids.ORG_FILE_BLOCK, {}).get(ids.ORG_FILE_ACTION) or {}).get("files")
    if not isinstance(files, list) or len(files) != 1 or not isinstance(files[0], dict):
        raise StaleAction("Attach one CSV file.", block_id=ids.ORG_FILE_BLOCK)
    file_id = files[0].get("id")
    if not isinstance(file_id, str) or not ids.SLACK_ID.fullmatch(file_id):
        raise StaleAction(block_id=ids.ORG_FILE_BLOCK)
    return file_id


MAX_LISTED_EMAILS = 50


def org_import_text(notice: OrgImportNotice) -> str:
    """The import's outcome for the admin who ran it: counts, the emails Slack does not know
    (only this admin sees them), rows that were not two emails, loops in the chart."""
    if notice.failed is not None:
        return f"The org chart was not imported: {notice.failed}"
    lines = [
        f"*Org chart imported:* {notice.stored} reporting line(s) between {notice.people} "
        f"people, from {notice.rows} row(s). They replace the lines imported before."
    ]
    if notice.unknown_emails:
        shown = notice.unknown_emails[:MAX_LISTED_EMAILS]
        more = len(notice.unknown_emails) - len(shown)
        lines.append(
            f":warning: Slack knows no one by {len(notice.unknown_emails)} email(s), so "
            f"{notice.rows_with_unknown} row(s) naming them were not imported: "
            + ", ".join(shown)
            + (f" and {more} more" if more else "")
            + ". Fix them in the file and import it again."
        )
    if notice.bad_lines:
        listed = ", ".join(str(n) for n in notice.bad_lines[:MAX_LISTED_EMAILS])
        more = len(notice.bad_lines) - min(len(notice.bad_lines), MAX_LISTED_EMAILS)
        lines.append(
            f":warning: {len(notice.bad_lines)} row(s) are not two email addresses and were "
            f"skipped (line {listed}{f' and {more} more' if more else ''})."
        )
    if notice.cycles:
        loops = "; ".join(" → ".join(f"<@{u}>" for u in loop) for loop in notice.cycles[:10])
        lines.append(
            f":warning: The chart has {len(notice.cycles)} loop(s) (people who end up "
            f"managing themselves): {loops}. They were imported; fix them at the source."
        )
    return "\n".join(lines)


def programme_summary_text(rows: Sequence[tuple[ProgrammeRef, MembershipFigures]]) -> str:
    """The workspace-wide summary Slack admins see: each programme's member counts (small
    numbers shown as "fewer than 5"), nothing about anyone."""
    lines = [
        f"• *{ref.name}*{'' if ref.is_open else ' (closed)'}: active {figures.active.shown()}"
        f" · paused {figures.paused.shown()} · left {figures.left.shown()}"
        for ref, figures in rows
    ]
    return (
        f"*PeerCoach programmes in this workspace ({len(rows)})*\n"
        + "\n".join(lines)
        + "\n_Figures from fewer than 5 people show as “fewer than 5”._"
    )


def programme_created_text(name: str) -> str:
    return (
        f"Programme *{name}* is ready, with the default settings (weekly pairs, Mondays 09:00 "
        f"UTC). Change them with `/peercoach admin settings --programme {name}`; people join "
        f"with `/peercoach join {name}`."
    )


def programme_open_text(name: str, is_open: bool) -> str:
    if is_open:
        return f"{name} is open: people can join it (`/peercoach join {name}`)."
    return f"{name} is closed to new members; its members carry on as before."
