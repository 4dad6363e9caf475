"""A person's own data (delete, export), retention and key rotation: rules on a session.

Nothing here talks to Slack or commits; callers own the unit of work (docs/privacy.md says
what is stored, for how long, and what deletion keeps).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Column, Text, cast, delete, func, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql import column as sql_column
from sqlalchemy.sql import table as sql_table
from sqlalchemy.types import JSON, String

from bot import crypto
from bot.domain.enums import OutboxStatus
from bot.domain.meetings import DEFAULT_WORKING_HOURS
from bot.domain.messages import TextNotice, notice_to_payload
from bot.domain.privacy import DeletionReport, RetentionReport
from bot.domain.programme import ProgramSettings
from bot.services.meetings import store_working_hours
from bot.services.membership import memberships_of
from bot.services.orgchart import org_chart_of
from bot.services.outbox import commitment_key
from bot.services.pulse import answered_cycles, forget_old_suggestions, forget_responder
from db.models import (
    Base,
    GroupSeat,
    KeepMeeting,
    Member,
    MemberStatus,
    OutboxMessage,
    PairGroup,
    ProgramAdmin,
    Programme,
    PromptShown,
    Reflection,
    Round,
    SettingsChange,
    SlackRole,
    Workspace,
)
from db.types import ENCRYPTED_TYPES
from db.upsert import affected_rows

PLACEHOLDER_PREFIX = "deleted-"
# Another person's "never pair me with" entry naming the deleted person stays: it is that
# person's private choice, and it must keep protecting them if the deleted person rejoins.
# Kept on deletion: other people's never-pair entries naming the person, and the org chart an
# admin imported (it keeps people apart; the next import replaces it).
KEPT_COLUMNS = frozenset(
    {
        ("exclusions", "excluded_user_id"),
        ("reporting_lines", "slack_user_id"),
        ("reporting_lines", "manager_user_id"),
    }
)
WAITING = (OutboxStatus.PENDING,)
SCAN_BATCH = 500


def new_placeholder() -> str:
    """An anonymous stand-in for a deleted person's Slack id: unique, unrelated to them."""
    return PLACEHOLDER_PREFIX + secrets.token_hex(6)


def _id_pattern(user_id: str) -> re.Pattern[str]:
    # Whole ids only: U001 must not match inside U0012.
    return re.compile(rf"(?<![A-Za-z0-9]){re.escape(user_id)}(?![A-Za-z0-9])")


def _replace_id(value: Any, pattern: re.Pattern[str], placeholder: str) -> Any:
    """The value with every whole occurrence of the id replaced, inside lists and dicts too."""
    if isinstance(value, str):
        return pattern.sub(placeholder, value)
    if isinstance(value, list):
        return [_replace_id(v, pattern, placeholder) for v in value]
    if isinstance(value, dict):
        return {
            _replace_id(k, pattern, placeholder): _replace_id(v, pattern, placeholder)
            for k, v in value.items()
        }
    return value


def _holds_text(column: Column[Any]) -> bool:
    return isinstance(column.type, (String, JSON, *ENCRYPTED_TYPES))


def _scrub_identity(session: Session, workspace_id: int, user_id: str, placeholder: str) -> None:
    """Replace the person's Slack id with the placeholder in every text or JSON column of the
    workspace's rows, in every table (so tables added later are covered too), except the
    columns in KEPT_COLUMNS. Encrypted columns cannot be searched in SQL: those tables are
    read in full (decrypted) and rewritten where the id occurs."""
    pattern = _id_pattern(user_id)
    for table in Base.metadata.sorted_tables:
        if "workspace_id" not in table.c or table.name == Workspace.__tablename__:
            continue
        columns = [
            c for c in table.c if _holds_text(c) and (table.name, c.name) not in KEPT_COLUMNS
        ]
        if not columns:
            continue
        (key,) = table.primary_key.columns  # every workspace table has one integer id
        query = select(key, *columns).where(table.c.workspace_id == workspace_id)
        if not any(isinstance(c.type, ENCRYPTED_TYPES) for c in columns):
            query = query.where(
                or_(*(cast(c, Text).contains(user_id, autoescape=True) for c in columns))
            )
        after = None
        while True:  # in batches by id, so a large outbox is never held in memory at once
            page = query if after is None else query.where(key > after)
            rows = session.execute(page.order_by(key).limit(SCAN_BATCH)).mappings().all()
            if not rows:
                break
            for row in rows:
                changed = {}
                for c in columns:
                    if row[c.name] is None:
                        continue
                    replaced = _replace_id(row[c.name], pattern, placeholder)
                    if replaced != row[c.name]:
                        changed[c.name] = replaced
                if changed:
                    session.execute(table.update().where(key == row[key.name]).values(changed))
            after = rows[-1][key.name]


