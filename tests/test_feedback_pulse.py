"""The anonymous programme feedback pulse: asked every N rounds, answered once, never named."""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot import ids
from bot.logging_setup import ALWAYS_AT_LEAST, QUIET_UNLESS_DEBUG, install
from bot.sandbox.harness import Sandbox
from bot.sandbox.slack_emulator import Message
from bot.sandbox.slack_requests import select as select_state
from bot.sandbox.slack_requests import text_input
from bot.services.privacy import apply_retention
from bot.views.pulse import QUESTION
from db.models import PulseAnswer, PulseResponder
from tests.concurrency import all_at_once
from tests.cycle_helpers import MONDAY_9, button_value, dms_to, go_to, intros, press
from tests.test_admin import ADMIN, open_settings, settings_values

PEOPLE = [f"U{n:03d}" for n in range(1, 9)]
ASKED = "Two quick questions about PeerCoach"


@pytest.fixture
def programme(sandbox: Sandbox) -> Sandbox:
    sandbox.emulator.add_user(ADMIN, name="programme-lead", is_admin=True)
    for user in PEOPLE:
        sandbox.emulator.add_user(user, name=f"leader-{user}")
        sandbox.join(user)
    return sandbox


def set_pulse_every(sandbox: Sandbox, rounds: str) -> None:
    """The admin sets the pulse cadence in the settings modal."""
    values = settings_values() | {
        ids.PULSE_EVERY_BLOCK: {ids.PULSE_EVERY_ACTION: {"type": "number_input", "value": rounds}}
    }
    response = sandbox.people.submit(ADMIN, open_settings(sandbox), values)
    assert response.status == 200 and response.body == b""
    sandbox.settle()


def run_round(sandbox: Sandbox, week: int) -> None:
    """The week's round starts at 09:00 and every group says it met (nobody is auto-paused);
    an hour later the pulse DMs (if any) go out."""
    go_to(sandbox, MONDAY_9 + timedelta(weeks=week))
    before = len(intros(sandbox))
    assert len(sandbox.tick().rounds_started) == 1
    for intro in intros(sandbox)[before:]:
        press(sandbox, sandbox.emulator.conversation_members(intro.channel)[0], ids.WE_MET, intro)
    go_to(sandbox, MONDAY_9 + timedelta(weeks=week, hours=1))
    sandbox.tick()


def pulse_asks(sandbox: Sandbox, user: str) -> list[Message]:
    return [m for m in dms_to(sandbox, user) if m.text.startswith(f":bar_chart: {ASKED}")]


def open_pulse(sandbox: Sandbox, user: str) -> dict:
    """The person presses "Give feedback" in their latest pulse DM; the modal opens."""
    ask = pulse_asks(sandbox, user)[-1]
    opened = len(sandbox.emulator.successful("views.open"))
    sandbox.people.click(
        user,
        ids.PULSE_OPEN,
        value=button_value(ask, ids.PULSE_OPEN),
        channel_id=ask.channel,
        message_ts=ask.ts,
    )
    sandbox.settle()
    views = sandbox.emulator.successful("views.open")
    assert len(views) == opened + 1, "the pulse modal did not open"
    return views[-1].response["view"]


def pulse_values(score: int, suggestion: str = "", share: bool = False) -> dict:
    return (
        select_state(ids.PULSE_SCORE_BLOCK, ids.PULSE_SCORE_ACTION, str(score))
        | text_input(ids.PULSE_SUGGESTION_BLOCK, ids.PULSE_SUGGESTION_ACTION, suggestion)
        | {
            ids.PULSE_SHARE_BLOCK: {
                ids.PULSE_SHARE_ACTION: {
                    "type": "checkboxes",
                    "selected_options": [{"value": "share"}] if share else [],
                }
            }
        }
    )


def answer(sandbox: Sandbox, user: str, score: int, suggestion: str = "", share: bool = False):
    view = open_pulse(sandbox, user)
    response = sandbox.people.submit(user, view, pulse_values(score, suggestion, share))
    sandbox.settle()
    return response


def admin_home(sandbox: Sandbox) -> str:
    sandbox.people.open_home(ADMIN)
    sandbox.settle()
    return str(sandbox.emulator.homes[ADMIN])


