"""The database schema: every row belongs to a workspace (Slack team)."""

from __future__ import annotations

from datetime import datetime

from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    text,
)
from sqlalchemy import false as sa_false
from sqlalchemy import true as sa_true
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from bot.domain.enums import MemberStatus, OutboxStatus
from db.types import EncryptedJSON, EncryptedText, UtcDateTime

# Named constraints keep later migrations (and SQLite batch mode) able to refer to them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UtcDateTime()}


class Workspace(Base):
    """A Slack workspace that installed PeerCoach; its programmes hold the settings."""

    __tablename__ = "workspaces"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), unique=True)
    # The Enterprise Grid org, when there is one (an org-wide install is found by it).
    enterprise_id: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime]
    # Set by app_uninstalled / tokens_revoked: all work stops, and the data is deleted after
    # the grace period unless the app is installed again (which clears it).
    uninstalled_at: Mapped[datetime | None]
    # Set while Slack refuses the app's token (invalid_auth, account_inactive, ...): delivery
    # for the workspace stops until a probe (auth.test) succeeds again.
    delivery_blocked_at: Mapped[datetime | None]
    delivery_blocked_error: Mapped[str | None] = mapped_column(String(32))

    members: Mapped[list[Member]] = relationship(back_populates="workspace")
    programmes: Mapped[list[Programme]] = relationship(
        back_populates="workspace", order_by="Programme.id"
    )


class Programme(Base):
    """One programme of a workspace: its name, settings, schedule state and linked channel.

    Everything per programme hangs off it: memberships (members rows), rounds, owners.
    """

    __tablename__ = "programmes"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(String(300), default="", server_default="")
    # bot.domain.programme.ProgramSettings.to_stored(): cadence, day, hour, time zone, group
    # size, matching rules, prompt themes, guest policy, retention, agreement text, ...
    settings: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    # A channel whose members are the programme's invitation list, if linked.
    channel_id: Mapped[str | None] = mapped_column(String(32))
    # Closed programmes take no new members (their members carry on).
    is_open: Mapped[bool] = mapped_column(default=True, server_default=sa_true())
    created_at: Mapped[datetime]
    # The agreement's version goes up when its text changes; members accept the new one
    # before their next round.
    agreement_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # When a round last started (any kind). Starting a round updates it under a row lock, so
    # two requests or processes racing to start one serialize here and the second sees the
    # first (bot.services.rounds.claim_round_start).
    last_round_started_at: Mapped[datetime | None]
    # When the schedule (cadence, day, hour, time zone) last changed: slots before it never
    # run, not even as a catch-up.
    schedule_changed_at: Mapped[datetime | None]

    workspace: Mapped[Workspace] = relationship(back_populates="programmes")


class Member(Base):
    """A person's membership of one programme (or a past one): status, profile, time zone.

    Someone in two programmes has two rows; everything hanging off a row (pause, history,
    reflections, goal, commitments) is therefore per programme.
    """

    __tablename__ = "members"
    __table_args__ = (UniqueConstraint("programme_id", "slack_user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    programme_id: Mapped[int] = mapped_column(
        ForeignKey("programmes.id", ondelete="CASCADE"), index=True
    )
    slack_user_id: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default=MemberStatus.ACTIVE.value)
    paused_until: Mapped[datetime | None]
    joined_at: Mapped[datetime]
    left_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]
    level: Mapped[int | None] = mapped_column(Integer)
    team: Mapped[str | None] = mapped_column(String(80))
    goals: Mapped[list[str]] = mapped_column(JSON, default=list)
    tz_name: Mapped[str | None] = mapped_column(String(64))
    tz_offset_minutes: Mapped[int | None] = mapped_column(Integer)
    # The agreement version this member accepted, and when.
    agreement_version: Mapped[int | None] = mapped_column(Integer)
    agreement_accepted_at: Mapped[datetime | None]
    # Their private development goal: only they ever see it.
    goal: Mapped[str | None] = mapped_column(EncryptedText())
    # Rounds in a row this member let pass without any response; reset by any response.
    missed_streak: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Working hours in their own time zone (bot.domain.meetings.WorkingHours): minutes after
    # local midnight, working days (0 = Monday) and days kept free of meetings.
    work_start_minute: Mapped[int] = mapped_column(Integer, default=540, server_default="540")
    work_end_minute: Mapped[int] = mapped_column(Integer, default=1020, server_default="1020")
    work_days: Mapped[list[int]] = mapped_column(
        JSON, default=lambda: [0, 1, 2, 3, 4], server_default="[0, 1, 2, 3, 4]"
    )
    no_meeting_days: Mapped[list[int]] = mapped_column(JSON, default=list, server_default="[]")

    workspace: Mapped[Workspace] = relationship(back_populates="members")
    programme: Mapped[Programme] = relationship()
    exclusions: Mapped[list[Exclusion]] = relationship(
        back_populates="member", cascade="all, delete-orphan", order_by="Exclusion.id"
    )


