"""The demo's epilogue: a second programme next to the first, on its own schedule and format.

A Slack admin creates "Directors" (coaching circles of three kept for a season, every two
weeks, Wednesdays 15:00 London) with
`/peercoach admin programme new`, sets its schedule in its settings modal, and a few leaders
join it with `/peercoach join Directors` (the modal prefilled from their first programme).
At its first slot the scheduler starts its round and no other: the pairs come from its own
members only. Everything goes through the real surface (signed requests, the emulator).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select

from bot import ids
from bot.sandbox.demo_cast import Leader
from bot.sandbox.harness import Sandbox
from bot.sandbox.slack_requests import join_values, prefilled_values, text_input
from bot.sandbox.slack_requests import select as select_state
from bot.services.membership import next_round_at
from db.models import Programme

NAME = "Directors"
ADMIN = "UDEMOADMIN"
DIRECTORS = 6
INTRO_PREFIX = "Meet your PeerCoach peers"


@dataclass
class SecondProgramme:
    """What the epilogue printed, and what did not go as the people expected."""

    lines: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def second_programme(
    sandbox: Sandbox,
    cast: Sequence[Leader],
    present: Sequence[str],
    names: dict[str, str],
    rng: random.Random,
) -> SecondProgramme:
    """Run the epilogue after the first programme's rounds; `present`: who is still in it."""
    result = SecondProgramme()
    people = sandbox.people
    sandbox.emulator.add_user(ADMIN, name="Programme Lead", is_admin=True)
    created = people.command(ADMIN, f"admin programme new {NAME}").json().get("text", "")
    if "is ready" not in created:
        result.problems.append(f"second programme: not created ({created[:80]!r})")
        return result
    people.command(ADMIN, f"admin settings --programme {NAME}")
    sandbox.settle()
    view = sandbox.emulator.successful("views.open")[-1].response["view"]
    values = (
        prefilled_values(view)
        | select_state(ids.CADENCE_BLOCK, ids.CADENCE_ACTION, "2")
        | select_state(ids.DAY_BLOCK, ids.DAY_ACTION, "2")
        | select_state(ids.HOUR_BLOCK, ids.HOUR_ACTION, "15")
        | text_input(ids.TIMEZONE_BLOCK, ids.TIMEZONE_ACTION, "Europe/London")
        | select_state(ids.FORMAT_BLOCK, ids.FORMAT_ACTION, "circles")
        | select_state(ids.CIRCLE_SIZE_BLOCK, ids.CIRCLE_SIZE_ACTION, "3")
    )
    saved = people.submit(ADMIN, view, values)
    sandbox.settle()
    if saved.status != 200 or saved.body:
        result.problems.append(f"second programme: settings refused ({saved.body[:80]!r})")
        return result

    by_id = {leader.user_id: leader for leader in cast}
    chosen = sorted(rng.sample(sorted(present), min(DIRECTORS, len(present))))
    for user in chosen:
        leader = by_id[user]
        people.command(user, f"join {NAME}")
        sandbox.settle()
        modal = sandbox.emulator.calls_to("views.open")[-1].response["view"]
        joined = people.submit(
            user, modal, join_values(leader.level, leader.team, list(leader.goals))
        )
        sandbox.settle()
        if joined.status != 200 or joined.body:
            result.problems.append(f"second programme: {names[user]} could not join")

    with sandbox.deps.unit_of_work() as session:
        programme = session.scalars(select(Programme).where(Programme.name == NAME)).one()
        slot = next_round_at(session, programme, sandbox.now())
    sandbox.clock.set(slot)
    start = len(sandbox.emulator.messages)
    started = sandbox.tick().rounds_started
    sandbox.settle()
    intros = [m for m in sandbox.emulator.messages[start:] if m.text.startswith(INTRO_PREFIX)]
    groups = [sandbox.emulator.conversation_members(m.channel) for m in intros]
    outside = {u for g in groups for u in g} - set(chosen)
    if len(started) != 1:
        result.problems.append(f"second programme: {len(started)} rounds started at its slot")
    if outside:
        result.problems.append("second programme: paired people from outside it")
    summary = people.command(ADMIN, "admin programmes").json().get("text", "")
    result.lines += [
        "",
        f"A second programme, {NAME}: every two weeks on Wednesdays at 15:00 Europe/London, "
        "coaching circles of 3 kept together for a season",
        f"  created with /peercoach admin programme new {NAME}; "
        f"{len(chosen)} leaders joined with /peercoach join {NAME}",
        f"  its first round, {slot:%A %d %B %H:%M} UTC: "
        + "; ".join(" + ".join(names.get(u, u) for u in g) for g in groups),
        "  nobody paired across programmes: " + ("yes" if not outside else "NO"),
        *(f"  {line}" for line in summary.replace("*", "").replace("_", "").splitlines()),
    ]
    return result
