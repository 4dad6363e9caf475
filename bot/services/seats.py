"""Finding the person's own seat in a group a request names, within their own workspace.

A group id comes from a button value or a modal's metadata; Slack signs the request, not
the id in it, and Slack user ids are not unique across workspaces (Enterprise Grid, Slack
Connect). So a group is the person's only when it belongs to the requesting workspace
(its Slack team id) AND holds a current seat of theirs: both are conditions of one query,
and a group of another workspace is answered exactly as one that does not exist.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import GroupSeat, PairGroup, Workspace


def own_seat(
    session: Session, *, team_id: str, group_id: int, user_id: str, fresh: bool = False
) -> tuple[PairGroup, GroupSeat] | None:
    """The group `group_id` of workspace `team_id` and the current (not removed) seat of
    `user_id` in it; None when there is no such group in that workspace or no such seat.

    `fresh`: reload both rows from the database even if the session holds them (after
    taking a lock, to see what the previous holder committed).
    """
    query = (
        select(PairGroup, GroupSeat)
        .join(GroupSeat, GroupSeat.group_id == PairGroup.id)
        .join(Workspace, Workspace.id == PairGroup.workspace_id)
        .where(
            PairGroup.id == group_id,
            Workspace.team_id == team_id,
            GroupSeat.slack_user_id == user_id,
            GroupSeat.removed_at.is_(None),
        )
        .order_by(GroupSeat.id)
        .limit(1)
    )
    if fresh:
        query = query.execution_options(populate_existing=True)
    row = session.execute(query).first()
    return (row[0], row[1]) if row is not None else None
