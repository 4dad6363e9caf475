"""Reflection text is deleted after the programme's retention period; the figures stay."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot import ids
from bot.sandbox.harness import Sandbox
from bot.services.privacy import RetentionReport, apply_retention
from db.models import OutboxMessage, Programme, Reflection, SettingsChange
from tests.cycle_helpers import MONDAY_9, go_to, set_schedule
from tests.test_admin import ADMIN, open_settings, settings_values
from tests.test_data_rights import every_stored_value, figures, reflect

TAKEAWAY, COMMITMENT = "LYNX-takeaway-6060", "MARTEN-commitment-7070"


def reflected_and_asked(sandbox: Sandbox) -> None:
    for user in ("U001", "U002"):
        sandbox.join(user)
    go_to(sandbox, MONDAY_9)
    sandbox.tick()
    reflect(sandbox, "U001", TAKEAWAY, COMMITMENT)
    go_to(sandbox, MONDAY_9 + timedelta(weeks=1))
    sandbox.tick()  # the commitment follow-up goes out (and stays in the outbox, encrypted)


def retention(sandbox: Sandbox, days_after_round: int) -> RetentionReport:
    with sandbox.deps.unit_of_work() as session:
        return apply_retention(session, now=MONDAY_9 + timedelta(days=days_after_round))


def test_text_goes_after_twelve_months_by_default_and_ratings_stay(sandbox: Sandbox) -> None:
    reflected_and_asked(sandbox)
    cycles_before, members_before = figures(sandbox)

    # 364 days after the round the text is within twelve calendar months: it stays.
    assert retention(sandbox, 364) == RetentionReport(0, 0)
    assert any(COMMITMENT in v for _, _, v in every_stored_value(sandbox.engine))

    assert retention(sandbox, 366) == RetentionReport(reflections=1, messages=1)
    stored = every_stored_value(sandbox.engine)
    assert not any(TAKEAWAY in v or COMMITMENT in v for _, _, v in stored)
    with sandbox.deps.unit_of_work() as session:
        kept = session.scalars(select(Reflection)).one()
        assert (kept.usefulness, kept.commitment_made, kept.takeaway) == (4, True, None)
        assert (
            session.scalars(
                select(OutboxMessage.kind).where(OutboxMessage.kind == "commitment")
            ).all()
            == []
        )
    assert figures(sandbox) == (cycles_before, members_before)
    assert retention(sandbox, 367) == RetentionReport(0, 0)  # the daily job repeats harmlessly
    assert TAKEAWAY not in str(sandbox.people.command("U001", "history").json())


def test_a_shorter_retention_setting_applies_per_workspace(sandbox: Sandbox) -> None:
    reflected_and_asked(sandbox)
    set_schedule(sandbox, retention_months=3)
    assert retention(sandbox, 85) == RetentionReport(0, 0)
    assert retention(sandbox, 95).reflections == 1


def retention_value(months: str) -> dict:
    return {ids.RETENTION_BLOCK: {ids.RETENTION_ACTION: {"type": "number_input", "value": months}}}


def test_admins_set_the_retention_period_in_the_settings_modal(sandbox: Sandbox) -> None:
    sandbox.emulator.add_user(ADMIN, name="programme-lead", is_admin=True)
    view = open_settings(sandbox)
    field = next(b for b in view["blocks"] if b.get("block_id") == ids.RETENTION_BLOCK)
    assert field["element"]["initial_value"] == "12"

    refused = sandbox.people.submit(ADMIN, view, settings_values() | retention_value("0"))
    assert refused.json()["errors"] == {
        ids.RETENTION_BLOCK: "Use a whole number of months from 1 to 60."
    }
    accepted = sandbox.people.submit(ADMIN, view, settings_values() | retention_value("3"))
    assert accepted.status == 200 and accepted.body == b""
    sandbox.settle()
    with sandbox.deps.unit_of_work() as session:
        assert session.scalars(select(Programme)).one().settings["retention_months"] == 3
        change = session.scalars(
            select(SettingsChange).where(SettingsChange.field == "retention_months")
        ).one()
        assert (change.old_value, change.new_value, change.changed_by) == ("12", "3", ADMIN)
    view = open_settings(sandbox)
    field = next(b for b in view["blocks"] if b.get("block_id") == ids.RETENTION_BLOCK)
    assert field["element"]["initial_value"] == "3"
