"""The Block Kit pieces every surface is built from stay within what Slack accepts."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.sandbox.reference import MAX_BUTTON_TEXT, MAX_SECTION_TEXT, check_blocks
from bot.views import blocks as kit


def test_a_long_text_is_cut_to_slacks_limit_with_an_ellipsis() -> None:
    block = kit.section("x" * 5000, block_id="notes")

    assert block["block_id"] == "notes"
    assert len(block["text"]["text"]) == MAX_SECTION_TEXT
    assert block["text"]["text"].endswith("x…")
    assert check_blocks([block], "message") == []


def test_a_short_text_is_shown_as_written() -> None:
    assert kit.section("*Hello* <@U001>")["text"] == {
        "type": "mrkdwn",
        "text": "*Hello* <@U001>",
    }


def test_headers_and_option_labels_are_cut_to_slacks_lengths() -> None:
    assert len(kit.header("h" * 400)["text"]["text"]) == 150
    assert kit.option("o" * 100, "value") == {
        "text": {"type": "plain_text", "text": "o" * 75, "emoji": True},
        "value": "value",
    }


def test_a_plain_button_carries_only_what_was_given() -> None:
    assert kit.button("Reflect", "reflect") == {
        "type": "button",
        "text": {"type": "plain_text", "text": "Reflect", "emoji": True},
        "action_id": "reflect",
    }


def test_a_dangerous_button_asks_for_confirmation() -> None:
    ask = kit.confirm_dialog("Leave?", "You'll stop being paired.", "Leave")
    element = kit.button("Leave", "leave", value="7", style="danger", confirm=ask)

    assert (element["value"], element["style"]) == ("7", "danger")
    assert element["confirm"]["confirm"]["text"] == "Leave"
    assert element["confirm"]["deny"]["text"] == "Cancel"


def test_a_message_built_from_the_pieces_is_one_slack_accepts() -> None:
    blocks = [
        kit.header("Your PeerCoach pairing"),
        kit.section("Meet <@U002>"),
        kit.divider(),
        kit.context("Private to you"),
        kit.actions(kit.button("Done", "done", style="primary"), block_id="a1"),
    ]
    assert check_blocks(blocks, "message") == []
    assert (
        check_blocks([kit.actions(kit.button("b" * (MAX_BUTTON_TEXT + 1), "x"))], "message") != []
    )


def test_a_date_shows_in_the_readers_own_zone_with_a_utc_fallback() -> None:
    moment = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
    assert kit.slack_date(moment) == (
        "<!date^1795426200^{date_short_pretty} at {time}|2026-11-23 09:30 UTC>"
    )


def test_an_input_missing_from_a_submission_reads_as_empty() -> None:
    values = {"team": {"team_input": {"value": "Sales"}}, "level": {"level_select": None}}
    assert kit.input_state(values, "team", "team_input") == {"value": "Sales"}
    assert kit.input_state(values, "level", "level_select") == {}
    assert kit.input_state(values, "goals", "goals_select") == {}
