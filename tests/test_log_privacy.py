"""No text a person wrote reaches the logs, at any level: every logger at DEBUG through join,
round, reflect, history, export, the next round's commitment check-in and every failure path."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from urllib.parse import urlencode

from bot import ids
from bot.sandbox.harness import Sandbox
from bot.sandbox.slack_requests import call_wsgi, join_values
from tests.cycle_helpers import MONDAY_9, go_to, intros
from tests.surface_helpers import Attacker, every_logger_at, sign
from tests.test_admin import ADMIN
from tests.test_rounds import open_reflection_modal, reflection_values

TEAM = "Team-PELICAN-4411"
TAKEAWAY = "Takeaway OCELOT 9182 about my manager"
COMMITMENT = "Commitment IBEX 3307: talk to Dana"
SECRETS = ("PELICAN", "OCELOT", "IBEX")
FORM = "application/x-www-form-urlencoded"


def test_no_written_text_reaches_any_log_at_debug(sandbox: Sandbox, attacker: Attacker) -> None:
    sandbox.emulator.add_user(ADMIN, is_admin=True)
    with every_logger_at(logging.DEBUG) as logs:
        # Join (and edit the profile, so the modal comes back prefilled with the team).
        for user in ("U001", "U002"):
            sandbox.join(user, team=TEAM, never=["U039"])
        sandbox.people.command("U001", "profile")
        sandbox.settle()
        # A round; U001 reflects with a shared takeaway and a commitment, twice (a re-save).
        go_to(sandbox, MONDAY_9)
        sandbox.tick()
        view = open_reflection_modal(sandbox, "U001")
        values = reflection_values("5", TAKEAWAY, COMMITMENT, share=True)
        for _ in range(2):
            assert sandbox.people.submit("U001", view, values).status == 200
            sandbox.settle()
        sandbox.tick()  # the shared takeaway goes out to the partner
        # History, the admin's export and Home, the next round's commitment check-in.
        assert TAKEAWAY in str(sandbox.people.command("U001", "history").json())
        sandbox.people.command(ADMIN, "admin export")
        sandbox.people.open_home(ADMIN)
        sandbox.settle()
        go_to(sandbox, MONDAY_9 + timedelta(weeks=1))
        sandbox.tick()
        sandbox.settle()

        # Failure paths, each carrying the texts.
        # Work failing after the ack (Slack refuses the data export's DM), then a
        # confirmation DM refused once (the outbox retries it).
        sandbox.emulator.fail_next("conversations.open", "internal_error")
        sandbox.people.command("U001", "my-data")
        sandbox.settle()
        sandbox.emulator.fail_next("chat.postMessage", "internal_error")
        sandbox.people.submit("U001", view, values)
        sandbox.settle()
        # Forged metadata, unknown options, a modal from an older version.
        sandbox.people.submit("U001", view | {"private_metadata": "not json"}, values)
        sandbox.people.submit("U001", view | {"callback_id": "old_modal"}, values)
        join_view = sandbox.emulator.calls_to("views.open")[0].response["view"]
        sandbox.people.submit("U001", join_view, join_values(9, TEAM, ["delegation"]))
        # Unverified, malformed and oversized requests.
        payload = {
            "type": "view_submission",
            "team": {"id": sandbox.team_id},
            "user": {"id": "U001"},
            "view": view | {"state": {"values": values}},
            "response_url": attacker.url,
        }
        body = urlencode({"payload": json.dumps(payload)}).encode()
        forged = {"Content-Type": FORM, "X-Slack-Request-Timestamp": "abc"}
        assert call_wsgi(sandbox.wsgi, "POST", "/slack/events", body, forged).status == 401
        wrong = {"Content-Type": FORM, **sign(body), "X-Slack-Signature": "v0=" + "0" * 64}
        assert call_wsgi(sandbox.wsgi, "POST", "/slack/events", body, wrong).status == 401
        broken = urlencode({"payload": json.dumps(payload)[:-1]}).encode()
        assert sandbox.people.post(broken, FORM).status == 400
        huge = urlencode({"payload": json.dumps(payload) + " " * 300_000}).encode()
        assert sandbox.people.post(huge, FORM).status == 413
        sandbox.settle()

    # The run did log plenty, Bolt's, slack-sdk's and SQLAlchemy's debug lines included.
    names = {r.name.split(".")[0] for r in logs.records if r.levelno == logging.DEBUG}
    assert {"slack_bolt", "slack_sdk", "sqlalchemy"} <= names
    assert any("hide_parameters" in line for line in logs.lines)
    assert logs.at_least(logging.ERROR), "the failing work after the ack was logged"
    for secret in SECRETS:
        assert secret not in logs.text, f"{secret} reached the logs"
    # And the flow really carried them to Slack.
    assert any(TAKEAWAY in m.text for m in sandbox.emulator.messages)
    assert any(COMMITMENT in str(m.blocks) + m.text for m in sandbox.emulator.messages)
    assert attacker.hits == []
    assert intros(sandbox)
    assert view["callback_id"] == ids.REFLECTION_MODAL
