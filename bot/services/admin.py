"""Programme admins and programme settings: who may change what, and a record of changes."""

from __future__ import annotations

from dataclasses import asdict, replace
from datetime import datetime, timedelta

from sqlalchemy import Connection, bindparam, delete, func, or_, select, update
from sqlalchemy.orm import Session

from bot.domain.enums import AdminSource, OutboxKind, OutboxStatus, ProgrammeFormat
from bot.domain.figures import DeliveryHealth
from bot.domain.messages import DeliveryBlockedNotice, DeliveryResumedNotice, Notice
from bot.domain.programme import ProgramSettings
from bot.matching import MatchRules
from bot.services.membership import ask_to_accept, settings_of_programme, workspace_for
from bot.services.outbox import enqueue
from db.models import (
    Member,
    MemberStatus,
    OutboxMessage,
    PairGroup,
    ProgramAdmin,
    Programme,
    Round,
    SettingsChange,
    SlackRole,
    Workspace,
)
from db.session import connection_of
from db.upsert import affected_rows, insert_or_ignore, upsert

# Changing any of these moves the round slots: slots before the change never run.
SCHEDULE_FIELDS = frozenset({"cadence_weeks", "day_of_week", "hour", "timezone"})
# Slack's "not an admin" (users.info, or a user_change event) spares an App Home open
# users.info for this long; once it is older, the next open asks Slack again. (user_change
# events keep it current; this bounds what a missed event can hide: a promotion.)
NOT_ADMIN_TRUSTED_FOR = timedelta(days=7)


def is_admin(
    session: Session,
    *,
    team_id: str,
    user_id: str,
    is_slack_admin: bool,
    now: datetime,
    programme_id: int | None = None,
) -> bool:
    """Answer whether the person may run the programme (`programme_id`; None: any one of
    the workspace's), remembering Slack admins we see.

    Slack's workspace admins and owners run every programme; an owner added by an admin runs
    the programme they were added to. A Slack admin who loses that role stops being one here
    the next time we check.
    """
    workspace = workspace_for(session, team_id, now=now)
    return is_admin_known(
        session,
        workspace,
        user_id=user_id,
        is_slack_admin=is_slack_admin,
        now=now,
        programme_id=programme_id,
    )


def is_admin_known(
    session: Session,
    workspace: Workspace,
    *,
    user_id: str,
    is_slack_admin: bool | None,
    now: datetime | None = None,
    programme_id: int | None = None,
) -> bool:
    """Like is_admin on a loaded workspace; `is_slack_admin=None` (Slack did not say) answers
    from the database alone: an added owner, or a Slack admin we saw before."""
    rows = list(
        session.scalars(
            select(ProgramAdmin).where(
                ProgramAdmin.workspace_id == workspace.id, ProgramAdmin.slack_user_id == user_id
            )
        )
    )
    slack_row = next((r for r in rows if r.source == AdminSource.SLACK_ADMIN), None)
    # An owner row without a programme (added before programmes existed) owns them all.
    owner = any(
        r.source == AdminSource.ADDED
        and (programme_id is None or r.programme_id in (None, programme_id))
        for r in rows
    )
    if is_slack_admin is None:
        return owner or slack_row is not None
    if is_slack_admin and slack_row is None:
        _record_slack_admin(session, workspace.id, user_id, now or workspace.created_at)
        return True
    if not is_slack_admin and slack_row is not None:
        _drop_slack_admin(session, workspace.id, user_id)
    return is_slack_admin or owner


def _record_slack_admin(session: Session, workspace_id: int, user_id: str, now: datetime) -> None:
    """The person's Slack-admin program_admins row (all programmes), once (the unique key)."""
    insert_or_ignore(
        session,
        ProgramAdmin.__table__,  # type: ignore[arg-type]
        {
            "workspace_id": workspace_id,
            "programme_id": None,
            "slack_user_id": user_id,
            "source": AdminSource.SLACK_ADMIN,
            "added_at": now,
        },
        conflict_columns=("workspace_id", "slack_user_id", "programme_id"),
    )


