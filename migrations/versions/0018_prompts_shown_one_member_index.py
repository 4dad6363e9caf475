"""prompts shown: drop the member_id index that ix_prompts_shown_history makes redundant

ix_prompts_shown_history (member_id, id, prompt_id) leads with member_id, so it serves
every lookup by member (a member's erasure and its cascade included). A round start writes
two rows per member into prompts_shown; one index fewer is one B-tree insert fewer per row.
Downgrade recreates the index.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01 11:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("prompts_shown") as batch_op:
        batch_op.drop_index("ix_prompts_shown_member_id")


def downgrade() -> None:
    with op.batch_alter_table("prompts_shown") as batch_op:
        batch_op.create_index("ix_prompts_shown_member_id", ["member_id"], unique=False)
