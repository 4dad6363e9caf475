"""Schema steps our migrations share."""

from __future__ import annotations

from alembic import op


def drop_columns(table: str, *columns: str) -> None:
    """Drop columns in place.

    On SQLite, Alembic's batch mode copies the table and drops the old one; with foreign keys
    on, dropping a parent table (workspaces, members) cascades and deletes every row that
    points at it. SQLite 3.35+ drops a plain column in place, so no copy is made.
    """
    if op.get_bind().dialect.name == "sqlite":
        for column in columns:
            op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
        return
    for column in columns:
        op.drop_column(table, column)