def _drop_slack_admin(session: Session, workspace_id: int, user_id: str) -> int:
    """Delete the person's Slack-admin program_admins row; return how many rows went."""
    return affected_rows(
        session.execute(
            delete(ProgramAdmin).where(
                ProgramAdmin.workspace_id == workspace_id,
                ProgramAdmin.slack_user_id == user_id,
                ProgramAdmin.source == AdminSource.SLACK_ADMIN,
            )
        )
    )


def record_slack_role(
    session: Session, *, team_id: str, user_id: str, is_admin: bool, now: datetime
) -> None:
    """Store what users.info said just now about the person's Slack role (slack_roles) and
    keep their Slack-admin program_admins row in step with it.

    The role is kept only while the person takes part (holds a membership of the workspace):
    nothing is kept of people who never joined, and an answer that arrives after the person
    deleted their data (a render or a join's look-up that asked Slack just before) is
    dropped. The membership is held (FOR SHARE on PostgreSQL; SQLite's write lock) until
    this unit of work ends, so an erasure either committed before and is seen, or waits and
    then deletes what was stored here.
    """
    workspace = workspace_for(session, team_id, now=now)
    taking_part = session.scalar(
        select(Member.id)
        .where(Member.workspace_id == workspace.id, Member.slack_user_id == user_id)
        .limit(1)
        .with_for_update(read=True)
    )
    if taking_part is None:
        is_admin_known(session, workspace, user_id=user_id, is_slack_admin=is_admin, now=now)
        return
    upsert(
        session,
        SlackRole.__table__,  # type: ignore[arg-type]
        {
            "workspace_id": workspace.id,
            "slack_user_id": user_id,
            "is_admin": is_admin,
            "checked_at": now,
        },
        conflict_columns=("workspace_id", "slack_user_id"),
        update_columns=("is_admin", "checked_at"),
    )
    is_admin_known(session, workspace, user_id=user_id, is_slack_admin=is_admin, now=now)


def slack_role_changed(
    session: Session, *, team_id: str, user_id: str, is_admin: bool, now: datetime
) -> bool | None:
    """Apply a `user_change` event that happened at `now` (Slack's word on the person's
    role): the recorded answer of someone PeerCoach knows is updated and their Slack-admin
    row follows it. Nobody new is recorded (people who never used PeerCoach leave no row); a
    demotion still drops a Slack-admin row recorded before slack_roles existed. Returns
    whether anything changed, or None when the recorded answer is newer than the event
    (users.info asked after it happened, or a later event): old news changes nothing.

    Events may arrive late or twice; one older than the recorded answer is ignored, and
    either direction of a stale answer is safe anyway: a recorded "admin" is checked with
    users.info before the App Home shows aggregates, and a recorded "not an admin" only
    hides them (until the next event, or NOT_ADMIN_TRUSTED_FOR).
    """
    workspace_id = session.scalar(select(Workspace.id).where(Workspace.team_id == team_id))
    if workspace_id is None:
        return False
    of_person = (SlackRole.workspace_id == workspace_id, SlackRole.slack_user_id == user_id)
    recorded_at = session.scalar(select(SlackRole.checked_at).where(*of_person))
    if recorded_at is not None and recorded_at > now:
        return None
    updated = affected_rows(
        session.execute(
            update(SlackRole)
            .where(*of_person, SlackRole.checked_at <= now)
            .values(is_admin=is_admin, checked_at=now)
            .execution_options(synchronize_session=False)
        )
    )
    if recorded_at is not None and not updated:
        return None  # a newer answer was recorded meanwhile
    if is_admin:
        if not updated:
            return False  # someone PeerCoach never saw: nothing to record
        _record_slack_admin(session, workspace_id, user_id, now)
        return True
    dropped = _drop_slack_admin(session, workspace_id, user_id)
    return bool(updated or dropped)


