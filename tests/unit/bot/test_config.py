"""Start-up settings: every missing or malformed variable is named in one line, value unshown."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import HINTS, ConfigError, load_settings


@pytest.fixture(autouse=True)
def no_configuration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No PeerCoach variable in the environment and no `.env` in the working directory."""
    for variable in HINTS:
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_without_configuration_the_defaults_apply() -> None:
    settings = load_settings()
    assert (settings.port, settings.log_level, settings.run_scheduler) == (3000, "INFO", True)
    assert settings.slack_api_url == "https://slack.com/api/"
    assert settings.secret("slack_bot_token") == ""


def test_settings_come_from_a_dotenv_file(no_configuration: Path) -> None:
    (no_configuration / ".env").write_text("SLACK_API_URL=http://127.0.0.1:9/api\nPORT=4000\n")
    settings = load_settings()
    assert settings.slack_api_url == "http://127.0.0.1:9/api/"
    assert settings.port == 4000


def test_a_required_variable_that_is_missing_is_named_with_where_to_find_it() -> None:
    with pytest.raises(ConfigError) as problem:
        load_settings(required=["SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"])
    assert str(problem.value) == (
        "SLACK_BOT_TOKEN is not set: set it to the bot token (xoxb-...) from your Slack app's "
        "OAuth & Permissions page"
    )


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("PORT", "eighty-s3cret"),
        ("PORT", "70000"),
        ("LOG_LEVEL", "LOUD-s3cret"),
        ("DATABASE_URL", "peercoach-s3cret.db"),
        ("SLACK_API_URL", "slack.com/s3cret"),
        ("RUN_SCHEDULER", "maybe-s3cret"),
    ],
)
def test_a_malformed_variable_is_named_in_one_line_without_its_value(
    variable: str, value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(variable, value)

    with pytest.raises(ConfigError) as problem:
        load_settings()

    line = str(problem.value)
    assert line.startswith(f"{variable} is invalid (")
    assert line.endswith(f": set it to {HINTS[variable]}")
    assert "\n" not in line and value not in line
