"""Which Slack token speaks for which workspace: one bot token, or OAuth installations.

Single-workspace mode (SLACK_BOT_TOKEN) serves one workspace with the configured token. OAuth
mode (SLACK_CLIENT_ID + SLACK_CLIENT_SECRET) installs through Slack's OAuth v2 flow, keeps each
installation in slack-sdk's SQLAlchemy installation store (tables created by our migrations),
and every Slack call for a workspace, from a listener or a job, uses that workspace's own token.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from bot import crypto
from bot.config import Settings
from bot.services.lifecycle import installed
from bot.slack_client import make_web_client
from db.models import BOTS_TABLE, INSTALLATIONS_TABLE, OAUTH_STATES_TABLE, Workspace
from db.session import unit_of_work

logger = logging.getLogger(__name__)

_Stored = TypeVar("_Stored", Installation, Bot)

INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
STATE_EXPIRY_SECONDS = 600  # the consent page must be answered within ten minutes


class PeerCoachInstallationStore(SQLAlchemyInstallationStore):
    """slack-sdk's store, which also (re)opens the workspace's programme on each install."""

    def __init__(
        self,
        *,
        client_id: str,
        engine: Engine,
        sessions: sessionmaker[Session],
        clock: Callable[[], datetime],
    ) -> None:
        super().__init__(
            client_id=client_id,
            engine=engine,
            bots_table_name=BOTS_TABLE,
            installations_table_name=INSTALLATIONS_TABLE,
            logger=logger,
        )
        self._sessions = sessions
        self._clock = clock

    def save(self, installation: Installation) -> None:
        """Store the installation with its tokens encrypted, then mark its workspace installed
        (a reinstall inside the grace period keeps the programme)."""
        super().save(_sealed(installation))
        if installation.team_id:
            with unit_of_work(self._sessions) as session:
                installed(
                    session,
                    team_id=installation.team_id,
                    enterprise_id=installation.enterprise_id,
                    now=self._clock(),
                )

    def save_bot(self, bot: Bot) -> None:
        """Store a bot installation with its tokens encrypted."""
        super().save_bot(_sealed(bot))

    @classmethod
    def build_bot_entity(cls, row: Any) -> Bot:
        """A stored bot, its tokens decrypted."""
        return super().build_bot_entity(_opened(row))

    @classmethod
    def build_installation_entity(cls, row: Any) -> Installation:
        """A stored installation, its tokens decrypted."""
        return super().build_installation_entity(_opened(row))


TOKEN_FIELDS = ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token")


def _is_sealed(value: str) -> bool:
    # Slack's tokens start xox…/xapp-; a Fernet token is url-safe base64 starting "gAAAAA".
    return value.startswith("gAAAAA")


def _sealed(entity: _Stored) -> _Stored:
    """A copy of an installation or bot whose tokens are encrypted (cryptography's Fernet,
    keys from PEERCOACH_ENCRYPTION_KEYS): tokens are never stored in the clear."""
    sealed = copy.copy(entity)
    for name in TOKEN_FIELDS:
        value = getattr(sealed, name, None)
        if value and not _is_sealed(value):
            setattr(sealed, name, crypto.encrypt(value))
    return sealed


def _opened(row: Any) -> dict[str, Any]:
    values = dict(row)
    for name in TOKEN_FIELDS:
        if values.get(name):
            values[name] = crypto.decrypt(values[name])
    return values


def installation_store(
    settings: Settings,
    engine: Engine,
    sessions: sessionmaker[Session],
    clock: Callable[[], datetime],
) -> PeerCoachInstallationStore:
    """The installation store of an OAuth deployment."""
    assert settings.slack_client_id, "OAuth mode needs SLACK_CLIENT_ID"
    return PeerCoachInstallationStore(
        client_id=settings.slack_client_id, engine=engine, sessions=sessions, clock=clock
    )


def oauth_settings(settings: Settings, store: SQLAlchemyInstallationStore) -> OAuthSettings:
    """Bolt's OAuth flow: GET /slack/install and GET /slack/oauth_redirect."""
    return OAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.secret("slack_client_secret"),
        scopes=[s.strip() for s in settings.slack_scopes.split(",") if s.strip()],
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
        installation_store=store,
        installation_store_bot_only=True,
        state_store=SQLAlchemyOAuthStateStore(
            expiration_seconds=STATE_EXPIRY_SECONDS,
            engine=store.engine,
            table_name=OAUTH_STATES_TABLE,
            logger=logger,
        ),
    )


class SlackClients:
    """A Web API client for a workspace, holding that workspace's own bot token."""

    def __init__(
        self,
        settings: Settings,
        sessions: sessionmaker[Session],
        store: SQLAlchemyInstallationStore | None,
        *,
        retry_rate_limits: bool = False,
    ) -> None:
        self._settings = settings
        self._sessions = sessions
        self._store = store
        self._retry_rate_limits = retry_rate_limits

    def for_workspace(self, workspace_id: int) -> WebClient:
        """The client for one of our workspaces (by row id).

        Raises LookupError in OAuth mode when the workspace has no installation (never
        installed, or uninstalled).
        """
        client = make_web_client(self._settings, retry_rate_limits=self._retry_rate_limits)
        if self._store is None:
            return client  # single-workspace mode: the configured token
        with unit_of_work(self._sessions) as session:
            row = session.execute(
                select(Workspace.team_id, Workspace.enterprise_id).where(
                    Workspace.id == workspace_id
                )
            ).one_or_none()
        if row is None:
            raise LookupError(f"no workspace {workspace_id}")
        team_id, enterprise_id = row
        bot = self._store.find_bot(enterprise_id=enterprise_id, team_id=team_id)
        if bot is None and enterprise_id is not None:  # an org-wide install serves every team
            bot = self._store.find_bot(
                enterprise_id=enterprise_id, team_id=None, is_enterprise_install=True
            )
        if bot is None:
            raise LookupError(f"workspace {workspace_id} has no installation")
        client.token = bot.bot_token
        return client