def recorded_non_admin(
    session: Session | Connection, *, team_id: str, user_id: str, now: datetime
) -> bool:
    """Answer whether Slack said, less than NOT_ADMIN_TRUSTED_FOR before `now`, that the
    person is not a workspace admin or owner (what an App Home render may go by without
    users.info). One query; False when nothing recent is recorded or they are an admin."""
    connection = connection_of(session)
    checked_at = connection.execute(
        _RECORDED_NON_ADMIN, {"team_id": team_id, "user_id": user_id}
    ).scalar()
    return checked_at is not None and checked_at > now - NOT_ADMIN_TRUSTED_FOR


_RECORDED_NON_ADMIN = (
    select(SlackRole.checked_at)
    .join(Workspace, Workspace.id == SlackRole.workspace_id)
    .where(
        Workspace.team_id == bindparam("team_id"),
        SlackRole.slack_user_id == bindparam("user_id"),
        SlackRole.is_admin.is_(False),
    )
)


def runs_no_programme(
    session: Session | Connection, *, team_id: str, user_id: str, is_slack_admin: bool | None
) -> bool:
    """Answer whether is_admin_known would say no for every programme of the workspace, and
    change nothing: the person is not a Slack admin now and holds no program_admins row
    (an owner, or a Slack admin seen before). One query, with no programme loaded."""
    if is_slack_admin:
        return False
    connection = connection_of(session)
    return (
        connection.execute(_ANY_ADMIN_ROW, {"team_id": team_id, "user_id": user_id}).first() is None
    )


_ANY_ADMIN_ROW = (
    select(ProgramAdmin.id)
    .join(Workspace, Workspace.id == ProgramAdmin.workspace_id)
    .where(
        Workspace.team_id == bindparam("team_id"),
        ProgramAdmin.slack_user_id == bindparam("user_id"),
    )
    .limit(1)
)


def is_added_admin(
    session: Session, *, team_id: str, user_id: str, programme_id: int | None = None
) -> bool:
    """Answer from the database alone whether someone was made an owner of the programme
    (None: of any programme) by an admin."""
    query = (
        select(ProgramAdmin.id)
        .join(Workspace, Workspace.id == ProgramAdmin.workspace_id)
        .where(
            Workspace.team_id == team_id,
            ProgramAdmin.slack_user_id == user_id,
            ProgramAdmin.source == AdminSource.ADDED,
        )
    )
    if programme_id is not None:
        query = query.where(
            or_(ProgramAdmin.programme_id == programme_id, ProgramAdmin.programme_id.is_(None))
        )
    return session.scalar(query.limit(1)) is not None


def owned_programmes(session: Session, *, team_id: str, user_id: str) -> list[int]:
    """The ids of the programmes someone was made an owner of."""
    return list(
        session.scalars(
            select(ProgramAdmin.programme_id)
            .join(Workspace, Workspace.id == ProgramAdmin.workspace_id)
            .where(
                Workspace.team_id == team_id,
                ProgramAdmin.slack_user_id == user_id,
                ProgramAdmin.source == AdminSource.ADDED,
                ProgramAdmin.programme_id.is_not(None),
            )
            .order_by(ProgramAdmin.programme_id)
        )
    )


def admin_ids(session: Session, workspace_id: int, programme_id: int | None = None) -> list[str]:
    """Who runs the programme (`programme_id`) or, with None, any of the workspace's: Slack
    admins seen and the added owners, each once, in the order they became admins."""
    query = select(ProgramAdmin.slack_user_id).where(ProgramAdmin.workspace_id == workspace_id)
    if programme_id is not None:
        query = query.where(
            or_(ProgramAdmin.programme_id == programme_id, ProgramAdmin.programme_id.is_(None))
        )
    return list(dict.fromkeys(session.scalars(query.order_by(ProgramAdmin.id))))


