"""Configuration problems stop the app with one clear line, never a traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bot.config import ConfigError, load_settings


def run_peercoach(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def clean_env(tmp_path, monkeypatch) -> dict[str, str]:
    monkeypatch.chdir(tmp_path)  # no .env from the developer's checkout
    import os

    return {
        k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_", "PORT"))
    }


def test_serve_without_a_token_names_the_missing_variable(clean_env: dict[str, str]) -> None:
    result = run_peercoach("serve", env=clean_env | {"PYTHONPATH": _repo()})
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "peercoach: configuration error: SLACK_BOT_TOKEN is not set: set it to the bot token "
        "(xoxb-...) from your Slack app's OAuth & Permissions page"
    ]


def test_a_malformed_port_is_named_without_a_traceback(clean_env: dict[str, str]) -> None:
    env = clean_env | {
        "PYTHONPATH": _repo(),
        "SLACK_BOT_TOKEN": "xoxb-1",
        "SLACK_SIGNING_SECRET": "s",
        "PORT": "eighty",
    }
    result = run_peercoach("serve", env=env)
    assert result.returncode == 2
    assert "PORT is invalid" in result.stderr and "Traceback" not in result.stderr


def test_socket_mode_needs_the_app_token(clean_env: dict[str, str]) -> None:
    result = run_peercoach(
        "socket", env=clean_env | {"PYTHONPATH": _repo(), "SLACK_BOT_TOKEN": "x"}
    )
    assert result.returncode == 2 and "SLACK_APP_TOKEN is not set" in result.stderr


def test_settings_come_from_a_dotenv_file(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SLACK_API_URL", raising=False)
    (tmp_path / ".env").write_text("SLACK_API_URL=http://127.0.0.1:9/api\nPORT=4000\n")
    settings = load_settings()
    assert settings.slack_api_url == "http://127.0.0.1:9/api/"
    assert settings.port == 4000


def test_a_non_http_api_url_is_refused(monkeypatch) -> None:
    monkeypatch.setenv("SLACK_API_URL", "slack.com/api")
    with pytest.raises(ConfigError, match="SLACK_API_URL is invalid"):
        load_settings()


def _repo() -> str:
    from pathlib import Path

    return str(Path(__file__).resolve().parents[1])


def test_response_url_origins_default_to_slacks_hooks_and_take_a_list(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SLACK_RESPONSE_URL_ORIGINS", raising=False)
    assert load_settings().slack_response_url_origins == ("https://hooks.slack.com",)
    monkeypatch.setenv(
        "SLACK_RESPONSE_URL_ORIGINS", "https://hooks.slack-gov.com, HTTPS://Hooks.Slack.com:443/"
    )
    assert load_settings().slack_response_url_origins == (
        "https://hooks.slack-gov.com",
        "https://hooks.slack.com",
    )


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("SLACK_RESPONSE_URL_ORIGINS", "hooks.slack.com"),
        ("SLACK_RESPONSE_URL_ORIGINS", " , "),
        ("MAX_REQUEST_BYTES", "12"),
        ("MAX_REQUEST_BYTES", "lots"),
    ],
)
def test_a_malformed_surface_setting_is_named(
    monkeypatch: pytest.MonkeyPatch, tmp_path, variable: str, value: str
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError, match=f"^{variable} is invalid"):
        load_settings()