def _addressed_to(session: Session, workspace_id: int, user_id: str) -> list[OutboxMessage]:
    """Outbox messages with the person among their recipients."""
    candidates = session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.workspace_id == workspace_id,
            cast(OutboxMessage.recipients, Text).contains(f'"{user_id}"', autoescape=True),
        )
    )
    return [m for m in candidates if user_id in m.recipients]


def delete_my_data(
    session: Session, *, team_id: str, user_id: str, now: datetime
) -> DeletionReport:
    """Delete a person's profile, never-pair list, goals and reflection text, and replace their
    Slack id everywhere in the workspace with an anonymous placeholder.

    Kept: their member row (as the placeholder, status left) with join date, their group
    seats and reflection ratings, so other people's repeat-avoidance and the programme's
    figures stay what they were; other people's never-pair entries naming them. Their
    pending messages are cancelled. A second call (a double press) finds nothing to delete
    and returns an empty report: the first write is a conditional update on their member row.
    """
    workspace = session.scalar(select(Workspace).where(Workspace.team_id == team_id))
    if workspace is None:
        return DeletionReport()
    placeholder = new_placeholder()
    counts: dict[str, Any] = {}
    # Every programme's membership goes the same way (one placeholder for the person).
    for member in memberships_of(session, team_id=team_id, user_id=user_id):
        claimed = affected_rows(
            session.execute(
                update(Member)
                .where(Member.id == member.id, Member.slack_user_id == user_id)
                .values(slack_user_id=placeholder)
                .execution_options(synchronize_session=False)
            )
        )
        if claimed == 0:
            return DeletionReport()  # someone else's request deleted it a moment ago
        session.refresh(member)
        for name, value in _forget_member(session, member, now).items():
            if isinstance(value, bool):
                counts[name] = counts.get(name, False) or value
            else:
                counts[name] = counts.get(name, 0) + value
    counts["messages_cancelled"] = _cancel_waiting(session, workspace.id, user_id)
    session.flush()  # the scrub below reads and writes with plain statements
    counts["admin_role"] = bool(
        affected_rows(
            session.execute(
                delete(ProgramAdmin).where(
                    ProgramAdmin.workspace_id == workspace.id, ProgramAdmin.slack_user_id == user_id
                )
            )
        )
    )
    # What Slack said about their role (kept so the App Home need not ask): Slack's, not
    # theirs, so not counted in the report, but it names them.
    session.execute(
        delete(SlackRole).where(
            SlackRole.workspace_id == workspace.id, SlackRole.slack_user_id == user_id
        )
    )
    _scrub_identity(session, workspace.id, user_id, placeholder)
    session.flush()
    return DeletionReport(**counts)


def _forget_member(session: Session, member: Member, now: datetime) -> dict[str, Any]:
    """Wipe the member's profile and reflection text; return the counts for the report."""
    text_counts = session.execute(
        select(
            func.count(Reflection.takeaway),
            func.count(Reflection.commitment),
            func.count(Reflection.id).filter(
                or_(Reflection.takeaway.is_not(None), Reflection.commitment.is_not(None))
            ),
        ).where(Reflection.member_id == member.id)
    ).one()
    session.execute(
        update(Reflection)
        .where(Reflection.member_id == member.id)
        .values(takeaway=None, commitment=None)
        .execution_options(synchronize_session=False)
    )
    pairings = session.scalar(
        select(func.count(GroupSeat.id)).where(GroupSeat.member_id == member.id)
    )
    report = {
        "pulses_answered": forget_responder(session, member.id),
        "membership": True,
        "profile": member.level is not None or bool(member.team),
        "goals": len(member.goals or []),
        "never_pair": len(member.exclusions),
        "reflections": int(text_counts[2]),
        "commitments": int(text_counts[1]),
        "pairings": int(pairings or 0),
    }
    if member.status != MemberStatus.LEFT:
        member.status, member.left_at = MemberStatus.LEFT.value, now
    member.paused_until = None
    member.level, member.team, member.goals, member.goal = None, None, [], None
    member.tz_name = member.tz_offset_minutes = None
    store_working_hours(member, DEFAULT_WORKING_HOURS)
    member.updated_at = now
    member.exclusions.clear()
    # Their keep-meeting wishes go too (a group kept by them is kept no longer).
    session.execute(delete(KeepMeeting).where(KeepMeeting.member_id == member.id))
    return report


