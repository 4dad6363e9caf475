"""Wiring shared by the CLI's long-running modes: settings -> database -> Bolt app."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from slack_bolt import App
from sqlalchemy import Engine

from bot.config import Settings
from bot.deps import Deps
from bot.installations import installation_store
from bot.slack_app import create_app
from bot.views.notices import render
from db.migrate import upgrade_to_head
from db.session import make_engine, make_session_factory

logger = logging.getLogger(__name__)


@dataclass
class Runtime:
    """Everything a running PeerCoach process holds."""

    settings: Settings
    engine: Engine
    deps: Deps
    app: App


def open_database(settings: Settings) -> tuple[Engine, Deps]:
    """Migrate the database to head and return the engine and the app's dependencies."""
    logger.info("bringing the database schema to head")
    upgrade_to_head(settings.database_url)
    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    deps = Deps(settings=settings, sessions=sessions, render=render)
    if settings.oauth_enabled:
        deps.installation_store = installation_store(settings, engine, sessions, deps.clock)
    return engine, deps


def start_runtime(settings: Settings) -> Runtime:
    """Migrate the database to head, then build the app on it."""
    engine, deps = open_database(settings)
    return Runtime(settings=settings, engine=engine, deps=deps, app=create_app(deps))
