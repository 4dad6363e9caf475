"""Meeting times: the intro suggests times inside everyone's working hours, any member picks
one for everyone, the group gets a reminder before it, each person can get a calendar invite
in their own DM, and PeerCoach picks a time when nobody did."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from icalendar import Calendar
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import ids
from bot.domain.meetings import SlotPerson, WorkingHours
from bot.domain.programme import ProgramSettings
from bot.sandbox.harness import Sandbox
from bot.sandbox.slack_emulator import Message
from bot.sandbox.slack_requests import join_values
from bot.sandbox.slack_requests import select as select_state
from bot.services.meetings import SLOT_LEAD, group_slots, suggest_slots, working_hours_of
from bot.services.metrics import cycle_figures
from bot.services.rounds import Eligible
from db.models import GroupSeat, OutboxMessage, PairGroup, Programme
from tests.concurrency import ACK_DEADLINE_S, all_at_once
from tests.cycle_helpers import MONDAY_9, button_value, go_to, intros, press, set_schedule
from tests.test_admin import ADMIN, open_settings, settings_values

ZONES = {"U001": "Europe/London", "U002": "America/New_York"}


def in_zone(sandbox: Sandbox, user: str, tz: str) -> None:
    """The person's Slack profile says they live in `tz` (users.info's `tz`)."""
    offset = MONDAY_9.astimezone(ZoneInfo(tz)).utcoffset() or timedelta(0)
    seconds = int(offset.total_seconds())
    sandbox.emulator.add_user(user, name=user.lower(), tz=tz, tz_offset_seconds=seconds)


def pair_in_zones(sandbox: Sandbox, zones: dict[str, str] = ZONES) -> Message:
    """Two people in these zones join; the round starts; return their intro."""
    for user, tz in zones.items():
        in_zone(sandbox, user, tz)
        sandbox.join(user)
    go_to(sandbox, MONDAY_9)
    sandbox.tick()
    [intro] = intros(sandbox)[-1:]
    return intro


def slot_buttons(message: Message) -> list[str]:
    """The values of the intro's "Pick this time" buttons, in order."""
    return [
        b["accessory"]["value"]
        for b in message.blocks
        if b.get("accessory", {}).get("action_id") == ids.PICK_SLOT
    ]


def current(sandbox: Sandbox, message: Message) -> Message:
    """The message as Slack shows it now (after any chat.update)."""
    return next(m for m in sandbox.emulator.messages if m.ts == message.ts)


def pick(sandbox: Sandbox, user: str, intro: Message, number: int) -> Any:
    return sandbox.people.click(
        user,
        ids.PICK_SLOT,
        value=slot_buttons(current(sandbox, intro))[number - 1],
        channel_id=intro.channel,
        message_ts=intro.ts,
    )


def the_group(sandbox: Sandbox) -> PairGroup:
    with sandbox.deps.unit_of_work() as session:
        group = session.scalars(select(PairGroup).order_by(PairGroup.id.desc())).first()
        assert group is not None
        session.expunge(group)
        return group


def inside(hours: WorkingHours, tz: str, start: datetime, minutes: int = 30) -> bool:
    end = start + timedelta(minutes=minutes)
    windows = hours.windows(tz, start - timedelta(days=1), end + timedelta(days=1))
    return any(low <= start and end <= high for low, high in windows)


def reminders_in(sandbox: Sandbox, channel: str) -> list[Message]:
    return [m for m in sandbox.emulator.messages_in(channel) if "starts soon" in m.text]


def test_intro_offers_times_inside_everyones_hours_in_each_readers_zone(sandbox: Sandbox) -> None:
    intro = pair_in_zones(sandbox)

    text = str(intro.blocks)
    assert "suit everyone's working hours" in text
    dates = re.findall(r"<!date\^(\d+)\^\{date_short_pretty\} \{time\}\|[^>]+>", text)
    assert len(dates) == 3 and len(slot_buttons(intro)) == 3
    starts = [datetime.fromtimestamp(int(d), tz=UTC) for d in dates]
    for start in starts:
        assert inside(WorkingHours(), "Europe/London", start)
        assert inside(WorkingHours(), "America/New_York", start)
        assert MONDAY_9 < start < MONDAY_9 + timedelta(days=4)
    assert len({s.date() for s in starts}) == 3


