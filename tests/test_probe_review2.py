"""Review2 attacker probes (throwaway)."""

from __future__ import annotations

import logging

from bot import ids
from bot.sandbox.harness import Sandbox
from tests.cycle_helpers import MONDAY_9, button_value, dms_to, go_to, intros, press
from tests.surface_helpers import every_logger_at, row_counts
from tests.test_meeting_times import current, in_zone, slot_buttons, the_group
from tests.test_org_chart import chart, email, org_sandbox, upload_in_slack  # noqa: F401
from tests.test_rescue import FOUR, drop, partner_of, start_with_two_pairs
from bot.views.pairing import no_new_partner_text

ZONES4 = {"U001": "Europe/London", "U002": "Europe/London", "U003": "Europe/London",
          "U004": "Europe/London"}


def four_in_zones(sandbox: Sandbox):
    for user, tz in ZONES4.items():
        in_zone(sandbox, user, tz)
        sandbox.join(user)
    go_to(sandbox, MONDAY_9)
    sandbox.tick()
    sandbox.settle()
    return intros(sandbox)


def told(sandbox: Sandbox) -> list[str]:
    sandbox.settle()
    return [r.get("text", "") for r in sandbox.emulator.responses]


def group_id_of(intro) -> int:
    return int(slot_buttons(intro)[0].split(":")[0])


def test_probe1_forged_pick_doesnt_work_ics(sandbox: Sandbox) -> None:
    a, b = four_in_zones(sandbox)[:2]
    gid = group_id_of(a)
    outsider = sandbox.emulator.conversation_members(b.channel)[0]
    insider = sandbox.emulator.conversation_members(a.channel)[0]
    with every_logger_at(logging.WARNING) as logs:
        rows = row_counts(sandbox.engine)
        cases = [
            (outsider, ids.PICK_SLOT, f"{gid}:1"),
            (outsider, ids.TIME_DOESNT_WORK, f"{gid}:1"),
            (outsider, ids.ADD_TO_CALENDAR, f"{gid}:1"),
            (insider, ids.PICK_SLOT, f"{gid}:9"),
            (insider, ids.PICK_SLOT, f"{gid}:0"),
            (insider, ids.PICK_SLOT, "x:y"),
            (insider, ids.TIME_DOESNT_WORK, "garbage"),
            (insider, ids.ADD_TO_CALENDAR, f"{gid}:1"),  # nothing picked yet
            (insider, ids.PICK_SLOT, "2147483647:1"),
        ]
        seen = []
        for user, action, value in cases:
            sandbox.emulator.responses.clear()
            r = sandbox.people.click(user, action, value=value, channel_id=a.channel, message_ts=a.ts)
            seen.append((user, action, value, r.status, told(sandbox)))
        # another workspace presses our group
        sandbox.people.team_id, old = "T0OTHER", sandbox.people.team_id
        sandbox.emulator.responses.clear()
        r = sandbox.people.click("U009", ids.PICK_SLOT, value=f"{gid}:1", channel_id=a.channel, message_ts=a.ts)
        seen.append(("other-ws", ids.PICK_SLOT, f"{gid}:1", r.status, told(sandbox)))
        sandbox.people.team_id = old
        for s in seen:
            print(s)
        errors = logs.at_least(logging.ERROR)
        print("ERRORS", errors)
        print("picked", the_group(sandbox).picked_start, [g for g in [gid]])
        uploads = [u for u in sandbox.emulator.uploads.values() if u["content"]]
        print("uploads", len(uploads))
        print("rows same", row_counts(sandbox.engine) == rows)
    assert errors == []
    assert uploads == []
    assert row_counts(sandbox.engine) == rows
    for s in seen:
        assert s[3] == 200
        assert s[4] and not any("Picked" in t or "Sorry" in t or "Noted" in t or "sending" in t for t in s[4]), s


