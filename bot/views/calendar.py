"""The calendar invite (.ics) of a group's picked time: built with `icalendar`, in the
member's own time zone (with its VTIMEZONE), a title and the agenda; nothing private (no
names, no goals, no reasons, no reflections), since a calendar is shared more widely than
a DM."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from icalendar import Calendar, Event

from bot.domain.meetings import zone
from bot.views.pairing import CHECK_IN_MINUTES, agenda_minutes

TITLE = "PeerCoach chat"


def plain_agenda(people: int, minutes: int) -> str:
    """The chat's agenda in plain text, without names (a calendar is no place for them)."""
    turn, commitments = agenda_minutes(people)
    return (
        f"Your {minutes}-minute peer coaching chat, in your PeerCoach group DM in Slack.\n\n"
        f"1. Check-in ({CHECK_IN_MINUTES} min): how are you, really?\n"
        f"2. Challenges ({turn} min each): each of you brings a real challenge in turn; "
        "the others coach with open questions (resist giving advice).\n"
        f"3. Commitments ({commitments} min): each names one thing they'll do before the "
        "next chat.\n\n"
        "What's said in the chat stays in the chat."
    )


def calendar_invite(
    *,
    group_id: int,
    start: datetime,
    minutes: int,
    tz_name: str | None,
    people: int,
    created: datetime,
) -> bytes:
    """The .ics file (bytes) of one event at `start` (aware) for `minutes`, written in the
    zone `tz_name` (UTC when unknown) with that zone's definition included."""
    tz = zone(tz_name)
    calendar = Calendar()
    calendar.add("prodid", "-//PeerCoach//Peer coaching chats//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"peercoach-group-{group_id}-{int(start.timestamp())}@peercoach")
    event.add("dtstamp", created.astimezone(UTC))
    event.add("dtstart", start.astimezone(tz))
    event.add("dtend", (start + timedelta(minutes=minutes)).astimezone(tz))
    event.add("summary", TITLE)
    event.add("location", "Slack: your PeerCoach group DM")
    event.add("description", plain_agenda(people, minutes))
    calendar.add_component(event)
    calendar.add_missing_timezones()
    return bytes(calendar.to_ical())