def test_working_hours_set_in_the_app_home_shape_the_next_intro(sandbox: Sandbox) -> None:
    for user, tz in ZONES.items():
        in_zone(sandbox, user, tz)
        sandbox.join(user)
    sandbox.people.open_home("U002")
    sandbox.settle()
    sandbox.people.click("U002", ids.HOME_WORKING_HOURS, view=sandbox.emulator.homes["U002"])
    sandbox.settle()
    modal = sandbox.emulator.successful("views.open")[-1].response["view"]
    assert modal["callback_id"] == ids.WORKING_HOURS_MODAL
    # New York works 07:00-11:00 and keeps Tuesdays free of meetings.
    values = (
        select_state(ids.WORK_START_BLOCK, ids.WORK_START_ACTION, str(7 * 60))
        | select_state(ids.WORK_END_BLOCK, ids.WORK_END_ACTION, str(11 * 60))
        | {
            ids.NO_MEETING_DAYS_BLOCK: {
                ids.NO_MEETING_DAYS_ACTION: {
                    "type": "checkboxes",
                    "selected_options": [{"value": "1"}],
                }
            }
        }
    )
    response = sandbox.people.submit("U002", modal, values)
    sandbox.settle()
    assert (response.status, response.body) == (200, b"")
    assert "07:00-11:00, Monday to Friday (no meetings on Tuesday)" in str(
        sandbox.emulator.homes["U002"]["blocks"]
    )

    go_to(sandbox, MONDAY_9)
    sandbox.tick()
    group = the_group(sandbox)
    mine = WorkingHours(7 * 60, 11 * 60, no_meeting_days=frozenset({1}))
    assert group.slots
    for slot in group.slots:
        start = datetime.fromisoformat(str(slot["start"]))
        assert inside(mine, "America/New_York", start)
        assert inside(WorkingHours(), "Europe/London", start)
        assert start.astimezone(ZoneInfo("America/New_York")).weekday() != 1


def test_pressing_a_time_updates_the_intro_once_for_everyone(sandbox: Sandbox) -> None:
    intro = pair_in_zones(sandbox)
    updates_before = len(sandbox.emulator.successful("chat.update"))

    pick(sandbox, "U001", intro, 2)
    sandbox.settle()

    shown = current(sandbox, intro)
    text = str(shown.blocks)
    assert "your time*, picked by <@U001>" in text
    assert slot_buttons(shown) == []
    assert len(sandbox.emulator.successful("chat.update")) == updates_before + 1
    group = the_group(sandbox)
    assert group.picked_start == datetime.fromisoformat(str(group.slots[1]["start"]))

    # A later press of an old button changes nothing and says who picked.
    sandbox.people.click(
        "U002", ids.PICK_SLOT, value=f"{group.id}:1", channel_id=intro.channel, message_ts=intro.ts
    )
    sandbox.settle()
    assert "<@U001> picked" in sandbox.emulator.responses[-1]["text"]
    assert the_group(sandbox).picked_start == group.picked_start
    assert len(sandbox.emulator.successful("chat.update")) == updates_before + 1


def test_presses_at_the_same_moment_end_with_one_chosen_time(sandbox: Sandbox) -> None:
    intro = pair_in_zones(sandbox)
    values = slot_buttons(intro)

    results = all_at_once(
        [
            lambda u=u, v=v: sandbox.people.click(
                u, ids.PICK_SLOT, value=v, channel_id=intro.channel, message_ts=intro.ts
            )
            for u, v in (("U001", values[0]), ("U002", values[2]))
        ]
    )
    sandbox.settle()

    assert [r.status for r, _ in results] == [200, 200]
    assert all(took < ACK_DEADLINE_S for _, took in results)
    group = the_group(sandbox)
    assert group.pick_version == 1
    assert group.picked_start in {
        datetime.fromisoformat(str(group.slots[i]["start"])) for i in (0, 2)
    }
    with sandbox.deps.unit_of_work() as session:
        reminders = session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "meeting_reminder")
        ).all()
    assert len(reminders) == 1
    assert f"picked by <@{group.picked_by}>" in str(current(sandbox, intro).blocks)


