"""encryption at rest for reflection text and the outbox; retention; commitment_made

Reflection takeaways and commitments, and the outbox's notice payloads (a commitment
follow-up carries the commitment), become Fernet tokens (db.types.EncryptedText): the columns
widen to TEXT and the rows written before this migration are encrypted here with the newest
configured key (PEERCOACH_ENCRYPTION_KEYS, configured by the caller through bot.runtime); a
database with such rows and no key stops with a one-line message. Downgrade decrypts them.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 20:40:00
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op

from bot import crypto

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 1000
# (table, column, type before this migration)
ENCRYPTED: list[tuple[str, str, sa.String | sa.JSON]] = [
    ("reflections", "takeaway", sa.String(1000)),
    ("reflections", "commitment", sa.String(500)),
    ("outbox", "payload", sa.JSON()),
]


def _convert_rows(table_name: str, column_name: str, convert: Callable[[str], str]) -> None:
    """Rewrite every non-null value of one column, in batches by id (raw SQL, no model)."""
    connection = op.get_bind()
    table = sa.table(table_name, sa.column("id", sa.Integer), sa.column(column_name, sa.Text))
    column = table.c[column_name]
    last_id = 0
    while True:
        rows = connection.execute(
            sa.select(table.c.id, column)
            .where(table.c.id > last_id, column.is_not(None))
            .order_by(table.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        for row_id, value in rows:
            connection.execute(
                table.update().where(table.c.id == row_id).values({column_name: convert(value)})
            )
        last_id = rows[-1][0]


def upgrade() -> None:
    with op.batch_alter_table("workspaces", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("retention_months", sa.Integer(), server_default="12", nullable=False)
        )
    with op.batch_alter_table("reflections", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("commitment_made", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    reflections = sa.table("reflections", sa.column("commitment_made"), sa.column("commitment"))
    op.execute(
        reflections.update()
        .where(reflections.c.commitment.is_not(None), reflections.c.commitment != "")
        .values(commitment_made=sa.true())
    )
    for table_name, column_name, before in ENCRYPTED:
        with op.batch_alter_table(table_name, schema=None) as batch_op:
            batch_op.alter_column(
                column_name,
                existing_type=before,
                type_=sa.Text(),
                postgresql_using=f"{column_name}::text",
            )
        _convert_rows(table_name, column_name, crypto.encrypt)


def downgrade() -> None:
    for table_name, column_name, before in ENCRYPTED:
        _convert_rows(table_name, column_name, crypto.decrypt)
        using = "json" if isinstance(before, sa.JSON) else f"varchar({before.length})"
        with op.batch_alter_table(table_name, schema=None) as batch_op:
            batch_op.alter_column(
                column_name,
                existing_type=sa.Text(),
                type_=before,
                postgresql_using=f"{column_name}::{using}",
            )
    with op.batch_alter_table("reflections", schema=None) as batch_op:
        batch_op.drop_column("commitment_made")
    if op.get_bind().dialect.name == "sqlite":
        # Batch mode would copy and drop `workspaces`, and with foreign keys on, dropping it
        # cascades to every row of the workspace. SQLite 3.35+ drops a plain column in place.
        op.execute("ALTER TABLE workspaces DROP COLUMN retention_months")
    else:
        op.drop_column("workspaces", "retention_months")
