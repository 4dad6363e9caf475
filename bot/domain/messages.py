"""Messages the app sends on its own: what the outbox stores (a notice) and what Slack gets.

Services record a *notice*: the facts a message needs (ids and figures, never pre-rendered
Block Kit). The delivery job renders it when it sends, with the views' `render_notice`, which the
wiring hands it; so services never import views, and a message reflects today's wording.
Notices are pydantic models so the outbox's JSON payload is validated on the way back in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from bot.domain.figures import CycleFigures, MembershipFigures
from bot.domain.meetings import MeetingSlot

Block = dict[str, Any]


@dataclass(frozen=True)
class Upload:
    """A file to upload into the recipient's DM (files_upload_v2), with its alt text."""

    content: bytes
    filename: str
    title: str
    alt_text: str = ""


@dataclass(frozen=True)
class Rendered:
    """A message as Slack gets it: fallback text, blocks, and optionally a file to upload."""

    text: str
    blocks: list[Block] = field(default_factory=list)
    upload: Upload | None = None


class _Notice(BaseModel):
    model_config = ConfigDict(frozen=True)


class IntroNotice(_Notice):
    """The group DM that starts a round's chat; user_ids[0] brings a challenge first."""

    kind: Literal["intro"] = "intro"
    group_id: int
    user_ids: tuple[str, ...]
    reasons: tuple[str, ...]
    prompts: tuple[str, ...]
    asked_about_commitments: bool = False
    # Weeks until the next round: the time the group has to meet.
    cadence_weeks: int = 1
    # Two coaching questions that fit the prompts, for whoever coaches.
    coach_questions: tuple[str, ...] = ()
    # Set when the intro is updated in place: who said the group met; the round closed.
    met_by: str | None = None
    closed: bool = False
    # Suggested meeting times (bot.services.meetings), and the one picked: by whom (None
    # with a picked time: PeerCoach's auto-schedule) and the pick's version (its buttons).
    slots: tuple[MeetingSlot, ...] = ()
    picked_start: datetime | None = None
    picked_by: str | None = None
    pick_version: int = 0
    # Who last pressed "doesn't work for me" (shown until a time is picked again).
    reopened_by: str | None = None
    # A group formed mid-round for people whose partners could not make it.
    rescue: bool = False
    # Circles format: this session's number in the season of `season_sessions`; user_ids[0]
    # brings the challenge (the seat rotates each session).
    circle_session: int | None = None
    season_sessions: int | None = None


class IntroUpdateNotice(_Notice):
    """Update a group's intro in place for everyone: someone said they met, or the round
    closed and its buttons retire. The delivery job re-renders the intro's own notice."""

    kind: Literal["intro_update"] = "intro_update"
    group_id: int
    met_by: str | None = None
    closed: bool = False
    # The group's picked time changed (read from the group when sent); set when someone
    # reopened the choice.
    reopened_by: str | None = None


class MeetingReminderNotice(_Notice):
    """Told to the group about REMINDER_LEAD before its picked time; `version` is the
    pick's, so a reminder of a time that changed is never sent."""

    kind: Literal["meeting_reminder"] = "meeting_reminder"
    group_id: int
    start: datetime
    version: int


class AutoPickedNotice(_Notice):
    """Told to a group that had not picked a time within `days`: PeerCoach picked `start`."""

    kind: Literal["auto_picked"] = "auto_picked"
    group_id: int
    start: datetime
    days: int


class CalendarInviteNotice(_Notice):
    """A calendar invite (.ics) of a group's picked time, for one member's own DM: the
    time, its length, the member's time zone and the group's size; nothing private."""

    kind: Literal["calendar_invite"] = "calendar_invite"
    group_id: int
    start: datetime
    minutes: int
    tz_name: str | None = None
    people: int = 2
    created: datetime


class NudgeNotice(_Notice):
    kind: Literal["nudge"] = "nudge"
    group_id: int


class CheckinNotice(_Notice):
    kind: Literal["checkin"] = "checkin"
    group_id: int


class UnpairedNotice(_Notice):
    kind: Literal["unpaired"] = "unpaired"


class PartnerUnreachableNotice(_Notice):
    kind: Literal["partner_unreachable"] = "partner_unreachable"


class PartnerCantMakeItNotice(_Notice):
    """Told to the group when one of them can't make it this round."""

    kind: Literal["partner_cant_make_it"] = "partner_cant_make_it"
    user_id: str
    # The one left is being offered someone else who is free this round.
    looking: bool = False


class NoNewPartnerNotice(_Notice):
    """Told 1:1 to someone whose partner dropped out when nobody else is free this round."""

    kind: Literal["no_new_partner"] = "no_new_partner"


class KeepMeetingOfferNotice(_Notice):
    """Asked 1:1 after a chat: keep meeting these partners for 1..max_rounds more rounds?"""

    kind: Literal["keep_meeting_offer"] = "keep_meeting_offer"
    group_id: int
    partners: tuple[str, ...]
    max_rounds: int


class KeepMeetingAgreedNotice(_Notice):
    """Told 1:1 to each member once everyone in the group chose to keep meeting."""

    kind: Literal["keep_meeting_agreed"] = "keep_meeting_agreed"
    group_id: int
    partners: tuple[str, ...]
    rounds: int


class KeepMeetingEndedNotice(_Notice):
    """Told 1:1 when a partner ended keep-meeting: no reason, only that a new peer comes."""

    kind: Literal["keep_meeting_ended"] = "keep_meeting_ended"


