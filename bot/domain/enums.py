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


class OutboxStatus(enum.StrEnum):
    """pending -> sending (claimed) -> sent; or failed, cancelled (group called off), dropped
    (a follow-up of a round that closed before it went out)."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"
    DROPPED = "dropped"


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
