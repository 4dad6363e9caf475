"""indexes for fast round starts: prompt history in one ordered scan, outbox by group

Revision ID: 0016
Revises: 0012
Create Date: 2026-11-30 21:10:00

Upgrade: prompts_shown gets a covering index (member_id, id, prompt_id), so a round start
reads its members' prompt history in member and id order from the index alone;
outbox gets an index on group_id, so closing a round drops its groups' pending follow-ups
without scanning every pending message; group_seats gets a partial index on member_id for the
seats that paid for a least-bad meeting slot (read for every member at round time, and few
seats have a cost). Downgrade drops all three.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_prompts_shown_history",
        "prompts_shown",
        ["member_id", "id", "prompt_id"],
        unique=False,
    )
    op.create_index(op.f("ix_outbox_group_id"), "outbox", ["group_id"], unique=False)
    op.create_index(
        "ix_group_seats_slot_cost",
        "group_seats",
        ["member_id"],
        unique=False,
        sqlite_where=sa.text("slot_cost IS NOT NULL"),
        postgresql_where=sa.text("slot_cost IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_group_seats_slot_cost", table_name="group_seats")
    op.drop_index(op.f("ix_outbox_group_id"), table_name="outbox")
    op.drop_index("ix_prompts_shown_history", table_name="prompts_shown")
