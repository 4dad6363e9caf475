"""Wiring shared by the CLI's long-running modes: settings -> database -> Bolt app."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from slack_bolt import App
from sqlalchemy import Engine, NullPool, literal, select
from sqlalchemy.engine import make_url

from bot import crypto
from bot.config import HINTS, ConfigError, Settings
from bot.deps import Deps
from bot.installations import installation_store
from bot.slack_app import create_app
from bot.views.notices import render
from db.migrate import schema_includes, upgrade_to_head
from db.models import Base
from db.session import make_engine, make_session_factory
from db.types import encrypted_columns

logger = logging.getLogger(__name__)


@dataclass
class Runtime:
    """Everything a running PeerCoach process holds."""

    settings: Settings
    engine: Engine
    deps: Deps
    app: App


# The migration that encrypts text at rest: before it, the same columns hold plain text.
ENCRYPTING_REVISION = "0006"


def configure_encryption(settings: Settings, *, needs_key: bool = False) -> None:
    """Install the key ring from PEERCOACH_ENCRYPTION_KEYS before any row is read or written.

    Without the variable, a SQLite database uses a key kept beside its file, generated when
    the database holds no encrypted text yet (bot.crypto.sqlite_key_file); any other database
    raises ConfigError when `needs_key` (the long-running modes), and open_database raises it
    anyway if encrypted text exists.
    """
    keys = settings.encryption_keys()
    url = make_url(settings.database_url)
    if not keys and url.get_backend_name() == "sqlite":
        database = url.database or ""
        if not database or database == ":memory:":
            keys = [crypto.generate_key()]  # an in-memory database dies with the process
        else:
            keys = crypto.sqlite_key_file(
                database, create=not _holds_encrypted_rows(settings.database_url)
            )
    if not keys and needs_key:
        raise ConfigError(
            f"PEERCOACH_ENCRYPTION_KEYS is not set: set it to {HINTS['PEERCOACH_ENCRYPTION_KEYS']}"
        )
    crypto.configure(keys)


def _holds_encrypted_rows(database_url: str) -> bool:
    """Answer whether the schema is encrypted already and any encrypted column holds a value."""
    if not schema_includes(database_url, ENCRYPTING_REVISION):
        return False
    engine = make_engine(database_url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return any(
                connection.execute(
                    select(literal(1)).select_from(column.table).where(column.is_not(None)).limit(1)
                ).first()
                for column in encrypted_columns(Base.metadata)
            )
    finally:
        engine.dispose()


def open_database(settings: Settings, *, needs_key: bool = False) -> tuple[Engine, Deps]:
    """Configure encryption, migrate the database to head and return the engine and the
    app's dependencies; raise ConfigError if encrypted rows exist but no key is set."""
    configure_encryption(settings, needs_key=needs_key)
    logger.info("bringing the database schema to head")
    upgrade_to_head(settings.database_url)
    engine = make_engine(settings.database_url)
    if not crypto.is_configured() and _holds_encrypted_rows(settings.database_url):
        raise ConfigError(
            "PEERCOACH_ENCRYPTION_KEYS is not set but the database holds encrypted text: "
            f"set it to {HINTS['PEERCOACH_ENCRYPTION_KEYS']}"
        )
    sessions = make_session_factory(engine)
    deps = Deps(settings=settings, sessions=sessions, render=render)
    if settings.oauth_enabled:
        deps.installation_store = installation_store(settings, engine, sessions, deps.clock)
    return engine, deps


def start_runtime(settings: Settings) -> Runtime:
    """Migrate the database to head, then build the app on it (a key is required)."""
    engine, deps = open_database(settings, needs_key=True)
    return Runtime(settings=settings, engine=engine, deps=deps, app=create_app(deps))
