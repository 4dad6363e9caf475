"""Review findings on the feedback pulse when a person is in two programmes."""

from __future__ import annotations

from datetime import timedelta

from bot import ids
from bot.sandbox.harness import Sandbox
from tests.cycle_helpers import MONDAY_9, dms_to, go_to
from tests.test_admin import ADMIN, settings_values
from tests.test_programmes import (  # noqa: F401 (the fixture)
    admin_sandbox,
    join_programme,
    new_programme,
    open_settings_of,
    save_settings,
)


def pulse_every_round(sandbox: Sandbox, name: str) -> None:
    values = settings_values() | {
        ids.PULSE_EVERY_BLOCK: {ids.PULSE_EVERY_ACTION: {"type": "number_input", "value": "1"}}
    }
    response = sandbox.people.submit(ADMIN, open_settings_of(sandbox, name), values)
    assert response.status == 200 and response.body == b""
    sandbox.settle()


def test_someone_in_two_programmes_is_told_which_programme_each_pulse_asks_about(
    admin_sandbox: Sandbox,  # noqa: F811
) -> None:
    sandbox = admin_sandbox
    for user in ("U001", "U002", "U003"):
        sandbox.join(user)
    new_programme(sandbox, "Directors")
    for user in ("U001", "U101", "U102"):
        join_programme(sandbox, user, "Directors")
    go_to(sandbox, MONDAY_9)
    for name in ("PeerCoach", "Directors"):
        pulse_every_round(sandbox, name)
        sandbox.people.command(ADMIN, f"admin run --programme {name}")
        sandbox.settle()
    go_to(sandbox, MONDAY_9 + timedelta(hours=1))
    sandbox.tick()
    sandbox.settle()

    asks = [m.text for m in dms_to(sandbox, "U001") if m.text.startswith(":bar_chart:")]
    assert len(asks) == 2
    assert sum("about PeerCoach" in t for t in asks) == 1, asks
    assert sum("about Directors" in t for t in asks) == 1, asks
