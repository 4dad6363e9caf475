"""Schema steps our migrations share."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

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


@contextmanager
def foreign_keys_off() -> Iterator[None]:
    """Rebuild parent tables (batch mode) without cascading deletes, on SQLite.

    SQLite ignores `PRAGMA foreign_keys` inside a transaction, so the work so far is committed
    first and the steps inside run with foreign keys off (SQLite's documented procedure for a
    table rebuild); a foreign key check follows and they are turned on again. PostgreSQL
    alters tables in place: nothing to do.
    """
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        yield
        return
    raw = bind.connection.driver_connection
    assert raw is not None
    raw.commit()
    raw.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
        raw.commit()
        broken = raw.execute("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"foreign keys broken by the rebuild: {broken[:5]}")
    finally:
        raw.execute("PRAGMA foreign_keys=ON")
