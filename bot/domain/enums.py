"""The fixed vocabularies the app stores and switches on, as StrEnums (values are stored)."""

from __future__ import annotations

import enum


class MemberStatus(enum.StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    LEFT = "left"
    # Slack refused to reach them (deactivated or removed account); not their own choice.
    INACTIVE = "inactive"


class OutboxKind(enum.StrEnum):
    """What an outbox message is; also the `kind` of its notice payload."""

    INTRO = "intro"
    INTRO_UPDATE = "intro_update"
    NUDGE = "nudge"
    CHECKIN = "checkin"
    UNPAIRED = "unpaired"
    PARTNER_UNREACHABLE = "partner_unreachable"
    PARTNER_CANT_MAKE_IT = "partner_cant_make_it"
    SHARED_TAKEAWAY = "shared_takeaway"
    COMMITMENT = "commitment"
    AUTO_PAUSED = "auto_paused"
    INVITE = "invite"
    AGREEMENT = "agreement"
    DIGEST = "digest"
    TEXT = "text"
    INTRO_UNDELIVERED = "intro_undelivered"
    NOT_PAIRABLE = "not_pairable"
    DELIVERY_BLOCKED = "delivery_blocked"
    DELIVERY_RESUMED = "delivery_resumed"
    MEETING_REMINDER = "meeting_reminder"
    AUTO_PICKED = "auto_picked"
    CALENDAR_INVITE = "calendar_invite"
    ORG_IMPORT = "org_import"
    NO_NEW_PARTNER = "no_new_partner"
    KEEP_MEETING_OFFER = "keep_meeting_offer"
    KEEP_MEETING_AGREED = "keep_meeting_agreed"
    KEEP_MEETING_ENDED = "keep_meeting_ended"
    CIRCLE_PLACED = "circle_placed"
    CIRCLE_WAITING = "circle_waiting"
    CIRCLE_MERGED = "circle_merged"
    PULSE = "pulse"


class OutboxStatus(enum.StrEnum):
    """pending -> sending (claimed) -> sent; or failed, cancelled (group called off), dropped
    (a follow-up of a round that closed before it went out)."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"
    DROPPED = "dropped"


class ProgrammeFormat(enum.StrEnum):
    """How a programme groups people: re-matched each round, or circles kept for a season."""

    PAIRS = "pairs"
    CIRCLES = "circles"


class RoundKind(enum.StrEnum):
    SCHEDULED = "scheduled"
    MANUAL = "manual"


class AdminSource(enum.StrEnum):
    """How someone became a programme admin."""

    ADDED = "added"  # by another admin, in the settings modal
    SLACK_ADMIN = "slack_admin"  # a workspace admin or owner, as users.info said


class CommitmentOutcome(enum.StrEnum):
    DONE = "done"
    PARTLY = "partly"
    NOT_YET = "not_yet"


class JoinOutcome(enum.StrEnum):
    JOINED = "joined"
    REJOINED = "rejoined"
    UPDATED = "updated"
    # Joining again took them out of an open-ended (e.g. automatic) pause.
    RESUMED = "resumed"
    # Profile saved; they stay paused until the date they chose (and are told so).
    STILL_PAUSED = "still_paused"


class Unpairable(enum.StrEnum):
    """Why a Slack account is not invited or paired (bot.services.membership.why_not_pairable)."""

    APP = "app"  # PeerCoach's own bot user
    BOT = "bot"  # another app's bot, or Slackbot
    DEACTIVATED = "deactivated"
    GUEST = "guest"  # single- or multi-channel guest, while the programme leaves guests out
    EXTERNAL = "external"  # someone from another organisation in a shared channel
