"""A signed request from one workspace carrying a real id of another workspace's group,
reflection, pulse or programme: Slack signs the request, not the ids inside it, and the same
Slack user id can press buttons in two workspaces (Enterprise Grid, Slack Connect). The
person is told exactly what an id that never existed gets ("out of date"), and the other
workspace sees nothing: no row changes, no message, nothing logged at ERROR."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select

from bot import ids
from bot.domain.programme import ProgrammeRef, ProgramSettings
from bot.sandbox.clock import ManualClock
from bot.sandbox.harness import Sandbox
from bot.sandbox.slack_emulator import SlackEmulator
from bot.sandbox.slack_requests import HttpResponse, SlackRequests, join_values, text_input
from bot.views import membership as membership_views
from bot.views import pulse as pulse_views
from bot.views import reflection as reflection_views
from bot.views.admin import settings_modal
from db.models import Base, PairGroup, Programme, Reflection, Workspace
from tests.cycle_helpers import MONDAY_9, button_value, change_programme, dms_to, go_to, intros
from tests.surface_helpers import every_logger_at
from tests.test_admin import settings_values
from tests.test_agreement_and_goals import AGREE
from tests.test_feedback_pulse import pulse_asks, pulse_values
from tests.test_rounds import reflection_values

ACME, GLOBEX = "TACME0001", "TGLOBEX01"
ACME_PEOPLE = ["U001", "U002", "U003", "U004"]
GLOBEX_PERSON = "UGLOBEX1"
NO_SUCH_ID = 2147483647


@dataclass
class Acme:
    """The first workspace after its first round, with real ids a forger could copy."""

    sandbox: Sandbox
    globex: SlackRequests  # the second workspace's requests
    u001: str  # in group A: picked its time, reflected (with a commitment), got a pulse
    b: str  # in group B: nothing done yet
    group_a: int
    group_b: int
    pick_version: int
    reflection: int
    pulse: int
    programme: int


def _press(people: SlackRequests, user: str, action_id: str, value: str) -> HttpResponse:
    return people.click(user, action_id, value=value, channel_id="DFORGED", message_ts="1.000")


def _open_modal(sandbox: Sandbox, people: SlackRequests, user: str, action_id: str, value: str):
    _press(people, user, action_id, value)
    sandbox.settle()
    return sandbox.emulator.successful("views.open")[-1].response["view"]


@pytest.fixture
def acme(db: Engine, slack: SlackEmulator, clock: ManualClock) -> Iterator[Acme]:
    for user in ACME_PEOPLE:
        slack.add_user(user, team_id=ACME, is_admin=user == "U001")
    slack.add_user(GLOBEX_PERSON, team_id=GLOBEX)
    sandbox = Sandbox(emulator=slack, engine=db, clock=clock, oauth=True)
    acme_people = sandbox.install(ACME, installer="U001")
    globex = sandbox.install(GLOBEX, installer=GLOBEX_PERSON)
    sandbox.join(GLOBEX_PERSON, via=globex)
    with sandbox.deps.unit_of_work() as session:
        programme = session.scalars(
            select(Programme).join(Workspace).where(Workspace.team_id == ACME)
        ).one()
        change_programme(programme, pulse_every_cycles=1)
        programme_id = programme.id
    for user in ACME_PEOPLE:
        sandbox.join(user, via=acme_people)
    go_to(sandbox, MONDAY_9)
    sandbox.tick()
    sandbox.settle()
    groups = {
        int(button_value(m, ids.WE_MET)): sandbox.emulator.conversation_members(m.channel)
        for m in intros(sandbox)
    }
    group_a = next(g for g, people in groups.items() if "U001" in people)
    group_b = next(g for g in groups if g != group_a)
    partner = next(u for u in groups[group_a] if u != "U001")
    # Group A: U001 picks the first suggested time, reflects with a commitment (which counts
    # as meeting: both are asked about keeping on); the partner asks to keep meeting.
    _press(acme_people, "U001", ids.PICK_SLOT, f"{group_a}:1")
    view = _open_modal(sandbox, acme_people, "U001", ids.OPEN_REFLECTION, str(group_a))
    acme_people.submit("U001", view, reflection_values("4", None, "Write the plan"))
    sandbox.settle()
    _press(acme_people, partner, f"{ids.KEEP_MEETING}_2", f"{group_a}:2")
    go_to(sandbox, MONDAY_9 + timedelta(hours=1))  # the pulse goes out
    sandbox.tick()
    sandbox.settle()
    with sandbox.deps.unit_of_work() as session:
        pick_version = session.get(PairGroup, group_a).pick_version  # type: ignore[union-attr]
        reflection = session.scalars(select(Reflection.id)).one()
    pulse = int(button_value(pulse_asks(sandbox, "U001")[-1], ids.PULSE_OPEN))
    assert pick_version == 1 and any(
        m.text.startswith("Would you like to keep") for m in dms_to(sandbox, "U001")
    )
    yield Acme(
        sandbox=sandbox,
        globex=globex,
        u001="U001",
        b=groups[group_b][0],
        group_a=group_a,
        group_b=group_b,
        pick_version=pick_version,
        reflection=reflection,
        pulse=pulse,
        programme=programme_id,
    )
    sandbox.settle()
    sandbox.close()


# Each surface: (who presses, and how) given the first workspace and the id to send (a real
# one of the first workspace, or one that never existed).
Send = Callable[[Acme, int], HttpResponse]


def button(action_id: str, value: Callable[[Acme, int], str], *, in_b: bool = False) -> Send:
    def send(world: Acme, target: int) -> HttpResponse:
        user = world.b if in_b else world.u001
        return _press(world.globex, user, action_id, value(world, target))

    return send


def modal(view: Callable[[Acme, int], dict[str, Any]], values: dict[str, Any]) -> Send:
    def send(world: Acme, target: int) -> HttpResponse:
        return world.globex.submit(world.u001, {"id": "VFORGED", **view(world, target)}, values)

    return send


def by_id(_: Acme, target: int) -> str:
    return str(target)


SURFACES: dict[str, tuple[Send, Callable[[Acme], int]]] = {
    # a group id (button value)
    "we met": (button(ids.WE_MET, by_id, in_b=True), lambda w: w.group_b),
    "can't make it": (button(ids.CANT_MAKE_IT, by_id, in_b=True), lambda w: w.group_b),
    "didn't meet": (button(ids.DIDNT_MEET, by_id, in_b=True), lambda w: w.group_b),
    "reflect": (button(ids.OPEN_REFLECTION, by_id, in_b=True), lambda w: w.group_b),
    "pick a time": (
        button(ids.PICK_SLOT, lambda w, g: f"{g}:1", in_b=True),
        lambda w: w.group_b,
    ),
    "doesn't work": (
        button(ids.TIME_DOESNT_WORK, lambda w, g: f"{g}:{w.pick_version}"),
        lambda w: w.group_a,
    ),
    "add to calendar": (
        button(ids.ADD_TO_CALENDAR, lambda w, g: f"{g}:{w.pick_version}"),
        lambda w: w.group_a,
    ),
    "keep meeting": (
        button(f"{ids.KEEP_MEETING}_2", lambda w, g: f"{g}:2"),
        lambda w: w.group_a,
    ),
    "stop keeping": (button(ids.KEEP_MEETING_END, by_id), lambda w: w.group_a),
    # a group id (modal metadata)
    "reflection submitted": (
        modal(
            lambda w, g: reflection_views.reflection_modal(g, [], None),
            reflection_values("5", "Forged", "Forged"),
        ),
        lambda w: w.group_b,
    ),
    # a reflection id
    "commitment done": (button(ids.COMMITMENT_DONE, by_id), lambda w: w.reflection),
    # a pulse id
    "pulse opened": (button(ids.PULSE_OPEN, by_id), lambda w: w.pulse),
    "pulse answered": (
        modal(lambda w, p: pulse_views.pulse_modal(p), pulse_values(5)),
        lambda w: w.pulse,
    ),
    # a programme id (button value)
    "edit profile": (button(ids.HOME_EDIT, by_id), lambda w: w.programme),
    "join programme": (button(ids.JOIN_PROGRAMME, by_id), lambda w: w.programme),
    "goal": (button(ids.HOME_GOAL, by_id), lambda w: w.programme),
    "pause": (button(ids.HOME_PAUSE, by_id), lambda w: w.programme),
    "resume": (button(ids.HOME_RESUME, by_id), lambda w: w.programme),
    "leave": (button(ids.HOME_LEAVE, by_id), lambda w: w.programme),
    "leave confirmed": (button(ids.LEAVE_CONFIRM, by_id), lambda w: w.programme),
    "review agreement": (
        button(ids.AGREEMENT_REVIEW, lambda w, p: f"1|{p}"),
        lambda w: w.programme,
    ),
    "working hours": (button(ids.HOME_WORKING_HOURS, by_id), lambda w: w.programme),
    "admin settings": (button(ids.ADMIN_SETTINGS, by_id), lambda w: w.programme),
    "admin preview": (button(ids.ADMIN_PREVIEW, by_id), lambda w: w.programme),
    "admin run now": (button(ids.ADMIN_RUN_NOW, by_id), lambda w: w.programme),
    "admin run anyway": (
        button(ids.ADMIN_RUN_ANYWAY, lambda w, p: f"{MONDAY_9.isoformat()}|{p}"),
        lambda w: w.programme,
    ),
    "admin export": (button(ids.ADMIN_EXPORT, by_id), lambda w: w.programme),
    # a programme id (modal metadata)
    "join submitted": (
        modal(
            lambda w, p: membership_views.join_modal(
                None, programme=ProgrammeRef(p, "X", "", True)
            ),
            join_values(3, "Sales", ["delegation"]),
        ),
        lambda w: w.programme,
    ),
    "goal submitted": (
        modal(
            lambda w, p: membership_views.goal_modal(None, programme_id=p),
            text_input(ids.GOAL_BLOCK, ids.GOAL_ACTION, "Forged"),
        ),
        lambda w: w.programme,
    ),
    "agreement accepted": (
        modal(lambda w, p: membership_views.agreement_modal("Be kind", 1, p), AGREE),
        lambda w: w.programme,
    ),
    "settings submitted": (
        modal(
            lambda w, p: settings_modal(ProgramSettings(), ProgrammeRef(p, "X", "", True)),
            settings_values(),
        ),
        lambda w: w.programme,
    ),
}


def snapshot(engine: Engine) -> dict[str, list[str]]:
    """Every row of every table, as text (what changed, if anything, is visible in a diff)."""
    with engine.connect() as connection:
        return {
            table.name: sorted(repr(tuple(row)) for row in connection.execute(select(table)))
            for table in Base.metadata.sorted_tables
        }


def told(world: Acme, response: HttpResponse, answered: int, calls: int) -> list[str]:
    """What the person pressing in the second workspace saw: the ack's text or inline
    errors, response_url answers, DMs, and any modal opened for them."""
    world.sandbox.settle()
    emulator = world.sandbox.emulator
    assert response.status == 200, response.body
    body = response.json()
    said = [str(v) for v in body.get("errors", {}).values()]
    said += [body["text"]] if body.get("text") else []
    said += [r.get("text", "") for r in emulator.responses[answered:]]
    for call in emulator.calls_by(GLOBEX)[calls:]:
        if call.method == "chat.postMessage":
            said.append(call.args.get("text", ""))
        elif call.method.startswith("views."):
            said.append(f"<{call.method}>")
    return said


@pytest.mark.parametrize("surface", list(SURFACES))
def test_an_id_of_another_workspace_is_answered_as_one_that_never_existed(
    acme: Acme, surface: str
) -> None:
    send, real_id = SURFACES[surface]
    sandbox = acme.sandbox
    before = snapshot(sandbox.engine)
    acme_calls = len(sandbox.emulator.calls_by(ACME))
    with every_logger_at(logging.WARNING) as logs:
        answered, calls = len(sandbox.emulator.responses), len(sandbox.emulator.calls_by(GLOBEX))
        foreign = told(acme, send(acme, real_id(acme)), answered, calls)
        answered, calls = len(sandbox.emulator.responses), len(sandbox.emulator.calls_by(GLOBEX))
        unknown = told(acme, send(acme, NO_SUCH_ID), answered, calls)
        sandbox.tick()  # anything queued for the first workspace would go out now
        sandbox.settle()

    assert foreign == unknown, (foreign, unknown)
    assert foreign and all("out of date" in t or "isn't yours" in t for t in foreign), foreign
    assert snapshot(sandbox.engine) == before
    assert [c.method for c in sandbox.emulator.calls_by(ACME)[acme_calls:]] == []
    assert logs.at_least(logging.ERROR) == []


def test_the_same_buttons_still_work_in_their_own_workspace(acme: Acme) -> None:
    """The scope is the workspace, not a blanket refusal: the first workspace's own request
    with the same ids does what it says."""
    sandbox = acme.sandbox
    acme_people = SlackRequests(
        sandbox.wsgi,
        signing_secret=sandbox.settings.secret("slack_signing_secret"),
        emulator=sandbox.emulator,
        team_id=ACME,
    )
    answered = len(sandbox.emulator.responses)
    _press(acme_people, acme.b, ids.WE_MET, str(acme.group_b))
    sandbox.settle()
    assert any("Noted: you met" in r.get("text", "") for r in sandbox.emulator.responses[answered:])
    with sandbox.deps.unit_of_work() as session:
        assert session.get(PairGroup, acme.group_b).met_at is not None  # type: ignore[union-attr]
