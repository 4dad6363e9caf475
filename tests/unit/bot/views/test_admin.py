"""The programme settings modal: what an admin sees and what their choices become."""

from __future__ import annotations

from typing import Any

import pytest

from bot import ids
from bot.domain.messages import OrgImportNotice
from bot.errors import StaleAction
from bot.sandbox.slack_requests import (
    file_input,
    multi_select,
    prefilled_values,
    select,
    text_input,
    users_select,
)
from bot.views.admin import (
    CADENCES,
    DAYS,
    GROUP_SIZES,
    org_import_modal,
    org_import_text,
    parse_org_import,
    parse_settings,
    settings_modal,
)
from tests.unit.bot.views.modals import (
    assert_refused_under,
    assert_slack_would_open,
    submitted_unchanged,
)

FILLED_IN = (
    select(ids.CADENCE_BLOCK, ids.CADENCE_ACTION, "2")
    | select(ids.DAY_BLOCK, ids.DAY_ACTION, "2")
    | select(ids.HOUR_BLOCK, ids.HOUR_ACTION, "14")
    | text_input(ids.TIMEZONE_BLOCK, ids.TIMEZONE_ACTION, " America/New_York ")
    | select(ids.GROUP_SIZE_BLOCK, ids.GROUP_SIZE_ACTION, "3")
    | multi_select(ids.PREFERENCES_BLOCK, ids.PREFERENCES_ACTION, ["goals", "cross_team"])
    | text_input(ids.REPEAT_WINDOW_BLOCK, ids.REPEAT_WINDOW_ACTION, "6")
    | multi_select(ids.THEMES_BLOCK, ids.THEMES_ACTION, ["feedback", "hiring"])
    | users_select(ids.ADMINS_BLOCK, ids.ADMINS_ACTION, ["U007"])
    | select(ids.FORMAT_BLOCK, ids.FORMAT_ACTION, "circles")
    | select(ids.CIRCLE_SIZE_BLOCK, ids.CIRCLE_SIZE_ACTION, "5")
    | select(ids.KEEP_MAX_BLOCK, ids.KEEP_MAX_ACTION, "2")
    | text_input(ids.SEASON_BLOCK, ids.SEASON_ACTION, "8")
)


def test_an_admins_choices_become_the_programme_settings() -> None:
    chosen, errors = parse_settings(FILLED_IN)

    assert errors == {}
    assert chosen is not None
    assert (chosen.cadence_weeks, chosen.day_of_week, chosen.hour) == (2, 2, 14)
    assert (chosen.timezone, chosen.group_size, chosen.repeat_window) == ("America/New_York", 3, 6)
    assert (chosen.prefer_same_level, chosen.prefer_shared_goals) == (False, True)
    assert (chosen.prefer_tz_overlap, chosen.prefer_cross_team) == (False, True)
    assert chosen.prompt_themes == ("feedback", "hiring")
    assert chosen.admins == ("U007",)
    assert (chosen.format, chosen.circle_size, chosen.season_sessions) == ("circles", 5, 8)
    assert chosen.keep_meeting_max == 2


def test_a_season_outside_2_to_26_sessions_is_refused_inline() -> None:
    for wrong in ("1", "27", "six"):
        values = FILLED_IN | text_input(ids.SEASON_BLOCK, ids.SEASON_ACTION, wrong)
        chosen, errors = parse_settings(values)
        assert chosen is None and ids.SEASON_BLOCK in errors


def test_an_empty_repeat_window_means_as_long_as_a_fresh_partner_exists() -> None:
    values = FILLED_IN | text_input(ids.REPEAT_WINDOW_BLOCK, ids.REPEAT_WINDOW_ACTION, "")
    chosen, _ = parse_settings(values)
    assert chosen is not None and chosen.repeat_window is None