def test_the_reminder_goes_out_once_ten_minutes_before(sandbox: Sandbox) -> None:
    intro = pair_in_zones(sandbox)
    pick(sandbox, "U002", intro, 1)
    sandbox.settle()
    start = the_group(sandbox).picked_start
    assert start is not None
    sandbox.people.open_home("U001")
    sandbox.settle()
    home = str(sandbox.emulator.homes["U001"]["blocks"])
    assert f"not yet (picked for <!date^{int(start.timestamp())}^" in home

    go_to(sandbox, start - timedelta(minutes=11))
    sandbox.tick()
    assert reminders_in(sandbox, intro.channel) == []

    go_to(sandbox, start - timedelta(minutes=10))
    sandbox.tick()
    go_to(sandbox, start - timedelta(minutes=9))
    sandbox.tick()
    [reminder] = reminders_in(sandbox, intro.channel)
    assert f"<!date^{int(start.timestamp())}^" in reminder.text


def test_no_reminder_for_a_time_that_no_longer_holds(sandbox: Sandbox) -> None:
    intro = pair_in_zones(sandbox)
    pick(sandbox, "U001", intro, 1)
    sandbox.settle()
    first = the_group(sandbox).picked_start
    assert first is not None

    press(sandbox, "U002", ids.TIME_DOESNT_WORK, current(sandbox, intro))
    sandbox.settle()
    shown = str(current(sandbox, intro).blocks)
    assert "<@U002> said the picked time doesn't work" in shown
    assert len(slot_buttons(current(sandbox, intro))) == 3

    go_to(sandbox, first - timedelta(minutes=10))
    sandbox.tick()
    assert reminders_in(sandbox, intro.channel) == []

    pick(sandbox, "U002", intro, 3)
    sandbox.settle()
    second = the_group(sandbox).picked_start
    assert second is not None and second > first
    go_to(sandbox, second - timedelta(minutes=5))
    sandbox.tick()
    sandbox.tick()
    [reminder] = reminders_in(sandbox, intro.channel)
    assert f"<!date^{int(second.timestamp())}^" in reminder.text


def test_the_calendar_invite_reaches_only_the_pressers_dm_at_the_right_instant(
    sandbox: Sandbox,
) -> None:
    intro = pair_in_zones(sandbox)
    pick(sandbox, "U001", intro, 2)
    sandbox.settle()
    start = the_group(sandbox).picked_start
    assert start is not None

    press(sandbox, "U002", ids.ADD_TO_CALENDAR, current(sandbox, intro))
    sandbox.settle()
    press(sandbox, "U002", ids.ADD_TO_CALENDAR, current(sandbox, intro))  # once is enough
    sandbox.settle()

    uploads = [u for u in sandbox.emulator.uploads.values() if u["content"]]
    assert len(uploads) == 1
    [upload] = uploads
    assert upload["filename"].endswith(".ics")
    assert sandbox.emulator.conversation_members(upload["channel"]) == ("U002",)
    assert upload["channel"] != intro.channel
    calendar = Calendar.from_ical(upload["content"])
    [event] = calendar.walk("VEVENT")
    assert event.decoded("dtstart").astimezone(UTC) == start
    assert event.decoded("dtend") - event.decoded("dtstart") == timedelta(minutes=30)
    assert event["dtstart"].params["TZID"] == "America/New_York"
    assert calendar.walk("VTIMEZONE")[0]["TZID"] == "America/New_York"
    assert str(event["summary"]) == "PeerCoach chat"
    assert "Check-in (5 min)" in str(event["description"])
    content = upload["content"].decode()
    for private in ("U001", "U002", "leader", "Sales", "delegation"):
        assert private not in content


