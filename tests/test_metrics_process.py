"""A `peercoach worker` has no Slack-facing server: it serves /metrics on METRICS_PORT."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.sandbox.slack_emulator import SlackEmulator
from tests.test_serve_process import free_port
from tests.test_worker_process import due_workspace, read_until  # noqa: F401 (a fixture)

pytestmark = pytest.mark.slow


def test_a_worker_serves_its_lease_and_deliveries_on_the_metrics_port(
    due_workspace: str,  # noqa: F811
    slack: SlackEmulator,
    tmp_path: Path,
) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_"))}
    env |= {
        "SLACK_BOT_TOKEN": "xoxb-worker",
        "SLACK_API_URL": slack.base_url,
        "DATABASE_URL": due_workspace,
        "METRICS_PORT": str(port),
        "METRICS_HOST": "127.0.0.1",
        "METRICS_TOKEN": "scrape-me",
        "LOG_FORMAT": "json",
        "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "worker"],
        env=env,
        cwd=tmp_path,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        read_until(worker, "serving GET /metrics")
        slack.wait_for("chat.postMessage", count=2, timeout=60)  # the round's two intros
        base = f"http://127.0.0.1:{port}/metrics"
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(base, timeout=10)
        request = urllib.request.Request(base, headers={"Authorization": "Bearer scrape-me"})
        with urllib.request.urlopen(request, timeout=10) as response:
            text = response.read().decode()
    finally:
        worker.terminate()
        worker.wait(timeout=30)

    assert refused.value.code == 401
    values = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    assert values[("peercoach_scheduler_lease_held", ())] == 1
    assert values[("peercoach_round_start_seconds_count", (("kind", "scheduled"),))] == 1
    # The intros are counted once recorded as sent, just after Slack took them.
    assert values[("peercoach_deliveries_total", (("outcome", "sent"),))] in (1, 2)
