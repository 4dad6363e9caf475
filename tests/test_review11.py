"""Review of slack_roles and the request-thread listeners, through the real surface: what a
forged or foreign `user_change` can do to what someone's App Home shows (nothing)."""

from __future__ import annotations

import copy
import json

from sqlalchemy import select

from bot.sandbox.harness import Sandbox
from bot.sandbox.slack_requests import call_wsgi
from db.models import ProgramAdmin, SlackRole
from tests.surface_helpers import sign
from tests.test_slack_roles import home_opened_by


def roles(sandbox: Sandbox) -> list[tuple[str, bool]]:
    with sandbox.deps.unit_of_work() as session:
        return [
            (r.slack_user_id, r.is_admin)
            for r in session.scalars(select(SlackRole).order_by(SlackRole.slack_user_id))
        ]


def promotion_of(sandbox: Sandbox, user: str, team_id: str) -> bytes:
    record = {**sandbox.emulator.users[user], "is_admin": True, "is_owner": True}
    return json.dumps(
        {
            "token": "deprecated-verification-token",
            "team_id": team_id,
            "api_app_id": "APEERCOACH",
            "event": {"type": "user_change", "user": record},
            "type": "event_callback",
            "event_id": "EvFORGED01",
            "event_time": 1,
        }
    ).encode()


def test_a_user_change_with_a_wrong_or_stale_signature_makes_nobody_an_admin(
    sandbox: Sandbox,
) -> None:
    sandbox.join("U001")
    before = roles(sandbox)
    assert before == [("U001", False)]
    body = promotion_of(sandbox, "U001", sandbox.people.team_id)
    wrong = {**sign(body), "X-Slack-Signature": "v0=" + "0" * 64}
    stale = sign(body, timestamp="1000000000")  # signed, but long ago (a replay)
    for headers in (wrong, stale, {}):
        response = call_wsgi(
            sandbox.wsgi,
            "POST",
            "/slack/events",
            body,
            {"Content-Type": "application/json", **headers},
        )
        assert response.status == 401
    sandbox.settle()

    assert roles(sandbox) == before
    home, methods = home_opened_by(sandbox, "U001")
    assert "Programme (admins)" not in home and "users.info" not in methods
    with sandbox.deps.unit_of_work() as session:
        assert session.scalars(select(ProgramAdmin.slack_user_id)).all() == []


def test_a_user_change_from_another_workspace_leaves_this_ones_people_as_they_were(
    sandbox: Sandbox,
) -> None:
    sandbox.join("U001")
    elsewhere = copy.copy(sandbox.people)
    elsewhere.team_id = "TELSEWHERE"
    record = {**sandbox.emulator.users["U001"], "is_owner": True, "tz": "Asia/Tokyo"}

    assert elsewhere.event({"type": "user_change", "user": record}).status == 200
    sandbox.settle()

    assert roles(sandbox) == [("U001", False)]
    home, methods = home_opened_by(sandbox, "U001")
    assert "Programme (admins)" not in home and "Asia/Tokyo" not in home
    assert "users.info" not in methods