def test_with_no_overlap_the_intro_names_who_pays_and_the_cost_rotates(sandbox: Sandbox) -> None:
    far = {"U001": "America/New_York", "U002": "Asia/Tokyo"}
    intro = pair_in_zones(sandbox, far)
    first_payer = _payer(intro)

    go_to(sandbox, MONDAY_9 + timedelta(weeks=1))
    sandbox.tick()
    second_payer = _payer(intros(sandbox)[-1])

    assert {first_payer, second_payer} == {"U001", "U002"}
    with sandbox.deps.unit_of_work() as session:
        costs = session.scalars(select(GroupSeat.slot_cost).where(GroupSeat.slot_cost.is_not(None)))
        assert sorted(costs) in (["evening", "morning"], ["morning", "evening"])


def _payer(intro: Message) -> str:
    text = str(intro.blocks)
    assert "don't overlap at all" in text
    found = re.search(r"it costs <@(U\d+)>'s (morning|evening)", text)
    assert found is not None, text
    return found.group(1)


def test_auto_schedule_picks_the_first_time_still_ahead_once(sandbox: Sandbox) -> None:
    intro = pair_in_zones(sandbox)
    set_schedule(sandbox, auto_schedule_days=1)
    slots = the_group(sandbox).slots
    ahead = [
        datetime.fromisoformat(str(s["start"]))
        for s in slots
        if datetime.fromisoformat(str(s["start"])) > MONDAY_9 + timedelta(days=1, minutes=10)
    ]

    go_to(sandbox, MONDAY_9 + timedelta(hours=23))
    sandbox.tick()
    assert the_group(sandbox).picked_start is None

    go_to(sandbox, MONDAY_9 + timedelta(days=1))
    sandbox.tick()
    sandbox.tick()
    group = the_group(sandbox)
    assert group.picked_start == ahead[0] and group.picked_by is None
    told = [m for m in sandbox.emulator.messages_in(intro.channel) if "so I picked" in m.text]
    assert len(told) == 1
    assert "picked by PeerCoach" in str(current(sandbox, intro).blocks)


def test_figures_show_time_picked_and_met_after_picking_per_cycle(sandbox: Sandbox) -> None:
    users = [f"U{n:03d}" for n in range(1, 11)]
    for user in users:
        sandbox.join(user)
    go_to(sandbox, MONDAY_9)
    sandbox.tick()
    pairs = intros(sandbox)
    assert len(pairs) == 5
    for number, intro in enumerate(pairs[:4]):
        who = sandbox.emulator.conversation_members(intro.channel)[0]
        pick(sandbox, who, intro, 1)
        sandbox.settle()
        if number < 3:
            press(sandbox, who, ids.WE_MET, current(sandbox, intro))
            sandbox.settle()

    with sandbox.deps.unit_of_work() as session:
        programme_id = session.scalar(select(Programme.id))
        assert programme_id is not None
        [cycle] = cycle_figures(session, programme_id)
    assert cycle.time_picked_rate.shown() == "80%"
    assert cycle.met_after_pick_rate.shown() == "75%"
    assert "time_picked_rate" in cycle.as_row()


def test_met_after_picking_is_hidden_below_five_people(sandbox: Sandbox) -> None:
    intro = pair_in_zones(sandbox)
    pick(sandbox, "U001", intro, 1)
    sandbox.settle()
    assert button_value(current(sandbox, intro), ids.WE_MET)
    press(sandbox, "U001", ids.WE_MET, current(sandbox, intro))
    sandbox.settle()
    with sandbox.deps.unit_of_work() as session:
        programme_id = session.scalar(select(Programme.id))
        assert programme_id is not None
        [cycle] = cycle_figures(session, programme_id)
    assert cycle.time_picked_rate.shown() == "fewer than 5"
    assert cycle.met_after_pick_rate.shown() == "fewer than 5"


