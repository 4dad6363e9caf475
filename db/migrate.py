"""Run Alembic migrations from code (the CLI and server start use this, never create_all)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, inspect, pool, text
from sqlalchemy.engine import make_url

import migrations

MIGRATIONS_DIR = Path(migrations.__file__).resolve().parent


def alembic_config(database_url: str) -> Config:
    """Build an Alembic config that works from any working directory and installed wheels."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser interpolation would choke on '%' in URL-encoded passwords.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def schema_includes(database_url: str, revision: str) -> bool:
    """Answer whether the database's schema has `revision` applied (False for an empty one)."""
    engine = create_engine(make_url(database_url), poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            heads = current_revisions(connection)
    finally:
        engine.dispose()
    script = ScriptDirectory.from_config(alembic_config(database_url))
    return any(
        applied.revision == revision
        for head in heads
        for applied in script.walk_revisions("base", head)
    )


def current_revisions(connection: Connection) -> set[str]:
    """The revisions Alembic recorded as applied, read from its table directly (a
    MigrationContext would log two INFO lines for every look)."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return set()
    return set(connection.scalars(text(f"SELECT version_num FROM {VERSION_TABLE}")))


def upgrade_to_head(database_url: str) -> None:
    """Bring the database to the newest schema."""
    command.upgrade(alembic_config(database_url), "head")


@cache
def head_revisions() -> frozenset[str]:
    """The newest revision id(s) of the bundled migrations (read from the files once)."""
    return frozenset(ScriptDirectory.from_config(alembic_config("")).get_heads())


def is_at_head(engine: Engine) -> bool:
    """Answer whether the database's schema is at the newest migration, with one query."""
    with engine.connect() as connection:
        current = current_revisions(connection)
    return frozenset(current) == head_revisions()


def downgrade_to_base(database_url: str) -> None:
    """Undo every migration (used by tests that prove downgrades work)."""
    command.downgrade(alembic_config(database_url), "base")


UPGRADE_HINT = "run `peercoach db upgrade`"
VERSION_TABLE = "alembic_version"  # Alembic's default, which migrations/env.py keeps


class SchemaNotCurrent(Exception):
    """The database is not at this version's newest migration; the message is one line."""


def schema_problem(database_url: str) -> str | None:
    """Why the database is not at this version's newest migration (one line), or None.

    Reads Alembic's version table without migrating and without Alembic's log lines; a
    SQLite file that does not exist is reported, not created. The line ends with what to do.
    Raises SQLAlchemy's OperationalError when the database cannot be reached.
    """
    url = make_url(database_url)
    database = url.database or ""
    on_disk = url.get_backend_name() == "sqlite" and database not in ("", ":memory:")
    if on_disk and not Path(database).exists():
        return f"the database file {database} does not exist yet: {UPGRADE_HINT}"
    script = ScriptDirectory.from_config(alembic_config(database_url))
    heads = set(script.get_heads())
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            current = current_revisions(connection)
    finally:
        engine.dispose()
    if current == heads:
        return None
    if not current:
        return f"the database has no PeerCoach schema yet: {UPGRADE_HINT}"
    known = {revision.revision for revision in script.walk_revisions()}
    if not current <= known:
        newer = ", ".join(sorted(current - known))
        return (
            f"the database schema ({newer}) is newer than this PeerCoach version: "
            "run the version that migrated it"
        )
    return (
        f"the database schema is at {', '.join(sorted(current))}, not the newest "
        f"({', '.join(sorted(heads))}): {UPGRADE_HINT}"
    )
