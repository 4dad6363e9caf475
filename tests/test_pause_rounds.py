"""Issue 12, pauses in rounds of the local schedule: `pause` sits out the next round, `pause N
weeks` the rounds starting in the next N weeks of the programme's calendar, whatever the
clocks do; the reply names the first round the person is back for."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from bot import ids
from bot.sandbox.harness import Sandbox
from db.models import Member
from tests.cycle_helpers import go_to, intro_groups, set_schedule

FOUR = ["U001", "U002", "U003", "U004"]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def slack_date_of(moment: datetime) -> str:
    """How a reply names a moment so that Slack shows it in the reader's own time zone."""
    return f"<!date^{int(moment.timestamp())}^"


def paused_until(sandbox: Sandbox, user: str) -> datetime | None:
    with sandbox.deps.unit_of_work() as session:
        return session.scalar(select(Member.paused_until).where(Member.slack_user_id == user))


def london_programme(sandbox: Sandbox) -> None:
    go_to(sandbox, utc(2026, 10, 18, 12))
    for user in FOUR:
        sandbox.join(user)
    set_schedule(sandbox, timezone="Europe/London")  # Mondays 09:00 London time
    go_to(sandbox, utc(2026, 10, 19, 8))  # Mon 19 Oct 09:00 BST
    assert len(sandbox.tick().rounds_started) == 1


def paired(sandbox: Sandbox, since: int) -> set[str]:
    return {u for g in intro_groups(sandbox, since=since) for u in g}


def test_pause_after_a_round_sits_out_the_next_one_across_the_clock_change(
    sandbox: Sandbox,
) -> None:
    london_programme(sandbox)
    go_to(sandbox, utc(2026, 10, 19, 8, 30))  # 09:30 BST

    reply = sandbox.people.command("U004", "pause").text

    back = utc(2026, 11, 2, 9)  # Mon 2 Nov 09:00 GMT
    assert "Paused until the round of" in reply and slack_date_of(back) in reply
    assert "08:30" not in reply
    go_to(sandbox, utc(2026, 10, 26, 9))  # Mon 26 Oct 09:00 GMT, after the clocks went back
    assert len(sandbox.tick().rounds_started) == 1
    assert paired(sandbox, since=2) == {"U001", "U002", "U003"}
    go_to(sandbox, back)
    assert len(sandbox.tick().rounds_started) == 1
    assert "U004" in paired(sandbox, since=3)


def test_pause_weeks_counts_weeks_of_the_local_calendar(sandbox: Sandbox) -> None:
    london_programme(sandbox)
    go_to(sandbox, utc(2026, 10, 19, 8, 30))  # 09:30 BST
    reply = sandbox.people.command("U004", "pause 2 weeks").text
    # Rounds of 26 Oct and 2 Nov start within two weeks; back for 9 Nov.
    assert slack_date_of(utc(2026, 11, 9, 9)) in reply
    assert paused_until(sandbox, "U004") == utc(2026, 11, 9, 9)

    # Spring: a week from Mon 22 Mar 2027 08:30 GMT ends Mon 29 Mar 08:30 BST (07:30 UTC),
    # before that morning's 09:00 BST round, which pairs them again.
    go_to(sandbox, utc(2027, 3, 22, 8, 30))
    sandbox.people.command("U003", "pause 1 week")
    assert paused_until(sandbox, "U003") == utc(2027, 3, 29, 8)


def test_skip_and_the_home_pause_button_share_the_rule_and_name_the_round(
    sandbox: Sandbox,
) -> None:
    london_programme(sandbox)
    go_to(sandbox, utc(2026, 10, 19, 8, 30))
    reply = sandbox.people.command("U003", "skip").text
    assert "sit out the next round" in reply and slack_date_of(utc(2026, 11, 2, 9)) in reply
    assert paused_until(sandbox, "U003") == utc(2026, 11, 2, 9)

    sandbox.people.click("U002", ids.HOME_PAUSE)
    sandbox.settle()
    assert paused_until(sandbox, "U002") == utc(2026, 11, 2, 9)
    home = str(sandbox.emulator.homes["U002"]["blocks"])
    assert "back for the round of" in home and slack_date_of(utc(2026, 11, 2, 9)) in home