def _cancel_waiting(session: Session, workspace_id: int, user_id: str) -> int:
    """Cancel DMs not yet sent to the person and take them off waiting group messages;
    empty the copies of DMs to them alone."""
    cancelled = 0
    for message in _addressed_to(session, workspace_id, user_id):
        if message.status in WAITING and message.recipients == [user_id]:
            message.status = OutboxStatus.CANCELLED
            cancelled += 1
        elif message.status in WAITING:
            # A group's message still goes to the others, just not to them.
            message.recipients = [r for r in message.recipients if r != user_id]
        if message.recipients == [user_id]:
            # A 1:1 DM to them may quote their own commitment: keep no copy.
            message.payload = notice_to_payload(TextNotice(text=""))
    return cancelled


def export_my_data(
    session: Session, *, team_id: str, user_id: str, now: datetime
) -> dict[str, Any]:
    """Everything stored about the person in one workspace, as JSON-ready data.

    Partners appear as Slack ids only; nobody else's reflections, never-pair lists or
    other private data are included (not even whether someone excluded this person).
    """
    data: dict[str, Any] = {
        "about": "Everything PeerCoach stores about you in this Slack workspace.",
        "generated_at": now.isoformat(),
        "team_id": team_id,
        "slack_user_id": user_id,
        "membership": None,
        "profile": None,
        "never_pair": [],
        "pairings": [],
        "reflections": [],
        "prompts_shown": [],
        "programme_admin": None,
        # Whether Slack said they are a workspace admin or owner, and when.
        "slack_role": None,
        "settings_changes_made": [],
        "messages_to_you": [],
        "org_chart": {"managers": [], "reports": []},
    }
    workspace = session.scalar(select(Workspace).where(Workspace.team_id == team_id))
    if workspace is None:
        return data
    rows = memberships_of(session, team_id=team_id, user_id=user_id)
    if rows:
        # The top level shows the person's current membership (the first, if several);
        # `programmes` lists every one, each with its programme's name.
        current = next((m for m in rows if m.status != MemberStatus.LEFT), rows[0])
        data.update(_member_export(session, current))
        data["programmes"] = [
            {"programme": m.programme.name, **_member_export(session, m)} for m in rows
        ]
    admin = session.scalar(
        select(ProgramAdmin).where(
            ProgramAdmin.workspace_id == workspace.id, ProgramAdmin.slack_user_id == user_id
        )
    )
    if admin is not None:
        data["programme_admin"] = {
            "source": admin.source,
            "added_by": admin.added_by,
            "added_at": _iso(admin.added_at),
        }
    role = session.scalar(
        select(SlackRole).where(
            SlackRole.workspace_id == workspace.id, SlackRole.slack_user_id == user_id
        )
    )
    if role is not None:
        data["slack_role"] = {"is_admin": role.is_admin, "checked_at": _iso(role.checked_at)}
    data["org_chart"] = org_chart_of(session, workspace.id, user_id)
    data["settings_changes_made"] = [
        {
            "changed_at": _iso(change.changed_at),
            "field": change.field,
            "old_value": change.old_value,
            "new_value": change.new_value,
        }
        for change in session.scalars(
            select(SettingsChange)
            .where(
                SettingsChange.workspace_id == workspace.id, SettingsChange.changed_by == user_id
            )
            .order_by(SettingsChange.id)
        )
    ]
    data["messages_to_you"] = [
        {
            "kind": message.kind,
            "status": message.status,
            "created_at": _iso(message.created_at),
            "sent_at": _iso(message.sent_at),
            "recipients": message.recipients,
            # Content only of DMs to this person alone; group messages are the group's.
            "content": message.payload if message.recipients == [user_id] else None,
        }
        for message in sorted(_addressed_to(session, workspace.id, user_id), key=lambda m: m.id)
    ]
    return data


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _member_export(session: Session, member: Member) -> dict[str, Any]:
    rows = session.execute(
        select(GroupSeat, PairGroup, Round)
        .join(PairGroup, PairGroup.id == GroupSeat.group_id)
        .join(Round, Round.id == PairGroup.round_id)
        .where(GroupSeat.member_id == member.id)
        .order_by(Round.started_at, PairGroup.id)
    ).all()
    partners_of = {
        group.id: [s.slack_user_id for s in group.seats if s.member_id != member.id]
        for _, group, _ in rows
    }
    started_of = {group.id: round_.started_at for _, group, round_ in rows}
    reflections = session.scalars(
        select(Reflection).where(Reflection.member_id == member.id).order_by(Reflection.id)
    )
    return {
        "membership": {
            "status": member.status,
            "joined_at": _iso(member.joined_at),
            "left_at": _iso(member.left_at),
            "paused_until": _iso(member.paused_until),
            "updated_at": _iso(member.updated_at),
            "time_zone": member.tz_name,
            "time_zone_offset_minutes": member.tz_offset_minutes,
            "rounds_missed_in_a_row": member.missed_streak,
        },
        "profile": (
            {
                "level": member.level,
                "team": member.team,
                "goals": list(member.goals or []),
                "development_goal": member.goal,
                "working_hours": {
                    "start_minute": member.work_start_minute,
                    "end_minute": member.work_end_minute,
                    "days": list(member.work_days or []),
                    "no_meeting_days": list(member.no_meeting_days or []),
                },
            }
            if member.level is not None
            else None
        ),
        "never_pair": [e.excluded_user_id for e in member.exclusions],
        "pairings": [
            {
                "round_started_at": _iso(round_.started_at),
                "round_kind": round_.kind,
                "partners": partners_of[group.id],
                "group_dm_channel": group.channel_id,
                "why_paired": list(group.reasons or []),
                "prompts": list(group.prompt_ids or []),
                "group_met_at": _iso(group.met_at),
                "you_said_you_met_at": _iso(seat.met_at),
                "you_could_not_make_it_at": _iso(seat.cant_make_it_at),
                "given_a_new_partner_at": _iso(seat.rescued_at),
                "kept_together_by_wish": group.kept_from_id is not None,
                "group_cancelled_at": _iso(group.cancelled_at),
                "removed_from_group_at": _iso(seat.removed_at),
            }
            for seat, group, round_ in rows
        ],
        "keep_meeting_wishes": [
            {
                "partners": partners_of.get(k.group_id, []),
                "rounds": k.rounds,
                "chosen_at": _iso(k.chosen_at),
                "ended_at": _iso(k.ended_at),
            }
            for k in session.scalars(
                select(KeepMeeting)
                .where(KeepMeeting.member_id == member.id)
                .order_by(KeepMeeting.id)
            )
        ],
        "reflections": [
            {
                "round_started_at": _iso(started_of.get(r.group_id)),
                "partners": partners_of.get(r.group_id, []),
                "usefulness": r.usefulness,
                "takeaway": r.takeaway,
                "shared_takeaway_with_partners": r.share_takeaway,
                "commitment": r.commitment,
                "commitment_made": r.commitment_made,
                "commitment_outcome": r.commitment_outcome,
                "commitment_outcome_at": _iso(r.commitment_outcome_at),
                "created_at": _iso(r.created_at),
                "updated_at": _iso(r.updated_at),
            }
            for r in reflections
        ],
        # Which pulses they answered; what they answered has no name on it, so it is not here.
        "feedback_pulses_answered_in_rounds_started": [
            _iso(started) for started in answered_cycles(session, member.id)
        ],
        "prompts_shown": list(
            session.scalars(
                select(PromptShown.prompt_id)
                .where(PromptShown.member_id == member.id)
                .order_by(PromptShown.id)
            )
        ),
    }


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time `months` calendar months earlier (the day clamped to the month's
    end: 31 March minus one month is 28 or 29 February)."""
    total = moment.year * 12 + (moment.month - 1) - months
    year, month = divmod(total, 12)
    month += 1
    next_month = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=moment.tzinfo)
    last_day = (next_month - datetime(year, month, 1, tzinfo=moment.tzinfo)).days
    return moment.replace(year=year, month=month, day=min(moment.day, last_day))


def apply_retention(session: Session, *, now: datetime) -> RetentionReport:
    """Delete reflection free text (and shared pulse suggestions) written more than each
    programme's `retention_months` ago (calendar months before `now`), with the outbox's
    copies of those commitments; ratings, commitment_made, outcomes and pulse scores stay for
    the programme's figures. Run once a day; a second run finds nothing to do.
    `retention_months` of 0 or less keeps text until its author deletes it.
    """
    reflections = messages = suggestions = 0
    for programme_id, workspace_id, stored in session.execute(
        select(Programme.id, Programme.workspace_id, Programme.settings).order_by(Programme.id)
    ):
        months = ProgramSettings.from_stored(stored).retention_months
        if months is None or months <= 0:
            continue
        expired = list(
            session.scalars(
                select(Reflection.id).where(
                    Reflection.workspace_id == workspace_id,
                    Reflection.member_id.in_(
                        select(Member.id).where(Member.programme_id == programme_id)
                    ),
                    Reflection.created_at < months_before(now, months),
                    or_(Reflection.takeaway.is_not(None), Reflection.commitment.is_not(None)),
                )
            )
        )
        for start in range(0, len(expired), SCAN_BATCH):
            batch = expired[start : start + SCAN_BATCH]
            session.execute(
                update(Reflection)
                .where(Reflection.id.in_(batch))
                .values(takeaway=None, commitment=None)
                .execution_options(synchronize_session=False)
            )
            # A follow-up's only content is its copy of the commitment; with the commitment
            # gone it is never asked again (rounds ask only about text they have).
            messages += int(
                affected_rows(
                    session.execute(
                        delete(OutboxMessage).where(
                            OutboxMessage.workspace_id == workspace_id,
                            OutboxMessage.dedupe_key.in_([commitment_key(i) for i in batch]),
                            OutboxMessage.status != OutboxStatus.SENDING,
                        )
                    )
                )
                or 0
            )
        reflections += len(expired)
        suggestions += forget_old_suggestions(
            session, programme_id, before=months_before(now, months)
        )
    return RetentionReport(reflections=reflections, messages=messages, suggestions=suggestions)


def encrypted_column_names() -> list[tuple[str, str]]:
    """(table, column) of every column stored encrypted."""
    from db.types import encrypted_columns

    return [(c.table.name, c.name) for c in encrypted_columns(Base.metadata)]


class UndecryptableValue(Exception):
    """A stored value that no configured key opens (a key was dropped too early)."""


def rotate_batch(
    session: Session, *, table_name: str, column_name: str, after_id: int, limit: int
) -> tuple[int | None, int]:
    """Re-encrypt up to `limit` values of one encrypted column, ids after `after_id`, under the
    newest key; values the newest key already opens are left alone, so a repeated run rewrites
    nothing. Returns (last id looked at or None when done, values rewritten). Raises
    UndecryptableValue if no configured key opens a value."""
    raw = sql_table(table_name, sql_column("id"), sql_column(column_name, Text))
    value = raw.c[column_name]
    rows = session.execute(
        select(raw.c.id, value)
        .where(raw.c.id > after_id, value.is_not(None))
        .order_by(raw.c.id)
        .limit(limit)
    ).all()
    if not rows:
        return None, 0
    rewritten = 0
    for row_id, token in rows:
        try:
            if crypto.under_newest_key(token):
                continue
            rotated = crypto.rotate(token)
        except crypto.InvalidToken:
            raise UndecryptableValue(
                f"{table_name}.{column_name} of row {row_id} opens with none of the configured keys"
            ) from None
        # Conditional on the old token: a value rewritten meanwhile by the app stays as written.
        rewritten += int(
            affected_rows(
                session.execute(
                    raw.update()
                    .where(raw.c.id == row_id, value == token)
                    .values({column_name: rotated})
                )
            )
            or 0
        )
    return rows[-1][0], rewritten


def rotate_all(
    run_batch: Callable[[str, str, int], tuple[int | None, int]],
    columns: Iterable[tuple[str, str]],
) -> int:
    """Drive rotate_batch over every column: `run_batch(table, column, after_id)` runs one batch
    in its own unit of work. Returns how many values were rewritten."""
    total = 0
    for table_name, column_name in columns:
        after: int | None = 0
        while after is not None:
            after, rewritten = run_batch(table_name, column_name, after)
            total += rewritten
    return total
