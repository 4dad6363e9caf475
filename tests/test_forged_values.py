"""Forged or stale values inside signed requests: the person is told the button or form is out
of date, never "Sorry, something went wrong", nothing is stored and nothing is logged at ERROR."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from bot import ids
from bot.errors import StaleAction
from bot.sandbox.harness import Sandbox
from bot.sandbox.slack_requests import join_values, multi_select, users_select
from bot.sandbox.slack_requests import select as select_state
from db.models import Reflection
from tests.cycle_helpers import MONDAY_9, go_to, intros
from tests.surface_helpers import LogCapture, every_logger_at, row_counts
from tests.test_admin import ADMIN
from tests.test_rounds import open_reflection_modal, reflection_values

OUT_OF_DATE = StaleAction().message
NOT_YOURS = "isn't yours"


@pytest.fixture
def logs() -> Iterator[LogCapture]:
    with every_logger_at(logging.WARNING) as capture:
        yield capture


@pytest.fixture
def paired(sandbox: Sandbox) -> Sandbox:
    """U001..U004 joined and were paired in the first round."""
    for user in ("U001", "U002", "U003", "U004"):
        sandbox.join(user)
    go_to(sandbox, MONDAY_9)
    sandbox.tick()
    sandbox.settle()
    return sandbox


def answers(sandbox: Sandbox) -> list[str]:
    """What the person was told after the ack: via response_url or by DM."""
    sandbox.settle()
    told = [r.get("text", "") for r in sandbox.emulator.responses]
    told += [c.args.get("text", "") for c in sandbox.emulator.calls_to("chat.postMessage")]
    return told


def assert_quietly_refused(logs: LogCapture, said: list[str], expected: str) -> None:
    assert any(expected in text for text in said), said
    assert not any("Sorry" in text for text in said)
    assert logs.at_least(logging.ERROR) == []


def click_in_dm(sandbox: Sandbox, user: str, action_id: str, value: str) -> None:
    """Press a button in a DM; Slack must get its 200 (else it shows its own error)."""
    response = sandbox.people.click(
        user, action_id, value=value, channel_id="DPAIR", message_ts="1.000"
    )
    assert response.status == 200


FORGED_VALUES = ["abc", "", "²", "-1", "0", "1.5", "9" * 30, " 7"]


@pytest.mark.parametrize(
    "action_id",
    [
        ids.WE_MET,
        ids.CANT_MAKE_IT,
        ids.DIDNT_MEET,
        ids.OPEN_REFLECTION,
        ids.COMMITMENT_DONE,
        f"{ids.KEEP_MEETING}_2",
        ids.KEEP_MEETING_END,
    ],
)
def test_a_button_value_that_is_no_id_answers_out_of_date(
    sandbox: Sandbox, logs: LogCapture, action_id: str
) -> None:
    sandbox.join("U001")
    rows = row_counts(sandbox.engine)
    for value in FORGED_VALUES:
        sandbox.emulator.responses.clear()
        click_in_dm(sandbox, "U001", action_id, value)
        assert_quietly_refused(logs, answers(sandbox), OUT_OF_DATE)
    assert row_counts(sandbox.engine) == rows


@pytest.mark.parametrize(
    "action_id", [ids.WE_MET, ids.CANT_MAKE_IT, ids.OPEN_REFLECTION, ids.KEEP_MEETING_END]
)
def test_a_group_that_does_not_exist_or_is_someone_elses_answers_not_yours(
    paired: Sandbox, logs: LogCapture, action_id: str
) -> None:
    first, second = intros(paired)[:2]
    mine = paired.emulator.conversation_members(first.channel)[0]
    group_ids = {
        b["value"] for blk in second.blocks for b in blk.get("elements", []) if "value" in b
    }
    rows = row_counts(paired.engine)
    paired.emulator.responses.clear()

    for value in (*group_ids, "2147483647"):
        click_in_dm(paired, mine, action_id, value)

    said = answers(paired)
    assert len([t for t in said if NOT_YOURS in t]) == len(group_ids) + 1, said
    assert_quietly_refused(logs, said, NOT_YOURS)
    assert row_counts(paired.engine) == rows


def test_a_commitment_that_is_not_theirs_answers_not_yours(
    paired: Sandbox, logs: LogCapture
) -> None:
    author = paired.emulator.conversation_members(intros(paired)[0].channel)[0]
    view = open_reflection_modal(paired, author)
    paired.people.submit(author, view, reflection_values("4", None, "Write the plan"))
    paired.settle()
    with paired.deps.unit_of_work() as session:
        reflection_id = session.scalars(select(Reflection.id)).one()
    someone_else = next(u for u in ("U001", "U002", "U003", "U004") if u != author)
    paired.emulator.responses.clear()

    click_in_dm(paired, someone_else, ids.COMMITMENT_DONE, str(reflection_id))

    assert_quietly_refused(logs, answers(paired), "isn't yours")
    with paired.deps.unit_of_work() as session:
        assert session.scalars(select(Reflection.commitment_outcome)).one() is None


def test_a_button_from_an_older_version_answers_out_of_date(
    sandbox: Sandbox, logs: LogCapture
) -> None:
    click_in_dm(sandbox, "U001", "button_we_no_longer_have", "3")
    assert_quietly_refused(logs, answers(sandbox), OUT_OF_DATE)


def inline_errors(response: Any) -> dict[str, str]:
    assert response.status == 200, response.body
    body = response.json()
    assert body.get("response_action") == "errors", body
    return body["errors"]


@pytest.mark.parametrize(
    "metadata",
    ["not json", "[1]", "{}", '{"group_id": "abc"}', '{"group_id": true}', '{"group_id": 99999}'],
)
def test_reflection_metadata_that_is_forged_answers_out_of_date_inline(
    paired: Sandbox, logs: LogCapture, metadata: str
) -> None:
    author = paired.emulator.conversation_members(intros(paired)[0].channel)[0]
    view = open_reflection_modal(paired, author) | {"private_metadata": metadata}
    rows = row_counts(paired.engine)

    response = paired.people.submit(author, view, reflection_values("4", "Secret", None))

    errors = inline_errors(response)
    assert list(errors) == [ids.USEFULNESS_BLOCK]
    assert (
        "out of date" in errors[ids.USEFULNESS_BLOCK] or NOT_YOURS in errors[ids.USEFULNESS_BLOCK]
    )
    assert row_counts(paired.engine) == rows
    assert logs.at_least(logging.ERROR) == []


def test_reflecting_on_someone_elses_group_is_refused_inline(
    paired: Sandbox, logs: LogCapture
) -> None:
    first, second = intros(paired)[:2]
    outsider = paired.emulator.conversation_members(second.channel)[0]
    view = open_reflection_modal(paired, paired.emulator.conversation_members(first.channel)[0])
    rows = row_counts(paired.engine)

    response = paired.people.submit(outsider, view, reflection_values("4", "Secret", None))

    assert NOT_YOURS in inline_errors(response)[ids.USEFULNESS_BLOCK]
    assert row_counts(paired.engine) == rows
    assert logs.at_least(logging.ERROR) == []


def join_modal(sandbox: Sandbox, user: str) -> dict[str, Any]:
    sandbox.people.command(user, "join")
    sandbox.settle()
    return sandbox.emulator.calls_to("views.open")[-1].response["view"]


@pytest.mark.parametrize(
    ("values", "block"),
    [
        (select_state(ids.LEVEL_BLOCK, ids.LEVEL_ACTION, "9"), ids.LEVEL_BLOCK),
        (select_state(ids.LEVEL_BLOCK, ids.LEVEL_ACTION, "²"), ids.LEVEL_BLOCK),
        (
            multi_select(ids.GOALS_BLOCK, ids.GOALS_ACTION, ["delegation", "astrology"]),
            ids.GOALS_BLOCK,
        ),
        (
            users_select(ids.NEVER_PAIR_BLOCK, ids.NEVER_PAIR_ACTION, ["x" * 40]),
            ids.NEVER_PAIR_BLOCK,
        ),
        (
            users_select(ids.NEVER_PAIR_BLOCK, ids.NEVER_PAIR_ACTION, ["C0CHANNEL"]),
            ids.NEVER_PAIR_BLOCK,
        ),
    ],
    ids=["level-9", "level-superscript", "unknown-goal", "never-pair-junk", "never-pair-channel"],
)
def test_a_join_modal_option_it_never_offered_answers_out_of_date_inline(
    sandbox: Sandbox, logs: LogCapture, values: dict[str, Any], block: str
) -> None:
    view = join_modal(sandbox, "U001")
    rows = row_counts(sandbox.engine)

    response = sandbox.people.submit("U001", view, join_values(3, "Sales", ["delegation"]) | values)

    assert inline_errors(response) == {block: OUT_OF_DATE}
    assert row_counts(sandbox.engine) == rows
    assert logs.at_least(logging.ERROR) == []


def test_a_settings_modal_option_it_never_offered_answers_out_of_date_inline(
    sandbox: Sandbox, logs: LogCapture
) -> None:
    sandbox.emulator.add_user(ADMIN, is_admin=True)
    sandbox.people.command(ADMIN, "admin")
    sandbox.settle()
    view = sandbox.emulator.calls_to("views.open")[-1].response["view"]
    values = {
        block["block_id"]: {block["element"]["action_id"]: {"type": "static_select"}}
        for block in view["blocks"]
        if block.get("type") == "input"
    } | select_state(ids.CADENCE_BLOCK, ids.CADENCE_ACTION, "3")
    rows = row_counts(sandbox.engine)

    response = sandbox.people.submit(ADMIN, view, values)

    assert inline_errors(response) == {ids.CADENCE_BLOCK: OUT_OF_DATE}
    assert row_counts(sandbox.engine) == rows
    assert logs.at_least(logging.ERROR) == []


def test_a_modal_from_an_older_version_answers_out_of_date_inline(
    sandbox: Sandbox, logs: LogCapture
) -> None:
    view = join_modal(sandbox, "U001") | {"callback_id": "modal_we_no_longer_have"}
    response = sandbox.people.submit("U001", view, join_values(3, "Sales", ["delegation"]))
    assert set(inline_errors(response).values()) == {OUT_OF_DATE}
    assert logs.at_least(logging.ERROR) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("admin invite notachannel", "Name a channel"),
        ("admin invite <#nope>", "Name a channel"),
        ("pause until 0001-01-01", "already passed"),
        ("pause until 9999-12-31", "up to a year"),
        ("pause 99999999999999", "Try `/peercoach pause`"),
    ],
)
def test_slash_command_arguments_that_name_nothing_get_a_plain_answer(
    sandbox: Sandbox, logs: LogCapture, text: str, expected: str
) -> None:
    sandbox.emulator.add_user(ADMIN, is_admin=True)
    sandbox.join(ADMIN)
    response = sandbox.people.command(ADMIN, text)
    sandbox.settle()
    assert response.status == 200
    assert expected in response.text
    assert logs.at_least(logging.ERROR) == []


def test_metadata_json_is_what_the_app_wrote(paired: Sandbox) -> None:
    """The genuine modal still works after all this: its metadata round-trips."""
    author = paired.emulator.conversation_members(intros(paired)[0].channel)[0]
    view = open_reflection_modal(paired, author)
    assert isinstance(json.loads(view["private_metadata"])["group_id"], int)
    response = paired.people.submit(author, view, reflection_values("4", "Fine", None))
    assert (response.status, response.body) == (200, b"")
