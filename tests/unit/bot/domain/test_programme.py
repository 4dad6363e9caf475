"""ProgramSettings as a programme stores it: one JSON document, read back whatever the code
added or removed since it was written."""

from __future__ import annotations

import json

from bot.domain.programme import DEFAULTS, ProgramSettings


def test_settings_round_trip_through_their_stored_document() -> None:
    settings = ProgramSettings(
        cadence_weeks=2,
        day_of_week=2,
        hour=15,
        timezone="Europe/London",
        prompt_themes=("feedback", "delegation"),
        admins=("U1",),
        include_guests=True,
    )
    stored = json.loads(json.dumps(settings.to_stored()))  # as the JSON column gives it back
    assert "admins" not in stored  # owners are program_admins rows
    assert ProgramSettings.from_stored(stored, admins=("U1",)) == settings


def test_a_setting_added_later_reads_its_default_and_a_removed_one_is_ignored() -> None:
    stored = DEFAULTS.to_stored()
    del stored["include_guests"]  # a document written before the setting existed
    stored["a_setting_since_removed"] = 7
    assert ProgramSettings.from_stored(stored) == DEFAULTS
    assert ProgramSettings.from_stored(None) == DEFAULTS
