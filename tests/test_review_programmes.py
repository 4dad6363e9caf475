"""Review findings on several programmes: what a person sees naming a programme they are not
in, and asking to join a programme that is closed to newcomers."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot import ids
from bot.sandbox.harness import Sandbox
from db.models import Programme
from tests.concurrency import all_at_once
from tests.test_admin import ADMIN
from tests.test_programmes import join_programme, new_programme


@pytest.fixture
def admin_sandbox(sandbox: Sandbox) -> Sandbox:
    sandbox.emulator.add_user(ADMIN, name="programme-lead", is_admin=True)
    for user in ("U101", "U102", "U103"):
        sandbox.emulator.add_user(user)
    return sandbox


def test_naming_a_programme_im_not_in_says_which_one_and_how_to_join_it(
    admin_sandbox: Sandbox,
) -> None:
    sandbox = admin_sandbox
    sandbox.join("U001")  # in PeerCoach only
    new_programme(sandbox, "Directors")
    for command in ("status", "pause", "leave", "goal", "history"):
        text = sandbox.people.command("U001", f"{command} --programme directors").json()["text"]
        assert "not in Directors" in text and "`/peercoach join Directors`" in text, (command, text)
        assert "PeerCoach" not in text, (command, text)
    # Without a name, someone in one programme is answered as before.
    assert "not in" not in sandbox.people.command("U001", "status").text


def test_asking_to_join_a_closed_programme_says_so_before_any_form(
    admin_sandbox: Sandbox,
) -> None:
    sandbox = admin_sandbox
    sandbox.join("U001")
    new_programme(sandbox, "Directors")
    sandbox.people.command(ADMIN, "admin close --programme Directors")
    opened = len(sandbox.emulator.calls_to("views.open"))

    typed = sandbox.people.command("U102", "join directors")
    sandbox.settle()
    assert "Directors isn't taking new members" in typed.body.decode()
    # A join button (an old invitation, or a crafted one) for the closed programme: the same.
    with sandbox.deps.unit_of_work() as session:
        directors = session.scalar(select(Programme.id).where(Programme.name == "Directors"))
    pressed = sandbox.people.click("U103", ids.JOIN_PROGRAMME, value=str(directors))
    sandbox.settle()
    said = pressed.body.decode() + str(sandbox.emulator.responses[-1:])
    assert "Directors isn't taking new members" in said
    assert len(sandbox.emulator.calls_to("views.open")) == opened  # no form to fill in vain

    # Its members still edit their profile there; the open programme still opens.
    sandbox.people.command("U001", "join PeerCoach")
    sandbox.settle()
    assert len(sandbox.emulator.calls_to("views.open")) == opened + 1


def test_leaving_one_of_two_programmes_names_the_one_left(admin_sandbox: Sandbox) -> None:
    sandbox = admin_sandbox
    sandbox.join("U001")
    new_programme(sandbox, "Directors")
    join_programme(sandbox, "U001", "Directors")

    asked = sandbox.people.command("U001", "leave --programme directors").json()
    assert asked["text"].startswith("*Leave Directors?*"), asked["text"]
    confirm = next(
        e
        for b in asked["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == ids.LEAVE_CONFIRM
    )
    sandbox.people.click("U001", ids.LEAVE_CONFIRM, value=confirm["value"])
    sandbox.settle()
    left = sandbox.emulator.responses[-1]["text"]
    assert left.startswith("You've left Directors.") and "`/peercoach join Directors`" in left
    assert "active" in sandbox.people.command("U001", "status").text.lower()  # still in PeerCoach


def test_two_admins_creating_the_same_programme_at_once_get_one_programme(
    admin_sandbox: Sandbox,
) -> None:
    sandbox = admin_sandbox
    sandbox.join("U001")
    answers = all_at_once(
        [
            lambda name=name: sandbox.people.command(ADMIN, f"admin programme new {name}")
            for name in ("Sales leads", "sales leads", "SALES LEADS", "Sales Leads")
        ]
    )
    texts = [response.json()["text"] for response, _ in answers]
    assert sum("is ready" in t for t in texts) == 1, texts
    assert sum("already a programme" in t for t in texts) == 3, texts
    with sandbox.deps.unit_of_work() as session:
        names = session.scalars(select(Programme.name).order_by(Programme.id)).all()
    assert len(names) == 2 and names[1].casefold() == "sales leads", names


def test_asked_which_programme_the_example_is_the_command_i_typed(admin_sandbox: Sandbox) -> None:
    sandbox = admin_sandbox
    sandbox.join("U001")
    new_programme(sandbox, "Directors")
    join_programme(sandbox, "U001", "Directors")

    for typed in ("leave", "pause 2 weeks", "goal"):
        text = sandbox.people.command("U001", typed).json()["text"]
        assert "more than one programme" in text, text
        assert f"e.g. `/peercoach {typed} --programme PeerCoach`" in text, text
