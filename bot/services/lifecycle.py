"""A workspace's life with the app: installed, uninstalled, its data deleted after a grace
period; and a person whose Slack account is deactivated leaving the programme."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from bot.services.membership import leave_member, memberships_of, workspace_for
from db.models import BOTS_TABLE, INSTALLATIONS_TABLE, Base, Workspace
from db.upsert import affected_rows


def installed(
    session: Session, *, team_id: str, enterprise_id: str | None, now: datetime
) -> Workspace:
    """Record an (re)install: the workspace exists, knows its org, and works again."""
    workspace = workspace_for(session, team_id, now=now)
    workspace.enterprise_id = enterprise_id or workspace.enterprise_id
    workspace.uninstalled_at = None
    return workspace


def installed_in_org(session: Session, *, team_id: str, enterprise_id: str, now: datetime) -> None:
    """Record which Enterprise Grid org a workspace belongs to (learned from its requests)."""
    workspace = workspace_for(session, team_id, now=now)
    if workspace.enterprise_id != enterprise_id:
        workspace.enterprise_id = enterprise_id


def uninstalled(session: Session, *, team_id: str, now: datetime) -> bool:
    """Stop all work for a workspace now (app_uninstalled, tokens_revoked); its data stays
    until the grace period ends. Returns whether the workspace was known (and not already
    uninstalled)."""
    result = session.execute(
        update(Workspace)
        .where(Workspace.team_id == team_id, Workspace.uninstalled_at.is_(None))
        .values(uninstalled_at=now)
    )
    return affected_rows(result) > 0


def purge_uninstalled(session: Session, *, now: datetime, grace: timedelta) -> list[str]:
    """Delete every row of workspaces uninstalled longer than `grace` ago; return their team
    ids. Members, profiles, reflections, rounds, outbox and audit rows go with the workspace
    row (foreign keys cascade); the OAuth installation rows are deleted by team id."""
    teams = list(
        session.scalars(
            select(Workspace.team_id).where(
                Workspace.uninstalled_at.is_not(None), Workspace.uninstalled_at <= now - grace
            )
        )
    )
    if not teams:
        return []
    session.execute(delete(Workspace).where(Workspace.team_id.in_(teams)))
    for name in (INSTALLATIONS_TABLE, BOTS_TABLE):
        table = Base.metadata.tables[name]
        session.execute(delete(table).where(table.c.team_id.in_(teams)))
    return teams


def account_deactivated(session: Session, *, team_id: str, user_id: str, now: datetime) -> bool:
    """A person's Slack account was deactivated: they leave every programme and are never
    paired again (their profiles go as on `leave`). Returns whether they were a member."""
    left = [
        leave_member(session, team_id=team_id, user_id=user_id, now=now, programme=m.programme_id)
        for m in memberships_of(session, team_id=team_id, user_id=user_id)
    ]
    return any(m is not None for m in left)
