"""Configuration problems stop the `peercoach` process with one clear line, never a traceback.

The settings rules themselves are unit-tested in tests/unit/bot/test_config.py.
"""

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


def _repo() -> str:
    from pathlib import Path

    return str(Path(__file__).resolve().parents[1])


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({"SLACK_CLIENT_ID": "1.2", "SLACK_SIGNING_SECRET": "s"}, "SLACK_CLIENT_SECRET is not set"),
        ({"SLACK_CLIENT_SECRET": "x", "SLACK_SIGNING_SECRET": "s"}, "SLACK_CLIENT_ID is not set"),
        (
            {
                "SLACK_CLIENT_ID": "1.2",
                "SLACK_CLIENT_SECRET": "x",
                "SLACK_BOT_TOKEN": "xoxb-1",
                "SLACK_SIGNING_SECRET": "s",
            },
            "SLACK_BOT_TOKEN is set together with SLACK_CLIENT_ID/SLACK_CLIENT_SECRET",
        ),
    ],
)
def test_a_mix_of_single_workspace_and_oauth_settings_is_refused_in_one_line(
    clean_env: dict[str, str], variables: dict[str, str], named: str
) -> None:
    result = run_peercoach("serve", env=clean_env | variables | {"PYTHONPATH": _repo()})
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"peercoach: configuration error: {named}")


def test_oauth_mode_needs_no_bot_token(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("SLACK_BOT_TOKEN", "SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SLACK_CLIENT_ID", "1.2")
    monkeypatch.setenv("SLACK_CLIENT_SECRET", "secret")
    settings = load_settings(required=["SLACK_BOT_TOKEN"])
    assert settings.oauth_enabled and settings.slack_bot_token is None


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