def settings_of(session: Session, programme: Programme) -> ProgramSettings:
    """The programme's settings, with its added owners."""
    added = session.scalars(
        select(ProgramAdmin.slack_user_id)
        .where(ProgramAdmin.programme_id == programme.id, ProgramAdmin.source == AdminSource.ADDED)
        .order_by(ProgramAdmin.id)
    )
    return ProgramSettings.from_stored(programme.settings, admins=tuple(added))


def match_rules_of(programme: Programme) -> MatchRules:
    """The matcher's rules as the programme's admins set them (circles: the circle size)."""
    settings = settings_of_programme(programme)
    circles = settings.format == ProgrammeFormat.CIRCLES
    return MatchRules(
        group_size=settings.circle_size if circles else settings.group_size,
        repeat_window=settings.repeat_window,
        level_weight=1.0 if settings.prefer_same_level else 0.0,
        goal_weight=1.0 if settings.prefer_shared_goals else 0.0,
        tz_weight=1.0 if settings.prefer_tz_overlap else 0.0,
        cross_team_weight=1.0 if settings.prefer_cross_team else 0.0,
        avoid_same_team=settings.avoid_same_team,
        min_shared_minutes=60 * settings.min_shared_hours,
    )


def apply_settings(
    session: Session, programme: Programme, new: ProgramSettings, *, changed_by: str, now: datetime
) -> list[SettingsChange]:
    """Store a programme's new settings (from its next round on) and record each change.

    A schedule change is stamped on the programme (schedule_changed_at): it applies to slots
    after the change and after the current round (bot.schedule.due_slot). A changed
    agreement text raises the agreement version and asks every current member to accept it.
    """
    old = settings_of(session, programme)
    changes = []
    for name, new_value in asdict(new).items():
        old_value = getattr(old, name)
        if _same(old_value, new_value):
            continue
        changes.append(
            SettingsChange(
                workspace_id=programme.workspace_id,
                programme_id=programme.id,
                changed_by=changed_by,
                changed_at=now,
                field=name,
                old_value=_text(old_value),
                new_value=_text(new_value),
            )
        )
    new = replace(new, agreement_text=new.agreement_text.strip())
    programme.settings = new.to_stored()
    if new.agreement_text != old.agreement_text.strip():
        # A new agreement: everyone accepts it before their next round.
        programme.agreement_version += 1
        for member in session.scalars(
            select(Member).where(
                Member.programme_id == programme.id,
                Member.status.in_([MemberStatus.ACTIVE.value, MemberStatus.PAUSED.value]),
            )
        ):
            ask_to_accept(session, programme, member.slack_user_id, now)
    if any(c.field in SCHEDULE_FIELDS for c in changes):
        programme.schedule_changed_at = now
    _set_added_admins(session, programme, new.admins, changed_by, now)
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
    session: Session, programme: Programme, wanted: tuple[str, ...], changed_by: str, now: datetime
) -> None:
    rows = {
        a.slack_user_id: a
        for a in session.scalars(
            select(ProgramAdmin).where(
                ProgramAdmin.programme_id == programme.id,
                ProgramAdmin.source == AdminSource.ADDED,
            )
        )
    }
    for user_id, row in rows.items():
        if user_id not in wanted:
            session.delete(row)
    for user_id in wanted:
        if user_id not in rows:
            session.add(
                ProgramAdmin(
                    workspace_id=programme.workspace_id,
                    programme_id=programme.id,
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


def delivery_health(
    session: Session, workspace_id: int, programme_id: int | None = None
) -> DeliveryHealth:
    """What admins see about delivery: whether Slack refuses the token (since when, why)
    and how many groups of the programme's (None: the workspace's) latest round never got
    their intro."""
    workspace = session.get(Workspace, workspace_id)
    assert workspace is not None
    latest = session.scalar(
        select(Round.id)
        .where(
            Round.workspace_id == workspace_id,
            *((Round.programme_id == programme_id,) if programme_id is not None else ()),
        )
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