def test_probe1b_forged_after_pick(sandbox: Sandbox) -> None:
    a, b = four_in_zones(sandbox)[:2]
    gid = group_id_of(a)
    insider = sandbox.emulator.conversation_members(a.channel)[0]
    outsider = sandbox.emulator.conversation_members(b.channel)[0]
    sandbox.people.click(insider, ids.PICK_SLOT, value=f"{gid}:1", channel_id=a.channel, message_ts=a.ts)
    sandbox.settle()
    cal = button_value(current(sandbox, a), ids.ADD_TO_CALENDAR)
    dw = button_value(current(sandbox, a), ids.TIME_DOESNT_WORK)
    print("cal", cal, "dw", dw)
    picked = the_group(sandbox)
    with every_logger_at(logging.WARNING) as logs:
        rows = row_counts(sandbox.engine)
        seen = []
        for action, value in [(ids.ADD_TO_CALENDAR, cal), (ids.TIME_DOESNT_WORK, dw)]:
            sandbox.emulator.responses.clear()
            sandbox.people.click(outsider, action, value=value, channel_id=b.channel, message_ts=b.ts)
            seen.append((action, told(sandbox)))
        sandbox.tick()
        sandbox.settle()
        print(seen, logs.at_least(logging.ERROR))
        uploads = [u for u in sandbox.emulator.uploads.values() if u["content"]]
        print("uploads", len(uploads))
        assert uploads == []
        assert logs.at_least(logging.ERROR) == []
    assert the_group(sandbox).picked_start == picked.picked_start
    assert row_counts(sandbox.engine) == rows
    for _, t in seen:
        assert t and not any("Noted" in x or "sending" in x or "Sorry" in x for x in t), seen


def test_probe2_forged_keep_and_cant_make_it(sandbox: Sandbox) -> None:
    a, b = four_in_zones(sandbox)[:2]
    gid = group_id_of(a)
    outsider = sandbox.emulator.conversation_members(b.channel)[0]
    with every_logger_at(logging.WARNING) as logs:
        rows = row_counts(sandbox.engine)
        seen = []
        for action, value in [
            (f"{ids.KEEP_MEETING}_2", f"{gid}:2"),
            (f"{ids.KEEP_MEETING}_2", f"{gid}:99"),
            (ids.KEEP_MEETING_END, str(gid)),
            (ids.CANT_MAKE_IT, str(gid)),
        ]:
            sandbox.emulator.responses.clear()
            sandbox.people.click(outsider, action, value=value, channel_id="DPAIR", message_ts="1.0")
            seen.append((action, value, told(sandbox)))
        sandbox.tick()
        sandbox.settle()
        print(seen, logs.at_least(logging.ERROR))
        assert logs.at_least(logging.ERROR) == []
    assert row_counts(sandbox.engine) == rows
    for s in seen:
        assert s[2] and not any("Noted" in x or "keep meeting" in x or "Sorry" in x for x in s[2]), s


def test_probe3_rescue_never_with_manager(org_sandbox: Sandbox) -> None:
    sandbox = org_sandbox
    upload_in_slack(sandbox, chart((email("U002"), email("U001"))))
    start_with_two_pairs(sandbox)
    assert partner_of(sandbox, "U001") != "U002"
    drop(sandbox, partner_of(sandbox, "U001"))
    drop(sandbox, partner_of(sandbox, "U002"))
    groups = [set(sandbox.emulator.conversation_members(m.channel)) for m in intros(sandbox)]
    print(groups)
    assert {"U001", "U002"} not in groups
    assert no_new_partner_text() in [m.text for m in dms_to(sandbox, "U001")]