REPEAT_WINDOW_RULE = "Use a whole number of rounds from 1 to 52."
ZONE_RULE = "Use a time zone name such as Europe/London."


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param({ids.CADENCE_BLOCK: {}}, "Pick how often.", id="no cadence"),
        pytest.param({ids.DAY_BLOCK: {}}, "Pick a day.", id="no day"),
        pytest.param({ids.HOUR_BLOCK: {}}, "Pick a time.", id="no hour"),
        pytest.param({ids.GROUP_SIZE_BLOCK: {}}, "Pick a size.", id="no size"),
        pytest.param(
            text_input(ids.TIMEZONE_BLOCK, ids.TIMEZONE_ACTION, "Mars/Olympus"), ZONE_RULE
        ),
        pytest.param(text_input(ids.TIMEZONE_BLOCK, ids.TIMEZONE_ACTION, ""), ZONE_RULE),
        *(
            pytest.param(
                text_input(ids.REPEAT_WINDOW_BLOCK, ids.REPEAT_WINDOW_ACTION, raw),
                REPEAT_WINDOW_RULE,
                id=f"repeat {raw}",
            )
            for raw in ("0", "53", "2.5")
        ),
        *(
            pytest.param(
                text_input(ids.SHARED_HOURS_BLOCK, ids.SHARED_HOURS_ACTION, raw),
                "Use whole hours from 0 to 8.",
                id=f"shared hours {raw}",
            )
            for raw in ("9", "-1", "1.5")
        ),
    ],
)
def test_a_problem_is_shown_under_its_own_input(change: dict[str, Any], message: str) -> None:
    assert_refused_under(parse_settings(FILLED_IN | change), change, message)


def test_the_modal_offers_every_choice_and_saving_unchanged_keeps_the_settings() -> None:
    current, _ = parse_settings(FILLED_IN)
    assert current is not None
    modal = settings_modal(current)

    assert_slack_would_open(modal)
    offered = {
        block["block_id"]: [o["text"]["text"] for o in block["element"]["options"]]
        for block in modal["blocks"]
        if block.get("element", {}).get("type") == "static_select"
    }
    assert offered[ids.CADENCE_BLOCK] == list(CADENCES.values())
    assert offered[ids.DAY_BLOCK] == DAYS
    assert offered[ids.HOUR_BLOCK][9] == "09:00" and len(offered[ids.HOUR_BLOCK]) == 24
    assert offered[ids.GROUP_SIZE_BLOCK] == list(GROUP_SIZES.values())
    assert submitted_unchanged(modal, parse_settings) == (current, {})


@pytest.mark.parametrize(
    "change",
    [
        select(ids.CADENCE_BLOCK, ids.CADENCE_ACTION, "3"),
        select(ids.HOUR_BLOCK, ids.HOUR_ACTION, "24"),
        select(ids.GROUP_SIZE_BLOCK, ids.GROUP_SIZE_ACTION, "5"),
    ],
)
def test_an_option_the_modal_never_offered_is_out_of_date(change: dict[str, Any]) -> None:
    with pytest.raises(StaleAction):
        parse_settings(FILLED_IN | change)


def test_the_hard_rules_are_chosen_in_the_modal_and_kept_when_saved_unchanged() -> None:
    values = (
        FILLED_IN
        | {
            ids.HARD_RULES_BLOCK: {
                ids.HARD_RULES_ACTION: {
                    "type": "checkboxes",
                    "selected_options": [{"value": "reporting_line"}, {"value": "same_team"}],
                }
            }
        }
        | text_input(ids.SHARED_HOURS_BLOCK, ids.SHARED_HOURS_ACTION, "3")
    )
    chosen, errors = parse_settings(values)
    assert errors == {} and chosen is not None
    assert (chosen.never_pair_reporting_line, chosen.never_pair_skip_level) == (True, False)
    assert (chosen.avoid_same_team, chosen.min_shared_hours) == (True, 3)
    assert submitted_unchanged(settings_modal(chosen), parse_settings) == (chosen, {})


def test_the_org_chart_modal_takes_one_file() -> None:
    modal = org_import_modal()
    assert_slack_would_open(modal)
    with pytest.raises(StaleAction):
        parse_org_import(prefilled_values(modal))  # submitted without a file
    attached = file_input(ids.ORG_FILE_BLOCK, ids.ORG_FILE_ACTION, [{"id": "F0123ABC"}])
    assert parse_org_import(attached) == "F0123ABC"
    with pytest.raises(StaleAction):
        parse_org_import(file_input(ids.ORG_FILE_BLOCK, ids.ORG_FILE_ACTION, [{"id": "<x>"}]))


def test_the_import_report_names_every_problem_for_the_admin() -> None:
    text = org_import_text(
        OrgImportNotice(
            rows=5,
            stored=2,
            people=3,
            unknown_emails=("a@x.io", "b@x.io"),
            rows_with_unknown=2,
            bad_lines=(4,),
            cycles=(("UA", "UB"),),
        )
    )
    assert "2 reporting line(s) between 3 people, from 5 row(s)" in text
    assert "2 email(s), so 2 row(s)" in text and "a@x.io, b@x.io" in text
    assert "1 row(s) are not two email addresses" in text and "line 4" in text
    assert "<@UA> → <@UB>" in text
    failed = org_import_text(OrgImportNotice(failed="That file has no rows below its header."))
    assert failed.startswith("The org chart was not imported: That file has no rows")
