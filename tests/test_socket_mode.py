"""`peercoach socket` as members live it: join, a round and a reflection over Socket Mode."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot import ids
from bot.sandbox.harness import Sandbox
from db.models import Member, Reflection
from tests.cycle_helpers import MONDAY_9, go_to, intros, press
from tests.test_rounds import reflection_values

pytestmark = pytest.mark.slow


def reflection_modal(sandbox: Sandbox, user: str) -> dict:
    intro = next(m for m in intros(sandbox) if user in sandbox.emulator.conversation_members(m.channel))
    press(sandbox, user, ids.OPEN_REFLECTION, intro)
    sandbox.settle()
    return sandbox.emulator.calls_to("views.open")[-1].response["view"]


def test_join_round_and_reflect_over_socket_mode(sandbox: Sandbox) -> None:
    sandbox.over_socket_mode()
    sandbox.join("U001")
    sandbox.join("U002")
    go_to(sandbox, MONDAY_9)
    sandbox.tick()
    assert len(intros(sandbox)) == 1

    view = reflection_modal(sandbox, "U001")
    answer = sandbox.people.submit("U001", view, reflection_values("4", "Ask first", "Delegate"))
    sandbox.settle()

    assert answer.status == 200 and not answer.body
    with sandbox.deps.unit_of_work() as session:
        assert session.scalar(select(Reflection.usefulness)) == 4
        assert len(session.scalars(select(Member)).all()) == 2
    endpoint = sandbox.emulator.socket_mode
    assert all(e.acked and e.deliveries == 1 for e in endpoint.envelopes.values())
    assert [c.ok for c in sandbox.emulator.calls_to("apps.connections.open")] == [True]