def test_probe4_ics_content_only_presser(sandbox: Sandbox) -> None:
    for user, tz in list(ZONES4.items())[:2]:
        in_zone(sandbox, user, tz)
        sandbox.join(user, goals=["delegation"], team="Zanzibar Ops")
    go_to(sandbox, MONDAY_9)
    sandbox.tick()
    sandbox.settle()
    [a] = intros(sandbox)
    gid = group_id_of(a)
    sandbox.people.click("U001", ids.PICK_SLOT, value=f"{gid}:1", channel_id=a.channel, message_ts=a.ts)
    sandbox.settle()
    press(sandbox, "U001", ids.ADD_TO_CALENDAR, current(sandbox, a))
    sandbox.settle()
    sandbox.tick()
    sandbox.settle()
    uploads = [u for u in sandbox.emulator.uploads.values() if u["content"]]
    assert len(uploads) == 1
    content = uploads[0]["content"].decode()
    print(content)
    assert sandbox.emulator.conversation_members(uploads[0]["channel"]) == ("U001",)
    for private in ("delegation", "Zanzibar", "U002", "u002", "level"):
        assert private not in content


def test_probe1c_same_user_id_from_another_workspace(sandbox: Sandbox) -> None:
    a, _ = four_in_zones(sandbox)[:2]
    gid = group_id_of(a)
    insider = sandbox.emulator.conversation_members(a.channel)[0]
    with every_logger_at(logging.WARNING) as logs:
        rows = row_counts(sandbox.engine)
        sandbox.people.team_id, old = "T0OTHER", sandbox.people.team_id
        seen = []
        for action in (ids.PICK_SLOT, ids.TIME_DOESNT_WORK, ids.CANT_MAKE_IT):
            sandbox.emulator.responses.clear()
            value = str(gid) if action == ids.CANT_MAKE_IT else f"{gid}:1"
            sandbox.people.click(insider, action, value=value, channel_id=a.channel, message_ts=a.ts)
            seen.append((action, told(sandbox)))
        sandbox.people.team_id = old
        print(seen, logs.at_least(logging.ERROR))
        assert logs.at_least(logging.ERROR) == []
    assert row_counts(sandbox.engine) == rows, seen


def test_probe1d_old_calendar_button_after_reopen(sandbox: Sandbox) -> None:
    a, _ = four_in_zones(sandbox)[:2]
    gid = group_id_of(a)
    insider, other = sandbox.emulator.conversation_members(a.channel)[:2]
    sandbox.people.click(insider, ids.PICK_SLOT, value=f"{gid}:1", channel_id=a.channel, message_ts=a.ts)
    sandbox.settle()
    cal = button_value(current(sandbox, a), ids.ADD_TO_CALENDAR)
    press(sandbox, other, ids.TIME_DOESNT_WORK, current(sandbox, a))
    sandbox.settle()
    sandbox.people.click(insider, ids.PICK_SLOT, value=f"{gid}:2", channel_id=a.channel, message_ts=a.ts)
    sandbox.settle()
    sandbox.emulator.responses.clear()
    sandbox.people.click(insider, ids.ADD_TO_CALENDAR, value=cal, channel_id=a.channel, message_ts=a.ts)
    sandbox.tick()
    sandbox.settle()
    print(told(sandbox))
    uploads = [u for u in sandbox.emulator.uploads.values() if u["content"]]
    print(len(uploads))
    assert uploads == []


def test_probe3b_unpaired_manager_not_rescued_with_report(org_sandbox: Sandbox) -> None:
    sandbox = org_sandbox
    upload_in_slack(sandbox, chart((email("U002"), email("U001")), (email("U003"), email("U001"))))
    # U001 manages U002 and U003; U002/U003 pair with U004/U005 -> U001 maybe unmatched
    for user in ("U001", "U002", "U003", "U004", "U005"):
        sandbox.join(user, level=3, goals=["delegation"])
    go_to(sandbox, MONDAY_9)
    sandbox.tick()
    sandbox.settle()
    groups = [set(sandbox.emulator.conversation_members(m.channel)) for m in intros(sandbox)]
    print("initial", groups)
    for g in list(groups):
        for rep in ("U002", "U003"):
            if rep in g:
                drop(sandbox, next(u for u in g if u != rep))
    groups = [set(sandbox.emulator.conversation_members(m.channel)) for m in intros(sandbox)]
    print("after", groups)
    for g in groups:
        assert not ({"U001", "U002"} <= g or {"U001", "U003"} <= g)