def set_hours(sandbox: Sandbox, user: str, start: int, end: int) -> None:
    """The person sets their working hours (minutes after midnight) from the App Home."""
    sandbox.people.open_home(user)
    sandbox.settle()
    sandbox.people.click(user, ids.HOME_WORKING_HOURS, view=sandbox.emulator.homes[user])
    sandbox.settle()
    modal = sandbox.emulator.successful("views.open")[-1].response["view"]
    values = select_state(ids.WORK_START_BLOCK, ids.WORK_START_ACTION, str(start)) | select_state(
        ids.WORK_END_BLOCK, ids.WORK_END_ACTION, str(end)
    )
    response = sandbox.people.submit(user, modal, values)
    sandbox.settle()
    assert (response.status, response.body) == (200, b"")


def test_slots_follow_each_zones_clock_in_the_week_only_america_changed(sandbox: Sandbox) -> None:
    # 15 March 2027: New York is on summer time (since 14 March), London not yet (28 March).
    # London 09:00-14:00 is 09:00-14:00 UTC; New York 09:00-12:00 is 13:00-16:00 UTC (it
    # would be 14:00-17:00 in winter, leaving no shared half hour).
    for user, tz in ZONES.items():
        in_zone(sandbox, user, tz)
        sandbox.join(user)
    set_hours(sandbox, "U001", 9 * 60, 14 * 60)
    set_hours(sandbox, "U002", 9 * 60, 12 * 60)
    go_to(sandbox, datetime(2027, 3, 15, 9, 0, tzinfo=UTC))
    sandbox.tick()

    intro = intros(sandbox)[-1]
    assert "suit everyone's working hours" in str(intro.blocks)
    starts = [datetime.fromisoformat(str(s["start"])) for s in the_group(sandbox).slots]
    assert len(starts) == 3
    for start in starts:
        assert start.hour == 13 and start.minute in (0, 30)
        assert start.astimezone(ZoneInfo("America/New_York")).hour in (9, 10, 11)


def test_working_hours_chosen_in_the_profile_modal_are_kept(sandbox: Sandbox) -> None:
    sandbox.people.command("U001", "join")
    sandbox.settle()
    modal = sandbox.emulator.calls_to("views.open")[-1].response["view"]
    assert {b.get("block_id") for b in modal["blocks"]} >= {
        ids.WORK_START_BLOCK,
        ids.WORK_END_BLOCK,
        ids.WORK_DAYS_BLOCK,
        ids.NO_MEETING_DAYS_BLOCK,
    }
    values = (
        join_values(3, "Sales", ["delegation"])
        | select_state(ids.WORK_START_BLOCK, ids.WORK_START_ACTION, str(10 * 60))
        | select_state(ids.WORK_END_BLOCK, ids.WORK_END_ACTION, str(18 * 60 + 30))
        | {
            ids.WORK_DAYS_BLOCK: {
                ids.WORK_DAYS_ACTION: {
                    "type": "checkboxes",
                    "selected_options": [{"value": str(d)} for d in (0, 1, 2, 3)],
                }
            }
        }
    )
    response = sandbox.people.submit("U001", modal, values)
    sandbox.settle()
    assert (response.status, response.body) == (200, b"")
    assert "10:00-18:30, Monday, Tuesday, Wednesday, Thursday" in str(
        sandbox.emulator.homes["U001"]["blocks"]
    )

    # Editing the profile shows them again, and a start after the end is refused inline.
    sandbox.people.command("U001", "profile")
    sandbox.settle()
    edit = sandbox.emulator.calls_to("views.open")[-1].response["view"]
    start = next(b for b in edit["blocks"] if b.get("block_id") == ids.WORK_START_BLOCK)
    assert start["element"]["initial_option"]["value"] == str(10 * 60)
    refused = sandbox.people.submit(
        "U001",
        edit,
        join_values(3, "Sales", ["delegation"])
        | select_state(ids.WORK_START_BLOCK, ids.WORK_START_ACTION, str(17 * 60))
        | select_state(ids.WORK_END_BLOCK, ids.WORK_END_ACTION, str(9 * 60)),
    )
    assert refused.json()["errors"] == {
        ids.WORK_END_BLOCK: "End your working hours after they start."
    }