def pulse_section(sandbox: Sandbox) -> str:
    """The feedback pulse part of the admin's App Home, as text ('' when there is none)."""
    sandbox.people.open_home(ADMIN)
    sandbox.settle()
    texts = [b.get("text", {}).get("text", "") for b in sandbox.emulator.homes[ADMIN]["blocks"]]
    start = next((i for i, t in enumerate(texts) if t.startswith("*Feedback pulse*")), None)
    if start is None:
        return ""
    return "\n".join(t for t in texts[start : start + 2] if "pulse" in t or "Suggestions" in t)


def test_members_are_asked_every_fourth_round_by_default_and_never_when_off(
    programme: Sandbox,
) -> None:
    sandbox = programme
    asked_in_week = []
    for week in range(8):
        before = len(pulse_asks(sandbox, "U001"))
        run_round(sandbox, week)
        asked_in_week.append(len(pulse_asks(sandbox, "U001")) - before)
    assert asked_in_week == [0, 0, 0, 1, 0, 0, 0, 1]
    assert all(len(pulse_asks(sandbox, u)) == 2 for u in PEOPLE)

    set_pulse_every(sandbox, "0")
    for week in range(8, 12):
        run_round(sandbox, week)
    assert len(pulse_asks(sandbox, "U001")) == 2

    set_pulse_every(sandbox, "2")
    for week in range(12, 14):
        run_round(sandbox, week)
    assert len(pulse_asks(sandbox, "U001")) == 3  # the 14th round: 14 is a multiple of 2


def test_the_pulse_modal_asks_the_two_questions_and_promises_anonymity(
    programme: Sandbox,
) -> None:
    sandbox = programme
    set_pulse_every(sandbox, "1")
    run_round(sandbox, 0)
    view = open_pulse(sandbox, "U001")
    text = str(view["blocks"])
    assert QUESTION in text and "Share this with the organisers without my name" in text
    assert "without your name" in text


@pytest.fixture
def app_logs() -> Iterator[io.StringIO]:
    """Everything the app logs, at DEBUG, as its own logging setup writes it."""
    stream = io.StringIO()
    names = ["", *ALWAYS_AT_LEAST, *QUIET_UNLESS_DEBUG]
    levels = {name: logging.getLogger(name).level for name in names}
    handler = install("DEBUG", "text", stream)
    yield stream
    logging.getLogger().removeHandler(handler)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def test_pulse_results_reach_admins_only_from_five_answers_without_names_or_times(
    programme: Sandbox, app_logs: io.StringIO
) -> None:
    sandbox = programme
    set_pulse_every(sandbox, "1")
    run_round(sandbox, 0)
    secret = "Pair people across offices more often"
    answer(sandbox, "U001", 5, secret, share=True)
    for user in PEOPLE[1:4]:
        answer(sandbox, user, 4)
    run_round(sandbox, 1)  # the first pulse closes with 4 answers
    shown = pulse_section(sandbox)
    assert "fewer than 5 answers" in shown and "out of 5" not in shown
    assert secret not in admin_home(sandbox)

    suggestions = {
        "U002": "Zebra-stripe the agenda",
        "U004": "Add a prompt about hiring",
        "U006": "Longer rounds in summer",
    }
    scores = {"U001": 2, "U002": 5, "U003": 4, "U004": 3, "U005": 4, "U006": 5}
    kept_private = "Only for me: my manager is the problem"
    for user, score in scores.items():
        shared = user in suggestions
        answer(sandbox, user, score, suggestions.get(user, kept_private), share=shared)
    assert "out of 5" not in pulse_section(sandbox)  # still open: nothing shown yet
    run_round(sandbox, 2)

    shown = pulse_section(sandbox)
    assert "how useful the programme is, 3.8 out of 5 (6 answers)" in shown
    listed = [line[2:] for line in shown.splitlines() if line.startswith("• ")]
    assert listed == sorted(suggestions.values())  # by text, not in the order given
    assert kept_private not in admin_home(sandbox)
    for user in PEOPLE:
        assert user not in shown and f"leader-{user}" not in shown

    sandbox.people.command(ADMIN, "admin export")
    sandbox.settle()
    upload = next(u for u in sandbox.emulator.uploads.values() if u["filename"].endswith(".csv"))
    exported = upload["content"].decode()
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert [r["pulse_score"] for r in rows] == ["fewer than 5", "3.8333", "fewer than 5"]
    assert "view request answered" in app_logs.getvalue()  # the logs are being read
    for text in (secret, kept_private, *suggestions.values()):
        assert text not in exported and text not in app_logs.getvalue()
    with sandbox.deps.unit_of_work() as session:
        stored = session.scalars(select(PulseAnswer.suggestion)).all()
    assert kept_private not in stored  # not shared: never kept
    assert set(PulseAnswer.__table__.c.keys()) == {
        "id",
        "workspace_id",
        "pulse_id",
        "score",
        "suggestion",
        "shared",
    }


