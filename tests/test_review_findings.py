"""Faults a reviewer found by attacking the app, kept fixed."""

from __future__ import annotations

import threading

import sqlalchemy as sa
from sqlalchemy import select

from bot import ids
from bot.sandbox.harness import Sandbox
from bot.sandbox.slack_requests import join_values, text_input
from bot.services.privacy import delete_my_data
from db.models import Member

GOAL = "Stop rewriting my leads' slide decks at midnight"


def set_goal(sandbox: Sandbox, user: str, goal: str) -> None:
    sandbox.people.command(user, "goal")
    sandbox.settle()
    view = sandbox.emulator.successful("views.open")[-1].response["view"]
    sandbox.people.submit(user, view, text_input(ids.GOAL_BLOCK, ids.GOAL_ACTION, goal))
    sandbox.settle()


def test_a_goal_is_stored_encrypted_and_deleting_ones_data_deletes_it(sandbox: Sandbox) -> None:
    sandbox.join("U001")
    set_goal(sandbox, "U001", GOAL)
    with sandbox.engine.connect() as connection:
        raw = connection.execute(sa.text("SELECT goal FROM members")).scalar_one()
    assert raw and GOAL not in raw

    with sandbox.deps.unit_of_work() as session:
        delete_my_data(session, team_id=sandbox.team_id, user_id="U001", now=sandbox.now())
    with sandbox.deps.unit_of_work() as session:
        assert session.scalars(select(Member.goal)).one() is None


def test_the_join_modal_submitted_twice_at_once_joins_once_and_errs_never(
    sandbox: Sandbox, caplog
) -> None:
    sandbox.people.command("U001", "join")
    sandbox.settle()
    view = sandbox.emulator.calls_to("views.open")[-1].response["view"]
    values = join_values(3, "Sales", ["delegation"])
    start = threading.Barrier(2)
    answers: list[int] = []

    def submit() -> None:
        start.wait()
        answers.append(sandbox.people.submit("U001", view, values).status)

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sandbox.settle()

    assert answers == [200, 200]
    with sandbox.deps.unit_of_work() as session:
        assert len(session.scalars(select(Member)).all()) == 1
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
    assert not any("Sorry" in m.text for m in sandbox.emulator.messages)


def test_a_rate_limited_modal_says_slack_is_busy_and_holds_no_listener(sandbox: Sandbox) -> None:
    sandbox.emulator.rate_limit_next("views.open", retry_after=120, times=5)
    response = sandbox.people.command("U001", "join")
    sandbox.settle()  # returns at once: nobody sleeps out the 120 s

    assert response.status == 200
    [told] = [r["text"] for r in sandbox.emulator.responses]
    assert told.startswith("Slack is busy right now")