def test_a_time_that_has_passed_cannot_be_picked(sandbox: Sandbox) -> None:
    intro = pair_in_zones(sandbox)
    first = datetime.fromisoformat(str(the_group(sandbox).slots[0]["start"]))
    go_to(sandbox, first + timedelta(minutes=1))

    pick(sandbox, "U001", intro, 1)
    sandbox.settle()

    assert "That time has passed" in sandbox.emulator.responses[-1]["text"]
    assert the_group(sandbox).picked_start is None
    assert len(slot_buttons(current(sandbox, intro))) == 3


def test_no_reminder_once_the_group_said_it_met(sandbox: Sandbox) -> None:
    intro = pair_in_zones(sandbox)
    pick(sandbox, "U001", intro, 3)
    sandbox.settle()
    start = the_group(sandbox).picked_start
    assert start is not None
    press(sandbox, "U002", ids.WE_MET, current(sandbox, intro))  # they met earlier after all
    sandbox.settle()

    go_to(sandbox, start - timedelta(minutes=10))
    sandbox.tick()

    assert reminders_in(sandbox, intro.channel) == []
    with sandbox.deps.unit_of_work() as session:
        status = session.scalar(
            select(OutboxMessage.status).where(OutboxMessage.kind == "meeting_reminder")
        )
    assert status == "dropped"


def test_an_admin_turns_auto_schedule_on_in_the_settings(sandbox: Sandbox) -> None:
    sandbox.emulator.add_user(ADMIN, name="programme-lead", is_admin=True)
    sandbox.join("U001")
    modal = open_settings(sandbox)
    offered = next(b for b in modal["blocks"] if b.get("block_id") == ids.AUTO_SCHEDULE_BLOCK)
    assert offered["element"]["initial_option"]["value"] == "0"  # off until an admin says

    response = sandbox.people.submit(
        ADMIN,
        modal,
        settings_values() | select_state(ids.AUTO_SCHEDULE_BLOCK, ids.AUTO_SCHEDULE_ACTION, "3"),
    )
    sandbox.settle()

    assert (response.status, response.body) == (200, b"")
    with sandbox.deps.unit_of_work() as session:
        stored = session.scalar(select(Programme.settings))
        assert ProgramSettings.from_stored(stored).auto_schedule_days == 3
    assert any("auto-schedule changed" in m.text for m in sandbox.emulator.messages)


def test_alike_groups_get_the_times_each_would_get_alone_naming_their_own_people(
    session: Session,
) -> None:
    def member(member_id: int, tz: str) -> Eligible:
        return Eligible(
            member_id,
            f"U{member_id:03d}",
            2,
            None,
            [],
            tz,
            None,
            1,
            9 * 60,
            17 * 60,
            [0, 1, 2, 3, 4],
            [],
        )

    alike = [
        [member(1, "America/New_York"), member(2, "Asia/Tokyo")],
        [member(3, "America/New_York"), member(4, "Asia/Tokyo")],
        [member(5, "Europe/London"), member(6, "America/New_York")],
    ]
    end = MONDAY_9 + timedelta(days=6)

    suggested = group_slots(session, alike, programme_id=1, start=MONDAY_9, end=end)

    for group, got in zip(alike, suggested, strict=True):
        people = [SlotPerson(m.slack_user_id, working_hours_of(m), m.tz_name) for m in group]
        alone = suggest_slots(people, start=MONDAY_9 + SLOT_LEAD, end=end)
        assert got.slots == alone
    payers = [{u for slot in got.slots for u, _ in slot.costs} for got in suggested]
    assert payers[0] and payers[0] <= {"U001", "U002"}
    assert payers[1] and payers[1] <= {"U003", "U004"}
    assert not payers[2]  # London and New York overlap: nobody pays
