"""one outbox: messages store a notice payload; round digests move into the outbox

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 20:40:00

Upgrade: each outbox row's rendered text and blocks become a `text` notice (sent as they
were), and the separate digest_deliveries table goes: digests are outbox messages of kind
`digest` from now on. Digests still pending at upgrade are not carried over (their figures
were never stored); `peercoach digest --team T` sends the latest one again.
Downgrade: the payload's text (or, for a notice rendered at send time, its kind) becomes
the text column again, and an empty digest_deliveries table is restored.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.types

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _outbox(*columns: sa.Column) -> sa.TableClause:
    return sa.table("outbox", sa.column("id", sa.Integer), *columns)


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("payload", sa.JSON(), nullable=True))
    outbox = _outbox(
        sa.column("text", sa.String), sa.column("blocks", sa.JSON), sa.column("payload", sa.JSON)
    )
    connection = op.get_bind()
    for row in connection.execute(sa.select(outbox.c.id, outbox.c.text, outbox.c.blocks)).all():
        payload = {"kind": "text", "text": row.text, "blocks": row.blocks or []}
        connection.execute(outbox.update().where(outbox.c.id == row.id).values(payload=payload))
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.alter_column("payload", existing_type=sa.JSON(), nullable=False)
        batch_op.drop_column("text")
        batch_op.drop_column("blocks")
    op.drop_table("digest_deliveries")


def downgrade() -> None:
    op.create_table(
        "digest_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("admin_user_id", sa.String(length=32), nullable=False),
        sa.Column("dedupe_suffix", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", db.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", db.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["rounds.id"],
            name=op.f("fk_digest_deliveries_round_id_rounds"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_digest_deliveries_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digest_deliveries")),
        sa.UniqueConstraint(
            "round_id",
            "admin_user_id",
            "dedupe_suffix",
            name=op.f("uq_digest_deliveries_round_id_admin_user_id_dedupe_suffix"),
        ),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("text", sa.String(length=3000), nullable=True))
        batch_op.add_column(sa.Column("blocks", sa.JSON(), nullable=True))
    outbox = _outbox(
        sa.column("text", sa.String), sa.column("blocks", sa.JSON), sa.column("payload", sa.JSON)
    )
    connection = op.get_bind()
    for row in connection.execute(sa.select(outbox.c.id, outbox.c.payload)).all():
        payload = row.payload or {}
        text = payload.get("text") or f"({payload.get('kind', 'message')})"
        connection.execute(
            outbox.update()
            .where(outbox.c.id == row.id)
            .values(text=str(text)[:3000], blocks=list(payload.get("blocks") or []))
        )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.alter_column("text", existing_type=sa.String(length=3000), nullable=False)
        batch_op.alter_column("blocks", existing_type=sa.JSON(), nullable=False)
        batch_op.drop_column("payload")
