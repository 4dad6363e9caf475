"""`peercoach socket` as members live it: join, a round and a reflection over Socket Mode."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from bot import ids
from bot.sandbox.harness import Sandbox
from bot.sandbox.slack_emulator import SlackEmulator
from bot.sandbox.socket_requests import SocketSlackRequests
from db.models import Member, PairGroup, Reflection
from tests.cycle_helpers import MONDAY_9, go_to, intros, press
from tests.test_rounds import reflection_values

pytestmark = pytest.mark.slow


def reflection_modal(sandbox: Sandbox, user: str) -> dict:
    intro = next(
        m for m in intros(sandbox) if user in sandbox.emulator.conversation_members(m.channel)
    )
    press(sandbox, user, ids.OPEN_REFLECTION, intro)
    sandbox.settle()
    return sandbox.emulator.calls_to("views.open")[-1].response["view"]


def test_join_round_and_reflect_over_socket_mode(sandbox: Sandbox) -> None:
    sandbox.over_socket_mode()
    sandbox.join("U001")
    sandbox.join("U002")
    go_to(sandbox, MONDAY_9)
    sandbox.tick()
    assert len(intros(sandbox)) == 1

    view = reflection_modal(sandbox, "U001")
    answer = sandbox.people.submit("U001", view, reflection_values("4", "Ask first", "Delegate"))
    sandbox.settle()

    assert answer.status == 200 and not answer.body
    with sandbox.deps.unit_of_work() as session:
        assert session.scalar(select(Reflection.usefulness)) == 4
        assert len(session.scalars(select(Member)).all()) == 2
    endpoint = sandbox.emulator.socket_mode
    assert all(e.acked and e.deliveries == 1 for e in endpoint.envelopes.values())
    assert [c.ok for c in sandbox.emulator.calls_to("apps.connections.open")] == [True]


def test_a_dropped_connection_is_reopened_and_no_envelope_is_lost(sandbox: Sandbox) -> None:
    # slack-sdk notices a silent drop by missing pongs (4 ping intervals): keep them short here.
    sandbox.over_socket_mode(ping_interval=0.25)
    sandbox.join("U001")
    sandbox.join("U002")
    go_to(sandbox, MONDAY_9)
    sandbox.tick()
    endpoint = sandbox.emulator.socket_mode
    acknowledged = set(endpoint.envelopes)

    endpoint.drop()  # the network cuts the link; the app has acked everything so far
    view = reflection_modal(sandbox, "U001")  # sent while the app is away
    sandbox.people.submit("U001", view, reflection_values("5", "Listen longer", None))
    sandbox.settle()

    assert len(sandbox.emulator.successful("apps.connections.open")) == 2
    resent = [e for e in endpoint.envelopes.values() if e.envelope_id not in acknowledged]
    assert all(e.acked for e in resent)
    before = [e for e in endpoint.envelopes.values() if e.envelope_id in acknowledged]
    assert all(e.deliveries == 1 for e in before)  # acknowledged ones are never sent again
    with sandbox.deps.unit_of_work() as session:
        assert session.scalar(select(Reflection.usefulness)) == 5
    assert len(sandbox.emulator.calls_to("views.open")) == 3  # two joins, one reflection


def test_slack_asking_for_a_refresh_moves_the_app_to_a_new_connection(sandbox: Sandbox) -> None:
    sandbox.over_socket_mode()
    endpoint = sandbox.emulator.socket_mode

    endpoint.refresh()
    endpoint.wait_for_connections(2)
    sandbox.join("U001")

    assert len(sandbox.emulator.successful("apps.connections.open")) == 2
    assert endpoint.live_connections() == 1  # the old connection was closed by the app
    assert all(e.acked and e.deliveries == 1 for e in endpoint.envelopes.values())


def test_an_envelope_cut_off_before_its_ack_is_sent_again_and_counted_once(
    sandbox: Sandbox,
) -> None:
    sandbox.over_socket_mode(ping_interval=0.25)
    sandbox.join("U001")
    sandbox.join("U002")
    go_to(sandbox, MONDAY_9)
    sandbox.tick()
    people = sandbox.people
    assert isinstance(people, SocketSlackRequests)

    people.drop_after_next = True  # the link dies right after "We met" is written to it
    press(sandbox, "U001", ids.WE_MET, intros(sandbox)[0])
    sandbox.settle()

    click = list(sandbox.emulator.socket_mode.envelopes.values())[-1]
    assert click.acked and click.deliveries == 2  # resent on the new connection
    assert len(sandbox.emulator.successful("apps.connections.open")) == 2
    with sandbox.deps.unit_of_work() as session:
        assert session.scalar(select(PairGroup.met_at)) is not None
    replies = [r["text"] for r in sandbox.emulator.responses]
    assert replies[0].startswith("Noted: you met")
    assert all(r.startswith("Already noted") for r in replies[1:])  # a repeat changes nothing


def test_peercoach_socket_connects_and_answers_a_command(slack: SlackEmulator, tmp_path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_"))}
    env |= {
        "SLACK_BOT_TOKEN": "xoxb-socket-test",
        "SLACK_APP_TOKEN": "xapp-1-socket-test",
        "SLACK_API_URL": slack.base_url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'socket.db'}",
        "RUN_SCHEDULER": "false",
        "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "socket"],
        env=env,
        cwd=tmp_path,
        stderr=subprocess.DEVNULL,
    )
    try:
        slack.socket_mode.wait_for_connections(1, timeout=60)
        people = SocketSlackRequests(slack.socket_mode, emulator=slack, team_id=slack.team_id)
        answer = people.command("U001", "join")
        opened = slack.wait_for("views.open")
    finally:
        process.terminate()
        process.wait(timeout=30)

    assert answer.status == 200
    assert opened[0].ok and opened[0].args["view"]["callback_id"] == "join_modal"
