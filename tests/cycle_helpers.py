"""Helpers for tests that run rounds: reading what Slack received, moving time."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from bot.domain.programme import ProgramSettings
from bot.sandbox.harness import Sandbox
from bot.sandbox.slack_emulator import Message
from db.models import Programme

MONDAY_9 = datetime.fromisoformat("2026-11-23T09:00:00+00:00")  # an hour after START


def intros(sandbox: Sandbox) -> list[Message]:
    """Every intro message posted, in order."""
    return [m for m in sandbox.emulator.messages if m.text.startswith("Meet your PeerCoach peers")]


def intro_groups(sandbox: Sandbox, since: int = 0) -> list[tuple[str, ...]]:
    """The member sets of the group DMs that got an intro."""
    return [sandbox.emulator.conversation_members(m.channel) for m in intros(sandbox)[since:]]


def button_value(message: Message, action_id: str) -> str:
    for block in message.blocks:
        for element in block.get("elements", []):
            if element.get("action_id") == action_id:
                return element["value"]
    raise AssertionError(f"no {action_id} button in {message.text!r}")


def dms_to(sandbox: Sandbox, user: str) -> list[Message]:
    """Messages in the app's 1:1 DM with a person."""
    return [
        m
        for m in sandbox.emulator.messages
        if sandbox.emulator.conversation_members(m.channel) == (user,)
    ]


def set_schedule(sandbox: Sandbox, programme: str | None = None, **settings: Any) -> None:
    """Change a programme's settings (`programme`: its name; None: the first) behind the
    admin modal's back, as a test's starting point."""
    with sandbox.deps.unit_of_work() as session:
        query = select(Programme).order_by(Programme.id)
        if programme is not None:
            query = query.where(Programme.name == programme)
        found = session.scalars(query).first()
        assert found is not None
        change_programme(found, **settings)


SETTING_NAMES = frozenset(ProgramSettings.__dataclass_fields__) - {"admins"}


def change_programme(programme: Programme, **changes: Any) -> None:
    """Set a programme's settings (ProgramSettings fields, stored in its settings document)
    or its other columns."""
    stored = dict(programme.settings or {})
    for name, value in changes.items():
        if name in SETTING_NAMES:
            stored[name] = value
        else:
            setattr(programme, name, value)
    programme.settings = stored


def first_programme(session: Any) -> Programme:
    """The first (oldest) programme in the database."""
    found = session.scalars(select(Programme).order_by(Programme.id)).first()
    assert found is not None
    return found


def go_to(sandbox: Sandbox, moment: datetime) -> None:
    sandbox.clock.set(moment)


def next_week(moment: datetime) -> datetime:
    return moment + timedelta(weeks=1)


def press(sandbox: Sandbox, user: str, action_id: str, message: Message) -> None:
    """A person presses one of a message's buttons (its value is whatever the app put there)."""
    sandbox.people.click(
        user,
        action_id,
        value=button_value(message, action_id),
        channel_id=message.channel,
        message_ts=message.ts,
    )