class CirclePlacedNotice(_Notice):
    """Told 1:1 to someone who joined mid-season: the circle they fill a gap in."""

    kind: Literal["circle_placed"] = "circle_placed"
    members: tuple[str, ...]
    session: int
    season_sessions: int


class CircleWaitingNotice(_Notice):
    """Told 1:1 to someone who joined mid-season when every circle is full."""

    kind: Literal["circle_waiting"] = "circle_waiting"
    sessions_left: int


class CircleMergedNotice(_Notice):
    """Told 1:1 when a circle fell below three and its members joined another circle."""

    kind: Literal["circle_merged"] = "circle_merged"
    members: tuple[str, ...]


class SharedTakeawayNotice(_Notice):
    """A takeaway its author chose to share with their group."""

    kind: Literal["shared_takeaway"] = "shared_takeaway"
    user_id: str
    takeaway: str


class CommitmentNotice(_Notice):
    """A private 1:1 follow-up of the author's own commitment, asked once."""

    kind: Literal["commitment"] = "commitment"
    reflection_id: int
    commitment: str


class AutoPausedNotice(_Notice):
    kind: Literal["auto_paused"] = "auto_paused"
    missed: int


class AgreementNotice(_Notice):
    """Asks a member to accept the programme's (changed) agreement before their next round."""

    kind: Literal["agreement"] = "agreement"
    version: int
    # The programme whose agreement it is (None: the only one, as before programmes).
    programme_id: int | None = None


class InviteNotice(_Notice):
    kind: Literal["invite"] = "invite"
    inviter: str
    # The programme invited to, when it is not the workspace's first ("" and None otherwise).
    programme: str = ""
    programme_id: int | None = None


class DigestNotice(_Notice):
    """A round digest for an admin; its figures are read when it is sent (a DigestReport)."""

    kind: Literal["digest"] = "digest"
    round_id: int


@dataclass(frozen=True)
class DigestReport:
    """What a digest shows: aggregates only, the cycles to chart oldest first, the last one
    being the digested round."""

    cycles: tuple[CycleFigures, ...]
    membership: MembershipFigures
    # The programme the figures are of.
    programme: str = ""


class IntroUndeliveredNotice(_Notice):
    """Told 1:1 to a member whose group's intro Slack refused for good: it won't count."""

    kind: Literal["intro_undelivered"] = "intro_undelivered"
    group_id: int


class NotPairableNotice(_Notice):
    """Told to a member left out of a round because of their account (an Unpairable value)."""

    kind: Literal["not_pairable"] = "not_pairable"
    reason: str


class DeliveryBlockedNotice(_Notice):
    """Told to admins once when Slack refuses the app's token: messages are on hold."""

    kind: Literal["delivery_blocked"] = "delivery_blocked"
    error: str
    since: datetime


class DeliveryResumedNotice(_Notice):
    """Told to admins when Slack accepts the token again and held messages go out."""

    kind: Literal["delivery_resumed"] = "delivery_resumed"
    error: str
    since: datetime


class OrgImportNotice(_Notice):
    """Told to the admin who imported an org chart: what was stored, every email Slack does
    not know, loops in the chart; or why the file could not be read (`failed`)."""

    kind: Literal["org_import"] = "org_import"
    rows: int = 0
    stored: int = 0
    people: int = 0
    unknown_emails: tuple[str, ...] = ()
    rows_with_unknown: int = 0
    bad_lines: tuple[int, ...] = ()
    cycles: tuple[tuple[str, ...], ...] = ()
    failed: str | None = None


class PulseNotice(_Notice):
    """Asks a member, 1:1, for the programme's anonymous feedback pulse of one cycle."""

    kind: Literal["pulse"] = "pulse"
    pulse_id: int
    # The programme it asks about (someone in two gets one of each); None: notices queued
    # before it was recorded, about "PeerCoach".
    programme: str | None = None


class TextNotice(_Notice):
    """A message whose text and blocks were fixed when it was recorded."""

    kind: Literal["text"] = "text"
    text: str
    blocks: tuple[Block, ...] = ()


Notice = Annotated[
    IntroNotice
    | IntroUpdateNotice
    | MeetingReminderNotice
    | AutoPickedNotice
    | CalendarInviteNotice
    | NudgeNotice
    | CheckinNotice
    | UnpairedNotice
    | PartnerUnreachableNotice
    | PartnerCantMakeItNotice
    | SharedTakeawayNotice
    | CommitmentNotice
    | AutoPausedNotice
    | AgreementNotice
    | InviteNotice
    | DigestNotice
    | IntroUndeliveredNotice
    | NotPairableNotice
    | DeliveryBlockedNotice
    | DeliveryResumedNotice
    | OrgImportNotice
    | NoNewPartnerNotice
    | KeepMeetingOfferNotice
    | KeepMeetingAgreedNotice
    | KeepMeetingEndedNotice
    | CirclePlacedNotice
    | CircleWaitingNotice
    | CircleMergedNotice
    | PulseNotice
    | TextNotice,
    Field(discriminator="kind"),
]

_NOTICE = TypeAdapter[Notice](Notice)


def notice_to_payload(notice: Notice) -> dict[str, Any]:
    """The JSON-ready dict the outbox stores for a notice."""
    return notice.model_dump(mode="json")


def notice_from_payload(payload: dict[str, Any]) -> Notice:
    """Read a stored payload back; raises pydantic.ValidationError if it is not a notice."""
    return _NOTICE.validate_python(payload)
