"""`peercoach serve` as an operator runs it: a real process, a real port, the emulator as Slack."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.sandbox.slack_emulator import SlackEmulator
from bot.sandbox.slack_requests import SlackRequests

pytestmark = pytest.mark.slow  # a real server process

SECRET = "serve-test-secret"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def server(tmp_path: Path, slack: SlackEmulator) -> Iterator[str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_"))}
    env |= {
        "SLACK_BOT_TOKEN": "xoxb-serve-test",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": slack.base_url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
        "PORT": str(port),
        "RUN_SCHEDULER": "false",
        "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1"],
        env=env,
        cwd=tmp_path,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        for line in process.stderr:  # block until waitress says it is serving
            if "Serving on" in line:
                break
        else:
            pytest.fail(f"serve exited with {process.wait()}")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)


def http_wsgi(base: str):
    """A WSGI-shaped callable that sends the request over real HTTP to the server."""

    def call(environ, start_response):
        body = environ["wsgi.input"].read()
        headers = {k[5:].replace("_", "-"): v for k, v in environ.items() if k.startswith("HTTP_")}
        headers["Content-Type"] = environ["CONTENT_TYPE"]
        request = urllib.request.Request(base + environ["PATH_INFO"], data=body, headers=headers)
        with urllib.request.urlopen(request, timeout=10) as response:
            start_response(f"{response.status} OK", list(response.headers.items()))
            return [response.read()]

    return call


def test_serve_migrates_answers_healthz_and_opens_the_join_modal(
    server: str, slack: SlackEmulator, tmp_path: Path
) -> None:
    with urllib.request.urlopen(server + "/healthz", timeout=10) as health:
        assert (health.status, health.read()) == (200, b"ok")
    assert (tmp_path / "serve.db").exists()

    people = SlackRequests(
        http_wsgi(server), signing_secret=SECRET, emulator=slack, team_id=slack.team_id
    )
    response = people.command("U001", "join")

    assert response.status == 200
    opened = slack.wait_for("views.open")
    assert opened[0].ok and opened[0].args["view"]["callback_id"] == "join_modal"
