"""Programme admins and programme settings: who may change what, and a record of changes."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot.domain.enums import AdminSource, OutboxKind, OutboxStatus, ProgrammeFormat
from bot.domain.figures import DeliveryHealth
from bot.domain.messages import DeliveryBlockedNotice, DeliveryResumedNotice, Notice
from bot.domain.programme import ProgramSettings
from bot.matching import MatchRules
from bot.services.membership import ask_to_accept, workspace_for
from bot.services.outbox import enqueue
from db.models import (
    Member,
    MemberStatus,
    OutboxMessage,
    PairGroup,
    ProgramAdmin,
    Round,
    SettingsChange,
    Workspace,
)
from db.upsert import affected_rows, insert_or_ignore

# Changing any of these moves the round slots: slots before the change never run.
SCHEDULE_FIELDS = frozenset({"cadence_weeks", "day_of_week", "hour", "timezone"})


def is_admin(
    session: Session, *, team_id: str, user_id: str, is_slack_admin: bool, now: datetime
) -> bool:
    """Answer whether the person may run the programme, remembering Slack admins we see.

    Slack's workspace admins and owners are admins here too; so is anyone an admin added.
    A Slack admin who loses that role stops being one here the next time we check.
    """
    workspace = workspace_for(session, team_id, now=now)
    return is_admin_known(
        session, workspace, user_id=user_id, is_slack_admin=is_slack_admin, now=now
    )


def is_admin_known(
    session: Session,
    workspace: Workspace,
    *,
    user_id: str,
    is_slack_admin: bool | None,
    now: datetime | None = None,
) -> bool:
    """Like is_admin on a loaded workspace; `is_slack_admin=None` (Slack did not say) answers
    from the database alone: an added admin, or a Slack admin we saw before."""
    row = session.scalar(
        select(ProgramAdmin).where(
            ProgramAdmin.workspace_id == workspace.id, ProgramAdmin.slack_user_id == user_id
        )
    )
    if is_slack_admin is None:
        return row is not None
    if is_slack_admin and row is None:
        insert_or_ignore(
            session,
            ProgramAdmin.__table__,  # type: ignore[arg-type]
            {
                "workspace_id": workspace.id,
                "slack_user_id": user_id,
                "source": AdminSource.SLACK_ADMIN,
                "added_at": now or workspace.created_at,
            },
            conflict_columns=("workspace_id", "slack_user_id"),
        )
        return True
    if not is_slack_admin and row is not None and row.source == AdminSource.SLACK_ADMIN:
        session.delete(row)
        return False
    return is_slack_admin or row is not None


def is_added_admin(session: Session, *, team_id: str, user_id: str) -> bool:
    """Answer from the database alone whether someone was made an admin by another admin."""
    return (
        session.scalar(
            select(ProgramAdmin.id)
            .join(Workspace, Workspace.id == ProgramAdmin.workspace_id)
            .where(
                Workspace.team_id == team_id,
                ProgramAdmin.slack_user_id == user_id,
                ProgramAdmin.source == AdminSource.ADDED,
            )
        )
        is not None
    )


def admin_ids(session: Session, workspace_id: int) -> list[str]:
    return list(
        session.scalars(
            select(ProgramAdmin.slack_user_id)
            .where(ProgramAdmin.workspace_id == workspace_id)
            .order_by(ProgramAdmin.id)
        )
    )


def settings_of(session: Session, workspace: Workspace) -> ProgramSettings:
    added = session.scalars(
        select(ProgramAdmin.slack_user_id)
        .where(ProgramAdmin.workspace_id == workspace.id, ProgramAdmin.source == AdminSource.ADDED)
        .order_by(ProgramAdmin.id)
    )
    return ProgramSettings(
        cadence_weeks=workspace.cadence_weeks,
        day_of_week=workspace.day_of_week,
        hour=workspace.hour,
        timezone=workspace.timezone,
        group_size=workspace.group_size,
        repeat_window=workspace.repeat_window,
        prefer_same_level=workspace.level_weight > 0,
        prefer_shared_goals=workspace.goal_weight > 0,
        prefer_tz_overlap=workspace.tz_weight > 0,
        prefer_cross_team=workspace.cross_team_weight > 0,
        prompt_themes=tuple(workspace.prompt_themes or ()),
        admins=tuple(added),
        retention_months=workspace.retention_months,
        agreement_text=workspace.agreement_text or "",
        include_guests=workspace.include_guests,
        format=ProgrammeFormat(workspace.format),
        season_sessions=workspace.season_sessions,
        circle_size=workspace.circle_size,
        keep_meeting_max=workspace.keep_meeting_max,
        pulse_every_cycles=workspace.pulse_every_cycles,
    )


def match_rules_of(workspace: Workspace) -> MatchRules:
    """The matcher's rules as the workspace's admins set them (circles: the circle size)."""
    circles = workspace.format == ProgrammeFormat.CIRCLES
    return MatchRules(
        group_size=workspace.circle_size if circles else workspace.group_size,
        repeat_window=workspace.repeat_window,
        level_weight=workspace.level_weight,
        goal_weight=workspace.goal_weight,
        tz_weight=workspace.tz_weight,
        cross_team_weight=workspace.cross_team_weight,
    )


def apply_settings(
    session: Session, workspace: Workspace, new: ProgramSettings, *, changed_by: str, now: datetime
) -> list[SettingsChange]:
    """Store new settings (from the next round on) and record each change made.

    A schedule change is stamped on the workspace (schedule_changed_at): it applies to slots
    after the change and after the current round (bot.schedule.due_slot).
    """
    old = settings_of(session, workspace)
    changes = []
    for name, new_value in asdict(new).items():
        old_value = getattr(old, name)
        if _same(old_value, new_value):
            continue
        changes.append(
            SettingsChange(
                workspace_id=workspace.id,
                changed_by=changed_by,
                changed_at=now,
                field=name,
                old_value=_text(old_value),
                new_value=_text(new_value),
            )
        )
    workspace.cadence_weeks, workspace.day_of_week = new.cadence_weeks, new.day_of_week
    workspace.hour, workspace.timezone, workspace.group_size = (
        new.hour,
        new.timezone,
        new.group_size,
    )
    workspace.repeat_window = new.repeat_window
    workspace.level_weight = 1.0 if new.prefer_same_level else 0.0
    workspace.goal_weight = 1.0 if new.prefer_shared_goals else 0.0
    workspace.tz_weight = 1.0 if new.prefer_tz_overlap else 0.0
    workspace.cross_team_weight = 1.0 if new.prefer_cross_team else 0.0
    workspace.prompt_themes = list(new.prompt_themes)
    workspace.retention_months = new.retention_months
    if new.agreement_text.strip() != (workspace.agreement_text or ""):
        # A new agreement: everyone accepts it before their next round.
        workspace.agreement_text = new.agreement_text.strip() or None
        workspace.agreement_version += 1
        for member in session.scalars(
            select(Member).where(
                Member.workspace_id == workspace.id,
                Member.status.in_([MemberStatus.ACTIVE.value, MemberStatus.PAUSED.value]),
            )
        ):
            ask_to_accept(session, workspace, member.slack_user_id, now)
    workspace.include_guests = new.include_guests
    workspace.format = new.format.value
    workspace.season_sessions, workspace.circle_size = new.season_sessions, new.circle_size
    workspace.keep_meeting_max = new.keep_meeting_max
    workspace.pulse_every_cycles = new.pulse_every_cycles
    if any(c.field in SCHEDULE_FIELDS for c in changes):
        workspace.schedule_changed_at = now
    _set_added_admins(session, workspace, new.admins, changed_by, now)
    session.add_all(changes)
    return changes


def _same(a: object, b: object) -> bool:
    if isinstance(a, tuple | list) and isinstance(b, tuple | list):
        return list(a) == list(b)
    return a == b


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, tuple | list):
        return ",".join(str(v) for v in value)
    return str(value)[:500]


def _set_added_admins(
    session: Session, workspace: Workspace, wanted: tuple[str, ...], changed_by: str, now: datetime
) -> None:
    rows = {
        a.slack_user_id: a
        for a in session.scalars(
            select(ProgramAdmin).where(ProgramAdmin.workspace_id == workspace.id)
        )
    }
    for user_id, row in rows.items():
        if row.source == AdminSource.ADDED and user_id not in wanted:
            session.delete(row)
    for user_id in wanted:
        if user_id not in rows:
            session.add(
                ProgramAdmin(
                    workspace_id=workspace.id,
                    slack_user_id=user_id,
                    source=AdminSource.ADDED,
                    added_by=changed_by,
                    added_at=now,
                )
            )


def block_delivery(session: Session, workspace_id: int, error: str, *, now: datetime) -> bool:
    """Stop a workspace's delivery because Slack refused its token with `error`.

    Returns True for the request that stopped it (a conditional update: of several senders
    meeting the error at once, one does), which also records the admins' notice, once.
    """
    stopped = affected_rows(
        session.execute(
            update(Workspace)
            .where(Workspace.id == workspace_id, Workspace.delivery_blocked_at.is_(None))
            .values(delivery_blocked_at=now, delivery_blocked_error=error[:32])
            .execution_options(synchronize_session=False)
        )
    )
    if stopped != 1:
        return False
    _tell_admins(
        session,
        workspace_id,
        f"delivery_blocked:{now.isoformat()}",
        DeliveryBlockedNotice(error=error, since=now),
        now,
    )
    return True


def _tell_admins(
    session: Session, workspace_id: int, key: str, notice: Notice, now: datetime
) -> None:
    """Queue one notice to every programme admin, once per admin and `key`."""
    for admin in admin_ids(session, workspace_id):
        enqueue(
            session,
            workspace_id=workspace_id,
            dedupe_key=f"{key}:{admin}",
            recipients=[admin],
            notice=notice,
            now=now,
        )


def resume_delivery(session: Session, workspace_id: int, *, now: datetime) -> bool:
    """Resume a workspace's delivery once Slack accepts the token again; tell the admins.

    Notices of the stop that never got out (Slack refused those too) are dropped: the one
    that goes out now says both that it stopped and that it works again.
    Returns True for the request that resumed it.
    """
    workspace = session.get(Workspace, workspace_id, with_for_update=True)
    if workspace is None or workspace.delivery_blocked_at is None:
        return False
    since, error = workspace.delivery_blocked_at, workspace.delivery_blocked_error or ""
    workspace.delivery_blocked_at = workspace.delivery_blocked_error = None
    for unsent in session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.workspace_id == workspace_id,
            OutboxMessage.kind == OutboxKind.DELIVERY_BLOCKED,
            OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING]),
        )
    ):
        unsent.status = OutboxStatus.DROPPED
    _tell_admins(
        session,
        workspace_id,
        f"delivery_resumed:{since.isoformat()}",
        DeliveryResumedNotice(error=error, since=since),
        now,
    )
    return True


def delivery_health(session: Session, workspace_id: int) -> DeliveryHealth:
    """What admins see about delivery: whether Slack refuses the token (since when, why)
    and how many groups of the latest round never got their intro."""
    workspace = session.get(Workspace, workspace_id)
    assert workspace is not None
    latest = session.scalar(
        select(Round.id)
        .where(Round.workspace_id == workspace_id)
        .order_by(Round.started_at.desc(), Round.id.desc())
        .limit(1)
    )
    undelivered = session.scalar(
        select(func.count())
        .select_from(PairGroup)
        .where(PairGroup.round_id == latest, PairGroup.undelivered_at.is_not(None))
    )
    return DeliveryHealth(
        blocked_since=workspace.delivery_blocked_at,
        blocked_error=workspace.delivery_blocked_error,
        undelivered_groups=int(undelivered or 0),
    )