class Exclusion(Base):
    """One entry on a member's private "never pair me with" list."""

    __tablename__ = "exclusions"
    __table_args__ = (UniqueConstraint("member_id", "excluded_user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    # A Slack user id, not a member id: people may exclude someone who has not joined.
    excluded_user_id: Mapped[str] = mapped_column(String(32))

    member: Mapped[Member] = relationship(back_populates="exclusions")


class ReportingLine(Base):
    """One line of the imported org chart: a person and one of their managers (Slack user
    ids; the emails they came from are not kept). An import replaces all of a workspace's."""

    __tablename__ = "reporting_lines"
    __table_args__ = (UniqueConstraint("workspace_id", "slack_user_id", "manager_user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    slack_user_id: Mapped[str] = mapped_column(String(32))
    manager_user_id: Mapped[str] = mapped_column(String(32))
    imported_at: Mapped[datetime]


class Round(Base):
    """One pairing cycle of a programme. A scheduled round exists once per period."""

    __tablename__ = "rounds"
    __table_args__ = (UniqueConstraint("programme_id", "period_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id", ondelete="CASCADE"))
    # "2026-11-30T09:00:00+00:00" for a scheduled round, "manual:<started_at>" for one run
    # by an admin; the unique key is what makes scheduled rounds idempotent.
    period_key: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    seed: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime]
    nudge_at: Mapped[datetime]
    checkin_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    unmatched: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Circles format: the season this round belongs to and its session in it (1..N).
    season: Mapped[int | None] = mapped_column(Integer)
    session: Mapped[int | None] = mapped_column(Integer)

    groups: Mapped[list[PairGroup]] = relationship(back_populates="round", order_by="PairGroup.id")
    programme: Mapped[Programme] = relationship()


class PairGroup(Base):
    """A pair or trio in a round, and its group DM."""

    __tablename__ = "pair_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    channel_id: Mapped[str | None] = mapped_column(String(32))
    first_user_id: Mapped[str] = mapped_column(String(32))
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    prompt_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    met_at: Mapped[datetime | None]
    # Set when delivery found a member unreachable and the group could not go ahead.
    cancelled_at: Mapped[datetime | None]
    # Set when Slack refused the group's intro for good: the round never counts against them.
    undelivered_at: Mapped[datetime | None]
    # Suggested meeting times (bot.domain.meetings.MeetingSlot as JSON), and the one picked:
    # its start, who picked it (None with a start: PeerCoach's auto-schedule), when, and a
    # version that every pick or reopen raises (reminders and buttons carry it).
    slots: Mapped[list[dict[str, object]]] = mapped_column(JSON, default=list, server_default="[]")
    picked_start: Mapped[datetime | None]
    picked_by: Mapped[str | None] = mapped_column(String(32))
    picked_at: Mapped[datetime | None]
    pick_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    auto_picked_at: Mapped[datetime | None]
    # The coaching circle this group is a session of (circles format), if any.
    circle_id: Mapped[int | None] = mapped_column(Integer)
    # Set on a group kept together by its members' wish: the group whose members all chose
    # to keep meeting (keep_meetings rows), so its kept rounds can be counted.
    kept_from_id: Mapped[int | None] = mapped_column(Integer)
    # Set on a group formed within a round for someone whose partner could not make it.
    rescue: Mapped[bool] = mapped_column(default=False, server_default=sa_false())

    round: Mapped[Round] = relationship(back_populates="groups")
    seats: Mapped[list[GroupSeat]] = relationship(
        back_populates="group", cascade="all, delete-orphan", order_by="GroupSeat.position"
    )


class GroupSeat(Base):
    """One member's place in a group, with what they told us about the chat."""

    __tablename__ = "group_seats"
    __table_args__ = (
        UniqueConstraint("group_id", "member_id"),
        # Who paid for a least-bad meeting slot before: a round reads it for every member,
        # and few seats ever have a cost (a partial index holds only those).
        Index(
            "ix_group_seats_slot_cost",
            "member_id",
            sqlite_where=text("slot_cost IS NOT NULL"),
            postgresql_where=text("slot_cost IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    group_id: Mapped[int] = mapped_column(ForeignKey("pair_groups.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    slack_user_id: Mapped[str] = mapped_column(String(32))
    position: Mapped[int] = mapped_column(Integer)
    met_at: Mapped[datetime | None]
    cant_make_it_at: Mapped[datetime | None]
    removed_at: Mapped[datetime | None]
    # "morning" / "evening" when the group's suggested time lay outside this member's
    # working hours: their history of such costs rotates the next one to someone else.
    slot_cost: Mapped[str | None] = mapped_column(String(8))
    # When this seat's person was given a new partner in the same round (their partner could
    # not make it), or told none was free: set once, by a conditional update.
    rescued_at: Mapped[datetime | None]

    group: Mapped[PairGroup] = relationship(back_populates="seats")


class KeepMeeting(Base):
    """One person's private wish to keep meeting the rest of a group for `rounds` more rounds.

    The group stays together only while every member of it has a wish that has not ended.
    """

    __tablename__ = "keep_meetings"
    __table_args__ = (UniqueConstraint("group_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    group_id: Mapped[int] = mapped_column(ForeignKey("pair_groups.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    rounds: Mapped[int] = mapped_column(Integer)
    chosen_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


class Circle(Base):
    """A coaching circle of one season (circles format); its sessions are pair_groups."""

    __tablename__ = "circles"
    __table_args__ = (UniqueConstraint("programme_id", "season", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id", ondelete="CASCADE"))
    season: Mapped[int] = mapped_column(Integer)
    number: Mapped[int] = mapped_column(Integer)
    formed_at: Mapped[datetime]
    # Set when the circle fell below three and its members were merged into others.
    merged_at: Mapped[datetime | None]


class CircleSeat(Base):
    """A member's place in a season's circle: one circle per member and season."""

    __tablename__ = "circle_seats"
    __table_args__ = (UniqueConstraint("programme_id", "season", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id", ondelete="CASCADE"))
    circle_id: Mapped[int] = mapped_column(ForeignKey("circles.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    season: Mapped[int] = mapped_column(Integer)
    joined_at: Mapped[datetime]
    # Set when the member left the programme (or their circle was merged away from them).
    left_at: Mapped[datetime | None]


class Reflection(Base):
    """A member's private note on one chat. Only its author ever sees the text."""

    __tablename__ = "reflections"
    __table_args__ = (UniqueConstraint("group_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    group_id: Mapped[int] = mapped_column(ForeignKey("pair_groups.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    usefulness: Mapped[int] = mapped_column(Integer)
    # Free text, encrypted at rest; deleted after the programme's retention period or when the
    # author deletes their data (the row, its rating and commitment_made stay for aggregates).
    takeaway: Mapped[str | None] = mapped_column(EncryptedText())
    commitment: Mapped[str | None] = mapped_column(EncryptedText())
    # That a commitment was made, kept after its text is deleted (programme figures count it).
    commitment_made: Mapped[bool] = mapped_column(default=False, server_default=sa_false())
    share_takeaway: Mapped[bool] = mapped_column(default=False)
    # Progress on the member's own goal since their last chat: 0 none .. 3 achieved.
    goal_progress: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # done / partly / not_yet, answered when the next round asks.
    commitment_outcome: Mapped[str | None] = mapped_column(String(16))
    commitment_outcome_at: Mapped[datetime | None]


class PromptShown(Base):
    """That a prompt was shown to a member, so the deck is not repeated until exhausted."""

    __tablename__ = "prompts_shown"
    # A round start reads every member's prompt history in one ordered scan of this index;
    # it leads with member_id, so it also serves every lookup by member (no index of its own).
    __table_args__ = (Index("ix_prompts_shown_history", "member_id", "id", "prompt_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    prompt_id: Mapped[str] = mapped_column(String(64))
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))


class OutboxMessage(Base):
    """A message recorded before it is sent, so a crash neither loses nor repeats it."""

    __tablename__ = "outbox"
    __table_args__ = (UniqueConstraint("workspace_id", "dedupe_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    # e.g. "intro:group:42", "nudge:group:42", "unpaired:round:7:U123": one message per key.
    dedupe_key: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(32))
    # Indexed: closing a round drops its groups' unsent follow-ups by group.
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("pair_groups.id", ondelete="CASCADE"), index=True
    )
    # Who the message goes to: a group DM is opened with all of them (one id: a 1:1 DM).
    recipients: Mapped[list[str]] = mapped_column(JSON)
    # The notice (bot.domain.messages), rendered when sent: facts and ids, not Block Kit.
    # Encrypted at rest: a commitment follow-up carries the author's own commitment text.
    payload: Mapped[dict[str, object]] = mapped_column(EncryptedJSON())
    # An OutboxStatus: pending -> sending (claimed until claimed_until) -> sent; or failed,
    # cancelled (group called off), dropped (a follow-up of a round that closed first).
    status: Mapped[str] = mapped_column(String(16), default=OutboxStatus.PENDING.value, index=True)
    claimed_until: Mapped[datetime | None]
    channel_id: Mapped[str | None] = mapped_column(String(32))
    ts: Mapped[str | None] = mapped_column(String(32))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]
    not_before: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class Pulse(Base):
    """The anonymous feedback pulse of one round (cycle): members are asked once, during it."""

    __tablename__ = "pulses"
    __table_args__ = (UniqueConstraint("round_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))


class PulseResponder(Base):
    """That a member answered a pulse, and nothing of what: the unique key makes a double
    submission one answer. Kept apart from PulseAnswer, with nothing joining the two."""

    __tablename__ = "pulse_responders"
    __table_args__ = (UniqueConstraint("pulse_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    pulse_id: Mapped[int] = mapped_column(ForeignKey("pulses.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)


class PulseAnswer(Base):
    """One anonymous pulse answer: no member, no time (its pulse names the cycle), and a
    random id (bot.services.pulse) so no order of rows follows the order of answers."""

    __tablename__ = "pulse_answers"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False
    )
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    pulse_id: Mapped[int] = mapped_column(ForeignKey("pulses.id", ondelete="CASCADE"), index=True)
    # How useful the programme is to them, 1..5.
    score: Mapped[int] = mapped_column(Integer)
    # A suggestion, kept (encrypted) only when they ticked "share it with the organisers".
    suggestion: Mapped[str | None] = mapped_column(EncryptedText())
    shared: Mapped[bool] = mapped_column(default=False, server_default=sa_false())


class SchedulerLease(Base):
    """Who may run the scheduler: one holder per deployment, renewed while it lives."""

    __tablename__ = "scheduler_lease"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime]


class ProgramAdmin(Base):
    """Someone who may run a programme: an owner added by an admin (`programme_id` set), or
    a Slack admin seen using PeerCoach (`programme_id` None: every programme)."""

    __tablename__ = "program_admins"
    __table_args__ = (UniqueConstraint("workspace_id", "slack_user_id", "programme_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    programme_id: Mapped[int | None] = mapped_column(
        ForeignKey("programmes.id", ondelete="CASCADE")
    )
    slack_user_id: Mapped[str] = mapped_column(String(32))
    # "added" by another admin, or "slack_admin" (a workspace admin/owner, per users.info).
    source: Mapped[str] = mapped_column(String(16))
    added_by: Mapped[str | None] = mapped_column(String(32))
    added_at: Mapped[datetime]


class SlackRole(Base):
    """Whether Slack said a person who used PeerCoach is a workspace admin or owner, and as of
    when (users.info when they joined or opened the App Home, then `user_change` events).
    Lets an App Home open skip users.info; admin actions still ask Slack (see
    docs/security.md)."""

    __tablename__ = "slack_roles"
    __table_args__ = (UniqueConstraint("workspace_id", "slack_user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    slack_user_id: Mapped[str] = mapped_column(String(32))
    is_admin: Mapped[bool]
    # When Slack gave this answer (users.info: when we asked; an event: its event_time, so
    # that a late or retried event older than the answer recorded changes nothing).
    checked_at: Mapped[datetime]


class SettingsChange(Base):
    """Who changed which programme setting, from what to what, and when."""

    __tablename__ = "settings_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id", ondelete="CASCADE"))
    changed_by: Mapped[str] = mapped_column(String(32))
    changed_at: Mapped[datetime]
    field: Mapped[str] = mapped_column(String(32))
    old_value: Mapped[str | None] = mapped_column(String(500))
    new_value: Mapped[str | None] = mapped_column(String(500))


# slack-sdk's OAuth installation and state stores keep their rows in these tables; they are
# part of our metadata so Alembic creates and checks them like ours. Bot and user tokens are
# stored encrypted (bot.installations), as text rather than slack-sdk's VARCHAR(200).
INSTALLATIONS_TABLE, BOTS_TABLE, OAUTH_STATES_TABLE = (
    "slack_installations",
    "slack_bots",
    "slack_oauth_states",
)
installations: Table = SQLAlchemyInstallationStore.build_installations_table(
    Base.metadata, INSTALLATIONS_TABLE
)
bots: Table = SQLAlchemyInstallationStore.build_bots_table(Base.metadata, BOTS_TABLE)
oauth_states: Table = SQLAlchemyOAuthStateStore.build_oauth_states_table(
    Base.metadata, OAUTH_STATES_TABLE
)
TOKEN_COLUMNS = {
    INSTALLATIONS_TABLE: ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token"),
    BOTS_TABLE: ("bot_token", "bot_refresh_token"),
}
for _table in (installations, bots):
    for _name in TOKEN_COLUMNS[_table.name]:
        # Written already encrypted by bot.installations; typed so key rotation finds them.
        _table.c[_name].type = EncryptedText()