def test_a_double_submission_stores_one_answer(programme: Sandbox) -> None:
    sandbox = programme
    set_pulse_every(sandbox, "1")
    run_round(sandbox, 0)
    view = open_pulse(sandbox, "U001")

    first = sandbox.people.submit("U001", view, pulse_values(5))
    second = sandbox.people.submit("U001", view, pulse_values(1))
    answer(sandbox, "U002", 3)
    view2 = open_pulse(sandbox, "U003")
    racing = all_at_once([lambda: sandbox.people.submit("U003", view2, pulse_values(2))] * 2)
    sandbox.settle()

    assert "your answer is in" in first.body.decode()
    assert "already answered" in second.body.decode()
    assert all(r.status == 200 for r, _ in racing)
    with sandbox.deps.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(PulseResponder)) == 3
        assert sorted(session.scalars(select(PulseAnswer.score))) == [2, 3, 5]

    ask = pulse_asks(sandbox, "U001")[-1]
    again = sandbox.people.click(
        "U001",
        ids.PULSE_OPEN,
        value=button_value(ask, ids.PULSE_OPEN),
        channel_id=ask.channel,
        message_ts=ask.ts,
    )
    sandbox.settle()
    assert "already answered" in again.body.decode() + str(sandbox.emulator.responses[-1:])


def test_a_pulse_closes_with_its_round(programme: Sandbox) -> None:
    sandbox = programme
    set_pulse_every(sandbox, "1")
    run_round(sandbox, 0)
    view = open_pulse(sandbox, "U001")
    run_round(sandbox, 1)

    late = sandbox.people.submit("U001", view, pulse_values(4))
    sandbox.settle()

    assert "has closed" in late.body.decode()
    with sandbox.deps.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(PulseAnswer)) == 0


def test_deleting_my_data_forgets_that_i_answered_but_keeps_the_anonymous_answer(
    programme: Sandbox,
) -> None:
    sandbox = programme
    set_pulse_every(sandbox, "1")
    run_round(sandbox, 0)
    answer(sandbox, "U001", 4, "More prompts about feedback", share=True)

    sandbox.people.command("U001", "delete-my-data")
    sandbox.people.click("U001", ids.DELETE_DATA_CONFIRM, channel_id="CGENERAL", message_ts="1.2")
    sandbox.settle()

    told = sandbox.emulator.responses[-1]["text"]
    assert "the record that you answered 1 feedback pulse" in told
    with sandbox.deps.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(PulseResponder)) == 0
        kept = session.execute(select(PulseAnswer.score, PulseAnswer.suggestion)).all()
    assert kept == [(4, "More prompts about feedback")]


def test_a_shared_suggestion_goes_after_the_retention_period_and_the_score_stays(
    programme: Sandbox,
) -> None:
    sandbox = programme
    set_pulse_every(sandbox, "1")
    run_round(sandbox, 0)
    answer(sandbox, "U001", 4, "More prompts about feedback", share=True)

    with sandbox.deps.unit_of_work() as session:
        early = apply_retention(session, now=MONDAY_9 + timedelta(days=300))
    with sandbox.deps.unit_of_work() as session:
        late = apply_retention(session, now=MONDAY_9 + timedelta(days=370))
        kept = session.execute(select(PulseAnswer.score, PulseAnswer.suggestion)).all()

    assert (early.suggestions, late.suggestions) == (0, 1)
    assert kept == [(4, None)]
