"""Fuzzing the HTTP surface with signed requests: whatever the slash-command text, modal state,
button value or event payload, no 5xx, nothing logged at ERROR and nothing stored half."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot import ids
from bot.domain.programme import ProgramSettings
from bot.profile_options import GOALS, LEVEL_BANDS
from bot.sandbox.harness import Sandbox
from bot.views.reflection import USEFULNESS_LABELS
from db.models import Exclusion, Member, Programme, Reflection
from tests.cycle_helpers import MONDAY_9, go_to, intros
from tests.surface_helpers import LogCapture, every_logger_at
from tests.test_admin import ADMIN, open_settings, settings_values
from tests.test_rounds import open_reflection_modal

FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# JSON values of any shape, for the places Slack puts structured data.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
# Strings that look like ids, numbers and ordinary text, and strings that look like nothing.
values = st.one_of(
    st.text(max_size=40),
    st.integers(-(2**40), 2**40).map(str),
    st.sampled_from(["", "0", "1", "²", "\u0661", "1e3", "\x00", "\ud7ff", "null", "[]", "{}"]),
)


@pytest.fixture
def logs() -> Iterator[LogCapture]:
    with every_logger_at(logging.WARNING) as capture:
        yield capture


def assert_whole(sandbox: Sandbox) -> None:
    """Nothing stored half: every member is either in with a whole profile or out with none,
    and every reflection has a valid score (and text to share when it shares)."""
    with sandbox.deps.unit_of_work() as session:
        for member in session.scalars(select(Member)):
            if member.status == "left":
                assert (member.level, member.team, member.goals) == (None, None, [])
            else:
                assert member.level in LEVEL_BANDS
                assert member.team and len(member.team) <= 80 and "\x00" not in member.team
                assert member.goals and set(member.goals) <= set(GOALS)
        for exclusion in session.scalars(select(Exclusion)):
            assert exclusion.excluded_user_id[:1] in ("U", "W")
        for reflection in session.scalars(select(Reflection)):
            assert reflection.usefulness in USEFULNESS_LABELS
            assert reflection.takeaway or not reflection.share_takeaway


def assert_handled(sandbox: Sandbox, logs: LogCapture, status: int) -> None:
    sandbox.settle()
    assert status < 500
    assert logs.at_least(logging.ERROR) == []
    assert_whole(sandbox)


@pytest.fixture
def member(sandbox: Sandbox) -> Sandbox:
    sandbox.join("U001")
    return sandbox


@FUZZ
@given(
    verb=st.sampled_from(
        [
            "",
            "join",
            "pause",
            "skip",
            "resume",
            "status",
            "reflect",
            "history",
            "leave",
            "help",
            "admin",
            "pause until",
            "admin invite",
            "PAUSE",
        ]
    ),
    rest=st.text(max_size=60),
)
def test_any_slash_command_text_is_answered(
    member: Sandbox, logs: LogCapture, verb: str, rest: str
) -> None:
    response = member.people.command("U001", f"{verb} {rest}")
    assert_handled(member, logs, response.status)
    assert response.status == 200


def state_of(block: str, action: str, kind: str, value: Any) -> dict[str, Any]:
    field = {
        "static_select": "selected_option",
        "multi_static_select": "selected_options",
        "multi_users_select": "selected_users",
        "plain_text_input": "value",
    }[kind]
    return {block: {action: {"type": kind, field: value}}}


options = st.one_of(st.builds(lambda v: {"value": v}, values), json_values)


@FUZZ
@given(
    level=st.one_of(st.sampled_from([str(n) for n in LEVEL_BANDS]), values),
    team=st.one_of(values, st.text(min_size=70, max_size=120), json_values),
    goals=st.lists(st.one_of(st.sampled_from(sorted(GOALS)), values), max_size=7),
    never=st.one_of(
        st.lists(st.one_of(st.sampled_from(["U002", "W0ABC"]), values), max_size=4), json_values
    ),
    garbage=st.dictionaries(
        st.sampled_from([ids.LEVEL_BLOCK, ids.GOALS_BLOCK, "x"]), json_values, max_size=2
    ),
)
def test_any_join_modal_state_is_answered(
    member: Sandbox,
    logs: LogCapture,
    level: str,
    team: Any,
    goals: list[str],
    never: Any,
    garbage: dict[str, Any],
) -> None:
    member.people.command("U001", "profile")
    member.settle()
    view = member.emulator.calls_to("views.open")[-1].response["view"]
    state = (
        state_of(ids.LEVEL_BLOCK, ids.LEVEL_ACTION, "static_select", {"value": level})
        | state_of(ids.TEAM_BLOCK, ids.TEAM_ACTION, "plain_text_input", team)
        | state_of(
            ids.GOALS_BLOCK, ids.GOALS_ACTION, "multi_static_select", [{"value": g} for g in goals]
        )
        | state_of(ids.NEVER_PAIR_BLOCK, ids.NEVER_PAIR_ACTION, "multi_users_select", never)
        | garbage
    )
    response = member.people.submit("U001", view, state)
    assert_handled(member, logs, response.status)
    assert response.status == 200


@pytest.fixture
def paired(sandbox: Sandbox) -> Sandbox:
    for user in ("U001", "U002"):
        sandbox.join(user)
    go_to(sandbox, MONDAY_9)
    sandbox.tick()
    sandbox.settle()
    return sandbox


@FUZZ
@given(
    usefulness=st.one_of(st.sampled_from(["1", "5"]), values),
    takeaway=st.one_of(values, st.text(min_size=990, max_size=1010), json_values),
    commitment=st.one_of(values, json_values),
    share=st.lists(options, max_size=2),
    metadata=st.one_of(st.none(), values, json_values.map(str)),
)
def test_any_reflection_modal_state_is_answered(
    paired: Sandbox,
    logs: LogCapture,
    usefulness: str,
    takeaway: Any,
    commitment: Any,
    share: list[Any],
    metadata: str | None,
) -> None:
    view = getattr(paired, "_fuzz_view", None) or open_reflection_modal(paired, "U001")
    paired._fuzz_view = view  # type: ignore[attr-defined]
    if metadata is not None:
        view = view | {"private_metadata": metadata}
    state = (
        state_of(
            ids.USEFULNESS_BLOCK, ids.USEFULNESS_ACTION, "static_select", {"value": usefulness}
        )
        | state_of(ids.TAKEAWAY_BLOCK, ids.TAKEAWAY_ACTION, "plain_text_input", takeaway)
        | state_of(ids.COMMITMENT_BLOCK, ids.COMMITMENT_ACTION, "plain_text_input", commitment)
        | {ids.SHARE_BLOCK: {ids.SHARE_ACTION: {"type": "checkboxes", "selected_options": share}}}
    )
    response = paired.people.submit("U001", view, state)
    assert_handled(paired, logs, response.status)
    assert response.status == 200


BUTTONS = [
    ids.WE_MET,
    ids.CANT_MAKE_IT,
    ids.DIDNT_MEET,
    ids.OPEN_REFLECTION,
    ids.COMMITMENT_DONE,
    ids.COMMITMENT_PARTLY,
    ids.COMMITMENT_NOT_YET,
    ids.RESUME_FROM_DM,
    ids.HOME_PAUSE,
    ids.HOME_RESUME,
    ids.LEAVE_CANCEL,
    ids.ADMIN_SETTINGS,
    ids.ADMIN_RUN_NOW,
]


@FUZZ
@given(action_id=st.one_of(st.sampled_from(BUTTONS), st.text(max_size=20)), value=values)
def test_any_button_value_is_answered(
    paired: Sandbox, logs: LogCapture, action_id: str, value: str
) -> None:
    channel = intros(paired)[0].channel
    response = paired.people.click(
        "U001", action_id, value=value, channel_id=channel, message_ts="1.0"
    )
    assert_handled(paired, logs, response.status)
    assert response.status == 200


@FUZZ
@given(
    event=st.one_of(
        st.fixed_dictionaries(
            {"type": st.just("app_home_opened"), "user": st.one_of(st.just("U001"), values)},
            optional={
                "tab": st.one_of(st.sampled_from(["home", "messages"]), values),
                "view": json_values,
            },
        ),
        st.dictionaries(st.text(max_size=8), json_values, max_size=5),
        st.fixed_dictionaries(
            {"type": values}, optional={"user": json_values, "channel": json_values}
        ),
    )
)
def test_any_event_payload_is_answered(
    member: Sandbox, logs: LogCapture, event: dict[str, Any]
) -> None:
    response = member.people.event(event)
    assert_handled(member, logs, response.status)


@FUZZ
@given(
    cadence=st.one_of(st.sampled_from(["1", "2", "4"]), values),
    hour=st.one_of(st.sampled_from(["0", "9", "23"]), values),
    tz=st.one_of(st.sampled_from(["UTC", "Europe/London", "America/New_York"]), values),
    prefs=st.lists(
        st.one_of(st.sampled_from(["level", "goals", "tz", "cross_team"]), values), max_size=3
    ),
    repeat=st.one_of(st.none(), st.sampled_from(["1", "52"]), values),
    themes=st.lists(st.one_of(st.sampled_from(sorted(GOALS)), values), max_size=3),
    admins=st.lists(st.one_of(st.just("U002"), values), max_size=2),
)
def test_any_settings_modal_state_is_answered(
    member: Sandbox,
    logs: LogCapture,
    cadence: str,
    hour: str,
    tz: str,
    prefs: list[str],
    repeat: str | None,
    themes: list[str],
    admins: list[str],
) -> None:
    member.emulator.add_user(ADMIN, is_admin=True)
    view = getattr(member, "_fuzz_view", None) or open_settings(member)
    member._fuzz_view = view  # type: ignore[attr-defined]
    state = settings_values(
        cadence=cadence, hour=hour, tz=tz, prefs=prefs, repeat=repeat, themes=themes, admins=admins
    )
    response = member.people.submit(ADMIN, view, state)
    assert_handled(member, logs, response.status)
    assert response.status == 200
    with member.deps.unit_of_work() as session:
        stored = ProgramSettings.from_stored(session.scalars(select(Programme)).one().settings)
        assert stored.cadence_weeks in (1, 2, 4) and 0 <= stored.hour <= 23
        assert stored.timezone in ("Europe/London", "UTC", "America/New_York")
