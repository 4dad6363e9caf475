"""Issue 14, programmes: a workspace runs several programmes side by side, each on its own
schedule with its own members, owners, figures and digests; nobody is paired across them."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot import ids
from bot.sandbox.harness import Sandbox
from bot.sandbox.slack_requests import join_values, prefilled_values
from bot.services.metrics import cycle_figures
from db.models import GroupSeat, Member, PairGroup, Programme, Round
from tests.concurrency import all_at_once
from tests.cycle_helpers import MONDAY_9, dms_to, go_to, intros, press
from tests.test_admin import ADMIN, settings_values

LONDON = ZoneInfo("Europe/London")
MANAGERS = [f"U00{n}" for n in range(1, 7)]  # the first programme ("PeerCoach")
DIRECTORS = ["U101", "U102", "U103", "U104"]
BOTH = ["U001", "U002"]  # in both programmes


@pytest.fixture
def admin_sandbox(sandbox: Sandbox) -> Sandbox:
    sandbox.emulator.add_user(ADMIN, name="programme-lead", is_admin=True)
    for user in [*DIRECTORS, "U009", "U010"]:
        sandbox.emulator.add_user(user)
    return sandbox


def new_programme(sandbox: Sandbox, name: str) -> str:
    reply = sandbox.people.command(ADMIN, f"admin programme new {name}").json()["text"]
    sandbox.settle()
    return reply


def join_programme(sandbox: Sandbox, user: str, name: str, *, team: str = "Sales") -> dict:
    """`/peercoach join <name>`, then the modal submitted; returns the modal as opened."""
    sandbox.people.command(user, f"join {name}")
    sandbox.settle()
    view = sandbox.emulator.calls_to("views.open")[-1].response["view"]
    response = sandbox.people.submit(user, view, join_values(3, team, ["delegation"], None))
    assert response.status == 200 and not response.body, response.body
    sandbox.settle()
    return view


def open_settings_of(sandbox: Sandbox, name: str, user: str = ADMIN) -> dict:
    sandbox.people.command(user, f"admin settings --programme {name}")
    sandbox.settle()
    return sandbox.emulator.successful("views.open")[-1].response["view"]


def save_settings(sandbox: Sandbox, view: dict, **values: object) -> None:
    response = sandbox.people.submit(ADMIN, view, settings_values(**values))
    assert response.status == 200 and response.body == b"", response.body
    sandbox.settle()


def two_programmes(sandbox: Sandbox) -> None:
    """Managers weekly on Mondays 09:00 UTC (the first programme); Directors every two weeks
    on Wednesdays 15:00 London, with two managers in both."""
    for user in MANAGERS:
        sandbox.join(user)  # one programme: `/peercoach join` opens its modal as before
    assert "is ready" in new_programme(sandbox, "Directors")
    save_settings(
        sandbox,
        open_settings_of(sandbox, "Directors"),
        cadence="2",
        day="2",
        hour="15",
        tz="Europe/London",
    )
    for user in DIRECTORS + BOTH:
        join_programme(sandbox, user, "Directors")


def programme_rounds(sandbox: Sandbox) -> dict[str, list]:
    with sandbox.deps.unit_of_work() as session:
        rows = session.execute(
            select(Programme.name, Round.started_at)
            .join(Round, Round.programme_id == Programme.id)
            .order_by(Round.id)
        ).all()
    found: dict[str, list] = {}
    for name, started in rows:
        found.setdefault(name, []).append(started)
    return found


def test_two_programmes_with_their_own_schedules_run_side_by_side_for_a_season(
    admin_sandbox: Sandbox,
) -> None:
    sandbox = admin_sandbox
    two_programmes(sandbox)
    day = MONDAY_9.replace(hour=0)
    met: set[str] = set()
    for _ in range(8 * 7):  # eight weeks, ticking at both programmes' hours every day
        for hour in (9, 15):
            go_to(sandbox, day.replace(hour=hour))
            sandbox.tick()
            sandbox.settle()
        for message in intros(sandbox):  # everyone meets (nobody drifts into a pause)
            if message.ts not in met:
                met.add(message.ts)
                first = sandbox.emulator.conversation_members(message.channel)[0]
                press(sandbox, first, ids.WE_MET, message)
        sandbox.settle()
        day += timedelta(days=1)

    started = programme_rounds(sandbox)
    managers, directors = started["PeerCoach"], started["Directors"]
    assert len(managers) == 8 and all((s.weekday(), s.hour) == (0, 9) for s in managers), managers
    assert len(directors) == 4 and all(
        (s.astimezone(LONDON).weekday(), s.astimezone(LONDON).hour) == (2, 15) for s in directors
    ), directors
    assert {b - a for a, b in pairwise(directors)} == {timedelta(weeks=2)}

    # Nobody is paired across programmes: every group's people are members of its round's
    # programme, and the intros went to groups drawn from one programme's people only.
    with sandbox.deps.unit_of_work() as session:
        seats = session.execute(
            select(Round.programme_id, Member.programme_id, GroupSeat.slack_user_id)
            .join(PairGroup, PairGroup.round_id == Round.id)
            .join(GroupSeat, GroupSeat.group_id == PairGroup.id)
            .join(Member, Member.id == GroupSeat.member_id)
        ).all()
    assert seats and all(
        round_programme == seat_programme for round_programme, seat_programme, _ in seats
    )
    for message in intros(sandbox):
        people = set(sandbox.emulator.conversation_members(message.channel))
        assert people <= set(MANAGERS) or people <= set(DIRECTORS + BOTH), people
    # The two people in both programmes were paired in each.
    per_person = Counter(u for _, _, u in seats)
    assert per_person["U001"] >= 8 + 3 and per_person["U101"] <= 4


def test_figures_and_digests_are_kept_apart(admin_sandbox: Sandbox) -> None:
    sandbox = admin_sandbox
    two_programmes(sandbox)
    for week in range(2):  # Mondays 09:00 (managers), Wednesdays 15:00 London (directors)
        go_to(sandbox, MONDAY_9 + timedelta(weeks=week))
        sandbox.tick()
        go_to(sandbox, MONDAY_9.replace(hour=15) + timedelta(weeks=week, days=2))
        sandbox.tick()
    sandbox.settle()  # the managers' second round closed their first: its digest went out
    with sandbox.deps.unit_of_work() as session:
        ids_by_name = {n: i for n, i in session.execute(select(Programme.name, Programme.id))}
        managers = cycle_figures(session, ids_by_name["PeerCoach"])
        directors = cycle_figures(session, ids_by_name["Directors"])
    assert [c.paired.value for c in managers] == [6, 6]
    assert [c.paired.value for c in directors] == [6]

    def digests() -> list[str]:
        return [u["initial_comment"] for u in sandbox.emulator.uploads.values() if u["content"]]

    assert len(digests()) == 1 and "Directors" not in digests()[0] and "paired 6" in digests()[0]

    figures = sandbox.people.command(ADMIN, "admin figures --programme Directors").json()
    assert "Directors" in figures["text"] and "PeerCoach" not in figures["text"]
    sandbox.people.command(ADMIN, "admin digest --programme Directors")
    sandbox.settle()
    assert (
        "no finished round"
        in sandbox.people.command(ADMIN, "admin digest --programme Directors").json()["text"]
    )


def test_join_shows_the_open_programmes_and_join_name_goes_straight_there(
    admin_sandbox: Sandbox,
) -> None:
    sandbox = admin_sandbox
    sandbox.join("U001")
    new_programme(sandbox, "Directors")
    picker = sandbox.people.command("U009", "join").json()
    buttons = [
        b["accessory"] for b in picker["blocks"] if b.get("accessory", {}).get("type") == "button"
    ]
    assert [b["action_id"] for b in buttons] == [ids.JOIN_PROGRAMME] * 2
    assert "PeerCoach" in str(picker["blocks"]) and "Directors" in str(picker["blocks"])

    # Picking Directors opens its join modal, which names it.
    sandbox.people.click("U009", ids.JOIN_PROGRAMME, value=buttons[1]["value"], channel_id="D1")
    sandbox.settle()
    view = sandbox.emulator.calls_to("views.open")[-1].response["view"]
    assert "Programme: Directors" in str(view["blocks"])
    response = sandbox.people.submit("U009", view, join_values(4, "Ops", ["delegation"], None))
    assert response.status == 200 and not response.body
    sandbox.settle()

    # `/peercoach join PeerCoach` goes straight to that programme, prefilled from the
    # person's other membership.
    sandbox.people.command("U009", "join peercoach")
    sandbox.settle()
    second = sandbox.emulator.calls_to("views.open")[-1].response["view"]
    assert "Programme: PeerCoach" in str(second["blocks"])
    assert prefilled_values(second)[ids.TEAM_BLOCK][ids.TEAM_ACTION]["value"] == "Ops"
    joined = sandbox.people.submit("U009", second, join_values(4, "Ops", ["delegation"], None))
    assert joined.status == 200 and not joined.body
    sandbox.settle()
    with sandbox.deps.unit_of_work() as session:
        rows = session.execute(
            select(Programme.name, Member.team)
            .join(Member, Member.programme_id == Programme.id)
            .where(Member.slack_user_id == "U009")
            .order_by(Programme.id)
        ).all()
    assert [tuple(r) for r in rows] == [("PeerCoach", "Ops"), ("Directors", "Ops")]

    unknown = sandbox.people.command("U010", "join Sales leaders").json()["text"]
    assert "no programme called" in unknown and "Directors" in unknown

    # Someone in no programme sees both on their App Home, each with its own Join button.
    sandbox.people.open_home("U010")
    sandbox.settle()
    home = sandbox.emulator.homes["U010"]["blocks"]
    joins = [b["accessory"]["value"] for b in home if "accessory" in b]
    assert joins == [buttons[0]["value"], buttons[1]["value"]]


def test_commands_ask_which_programme_when_someone_is_in_several(
    admin_sandbox: Sandbox,
) -> None:
    sandbox = admin_sandbox
    sandbox.join("U001")
    new_programme(sandbox, "Directors")
    join_programme(sandbox, "U001", "Directors")

    asked = sandbox.people.command("U001", "pause").json()["text"]
    assert "more than one programme" in asked and "`--programme <name>`" in asked
    assert "more than one programme" in sandbox.people.command("U001", "status").json()["text"]

    paused = sandbox.people.command("U001", "pause 2 weeks --programme Directors").json()
    assert "pause" in paused["text"].lower()
    assert "active" in sandbox.people.command("U001", "status --programme PeerCoach").text
    assert "paused" in sandbox.people.command("U001", "status --programme directors").text.lower()

    # The App Home shows both programmes, each with its own buttons.
    sandbox.people.open_home("U001")
    sandbox.settle()
    home = str(sandbox.emulator.homes["U001"]["blocks"])
    assert "*PeerCoach*" in home and "*Directors*" in home

    # Someone in one programme of several is never asked.
    join_programme(sandbox, "U002", "Directors")
    assert "more than one" not in sandbox.people.command("U002", "skip").json()["text"]
    assert "more than one" not in sandbox.people.command("U002", "status").json()["text"]


def test_a_programme_owner_runs_only_their_programme_and_slack_admins_see_the_summary(
    admin_sandbox: Sandbox,
) -> None:
    sandbox = admin_sandbox
    owner = "U200"
    sandbox.emulator.add_user(owner, name="directors-lead")
    for user in MANAGERS:
        sandbox.join(user)
    new_programme(sandbox, "Directors")
    save_settings(sandbox, open_settings_of(sandbox, "Directors"), admins=[owner])

    view = open_settings_of(sandbox, "Directors", user=owner)
    assert view["callback_id"] == ids.SETTINGS_MODAL and "Directors" in str(view["blocks"])
    refused = sandbox.people.command(owner, "admin settings --programme PeerCoach").json()
    assert refused["text"] == "Sorry, that's for PeerCoach programme admins only."
    # Their one programme needs no name.
    ran = sandbox.people.command(owner, "admin run").json()["text"]
    assert "Directors" in ran
    assert "admins only" in sandbox.people.command(owner, "admin programmes").json()["text"]
    assert "admins only" in sandbox.people.command(owner, "admin programme new X").json()["text"]

    summary = sandbox.people.command(ADMIN, "admin programmes").json()["text"]
    assert "*PeerCoach*: active 6" in summary and "*Directors*: active fewer than 5" in summary
    # A Slack admin with several programmes is asked which one.
    asked = sandbox.people.command(ADMIN, "admin preview").json()["text"]
    assert "several programmes" in asked and "Directors" in asked

    sandbox.people.open_home(owner)
    sandbox.settle()
    home = str(sandbox.emulator.homes[owner]["blocks"])
    assert "Directors (admins)" in home and "PeerCoach (admins)" not in home


def test_invite_uses_the_programmes_linked_channel_and_a_closed_programme_takes_no_one(
    admin_sandbox: Sandbox,
) -> None:
    sandbox = admin_sandbox
    sandbox.join("U001")
    new_programme(sandbox, "Directors")
    sandbox.emulator.channel_members["C0DIRECTORS"] = ["U001", "U101", "U102", ADMIN]
    linked = sandbox.people.command(
        ADMIN, "admin link <#C0DIRECTORS|directors> --programme Directors"
    ).json()["text"]
    assert "<#C0DIRECTORS>" in linked
    sandbox.people.command(ADMIN, "admin invite --programme Directors")
    sandbox.settle()
    # U001 is in PeerCoach, not in Directors: invited too; the invitation names the programme.
    for user in ("U001", "U101", "U102"):
        [invite] = [m for m in dms_to(sandbox, user) if "invites you" in m.text]
        assert "Directors" in invite.text
        assert ids.JOIN_PROGRAMME in str(invite.blocks)

    closed = sandbox.people.command(ADMIN, "admin close --programme Directors").json()["text"]
    assert "closed to new members" in closed
    # With only one programme open, `/peercoach join` opens it directly (no picker).
    assert sandbox.people.command("U102", "join").status == 200
    sandbox.settle()
    assert "Programme: PeerCoach" in str(
        sandbox.emulator.calls_to("views.open")[-1].response["view"]["blocks"]
    )
    refused = sandbox.people.command("U102", "join Directors").json()["text"]
    assert refused == "Directors isn't taking new members at the moment."
    sandbox.settle()
    with sandbox.deps.unit_of_work() as session:
        joined = session.scalars(
            select(Programme.name)
            .join(Member, Member.programme_id == Programme.id)
            .where(Member.slack_user_id == "U102")
        ).all()
    assert "Directors" not in joined


def test_cli_report_takes_a_programme(
    admin_sandbox: Sandbox,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from bot.cli import main

    sandbox = admin_sandbox
    two_programmes(sandbox)
    go_to(sandbox, MONDAY_9)
    sandbox.tick()  # the managers' round only
    monkeypatch.setenv("DATABASE_URL", database_url)
    capsys.readouterr()
    assert main(["report", "--team", sandbox.team_id, "--programme", "Directors"]) == 0
    assert capsys.readouterr().out.count("\n") == 1  # the header: no round yet
    assert main(["report", "--team", sandbox.team_id]) == 0
    assert capsys.readouterr().out.count("\n") == 2  # the managers' round
    assert main(["report", "--team", sandbox.team_id, "--programme", "Nope"]) == 1
    assert "no programme called" in capsys.readouterr().err


def test_run_now_for_two_programmes_at_once_starts_one_round_in_each(
    admin_sandbox: Sandbox,
) -> None:
    sandbox = admin_sandbox
    two_programmes(sandbox)
    calls = [
        lambda name=name: sandbox.people.command(ADMIN, f"admin run --programme {name}")
        for name in ("PeerCoach", "Directors", "PeerCoach", "Directors")
    ]
    answers = all_at_once(calls)
    sandbox.settle()
    assert all(response.status == 200 for response, _ in answers)
    started = programme_rounds(sandbox)
    assert (len(started["PeerCoach"]), len(started["Directors"])) == (1, 1)
