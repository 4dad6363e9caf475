"""Typed settings read from the environment and `.env`, validated once at start."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import IO, Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot import crypto

# What each variable is for, used in the one-line error a misconfigured start prints.
HINTS: dict[str, str] = {
    "SLACK_BOT_TOKEN": "the bot token (xoxb-...) from your Slack app's OAuth & Permissions page",
    "SLACK_SIGNING_SECRET": "the signing secret from your Slack app's Basic Information page",
    "SLACK_APP_TOKEN": "an app-level token (xapp-...) with connections:write, for Socket Mode",
    "SLACK_CLIENT_ID": "the Client ID from your Slack app's Basic Information page (OAuth install)",
    "SLACK_CLIENT_SECRET": "the Client Secret from your Slack app's Basic Information page",
    "SLACK_SCOPES": "the bot scopes to request at install, comma-separated (see manifest.yml)",
    "UNINSTALL_GRACE_DAYS": "whole days to keep an uninstalled workspace's data, e.g. 30",
    "SLACK_API_URL": "the Slack Web API base URL, e.g. https://slack.com/api/",
    "DATABASE_URL": "a SQLAlchemy URL, e.g. sqlite:///peercoach.db or postgresql+psycopg://...",
    "PORT": "the HTTP port, a whole number such as 3000",
    "LOG_LEVEL": "one of DEBUG, INFO, WARNING, ERROR",
    "RUN_SCHEDULER": "true or false",
    "LOG_FORMAT": "text (the default) or json (one JSON object per line)",
    "METRICS_TOKEN": "a long random string Prometheus sends as a bearer token for /metrics",
    "METRICS_PORT": "the port worker and socket serve GET /metrics on, e.g. 9100",
    "PEERCOACH_ENCRYPTION_KEYS": (
        "comma-separated Fernet keys, newest first (make one with `peercoach keys generate`)"
    ),
    "HOST": "the address `serve` binds, e.g. 0.0.0.0 (every interface) or 127.0.0.1",
    "MIGRATE_ON_START": "true or false",
    "SCHEDULER_LEASE_SECONDS": "how long a worker's scheduler lease lasts, in seconds (>= 1)",
    "SHUTDOWN_GRACE_SECONDS": "seconds to finish in-flight work after SIGTERM (>= 0)",
    "MAX_REQUEST_BYTES": "the largest request body to accept, in bytes, e.g. 262144",
    "SLACK_RESPONSE_URL_ORIGINS": "comma-separated origins Slack's response_urls live on, "
    "e.g. https://hooks.slack.com (GovSlack: https://hooks.slack-gov.com)",
}


class ConfigError(Exception):
    """A missing or malformed setting; the message is one line naming the variable."""


class Settings(BaseSettings):
    """Everything PeerCoach reads from its environment."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    # OAuth v2 distribution (many workspaces): both set switch it on; SLACK_BOT_TOKEN is then
    # not used. Scopes default to the manifest's bot scopes.
    slack_client_id: str | None = None
    slack_client_secret: SecretStr | None = None
    slack_scopes: str = (
        "chat:write,commands,im:write,mpim:write,users:read,users:read.email,channels:read,"
        "groups:read,files:write,files:read"
    )
    # How long an uninstalled workspace's data is kept, so a reinstall keeps the programme.
    uninstall_grace_days: int = Field(default=30, ge=0, le=365)
    database_url: str = "sqlite:///peercoach.db"
    port: int = Field(default=3000, ge=1, le=65535)
    log_level: str = "INFO"
    # "json": one object per line (time, level, logger, message, request_id) for log shippers.
    log_format: Literal["text", "json"] = "text"
    # When set, GET /metrics asks for `Authorization: Bearer <token>`; either way keep /metrics
    # on the internal network (docs/operations.md).
    metrics_token: SecretStr | None = None
    # worker and socket have no HTTP server: with METRICS_PORT set they serve GET /metrics there.
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    metrics_host: str = "0.0.0.0"
    # The scheduler runs inside serve/socket unless a separate `peercoach worker` runs it.
    run_scheduler: bool = True
    # Keys that encrypt reflection text and tokens at rest, newest first (bot.crypto).
    peercoach_encryption_keys: SecretStr | None = None
    # Every interface by default (containers, load balancers); logged at start so it is no surprise.
    host: str = "0.0.0.0"
    # serve/socket/worker bring the schema to head at start; false where a separate
    # `peercoach db upgrade` step migrates before the new version rolls out.
    migrate_on_start: bool = True
    # A worker that dies keeps the scheduler idle for at most this long; the holder renews it
    # every third of it. Short values suit tests, not production (each renewal is a write).
    scheduler_lease_seconds: int = Field(default=180, ge=1, le=3600)
    # After SIGTERM, how long in-flight requests and the running tick may take to finish.
    shutdown_grace_seconds: float = Field(default=20.0, ge=0, le=600)
    # Slack's largest request to us carries one of our own views back (blocks and state);
    # ours stay far below this (docs/security.md). Anything bigger is refused with 413.
    max_request_bytes: int = Field(default=256 * 1024, ge=1024, le=16 * 1024 * 1024)
    # Where the error handler may post an answer: a response_url on any other origin is
    # ignored. Origins are scheme://host[:port], compared exactly.
    slack_response_url_origins: Annotated[tuple[str, ...], NoDecode] = ("https://hooks.slack.com",)

    @field_validator("slack_api_url")
    @classmethod
    def _api_url_ends_with_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value if value.endswith("/") else value + "/"

    @field_validator("slack_response_url_origins", mode="before")
    @classmethod
    def _origins(cls, value: object) -> tuple[str, ...]:
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list | tuple):
            raise ValueError("must be a comma-separated list of origins")
        origins = tuple(origin_of(str(item).strip()) for item in items if str(item).strip())
        if not origins:
            raise ValueError("must name at least one origin")
        return origins

    @field_validator("log_level")
    @classmethod
    def _known_log_level(cls, value: str) -> str:
        upper = value.upper()
        if upper not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("unknown log level")
        return upper

    @field_validator("log_format", mode="before")
    @classmethod
    def _log_format_any_case(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @field_validator("database_url")
    @classmethod
    def _database_url_has_scheme(cls, value: str) -> str:
        if "://" not in value:
            raise ValueError("is not a database URL")
        return value

    @field_validator("peercoach_encryption_keys")
    @classmethod
    def _fernet_keys(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and value.get_secret_value().strip():
            crypto.parse_keys(value.get_secret_value())  # raises ValueError naming the position
        return value

    def encryption_keys(self) -> list[str]:
        """The configured encryption keys, newest first (empty when unset)."""
        value = self.secret("peercoach_encryption_keys").strip()
        return crypto.parse_keys(value) if value else []

    @property
    def oauth_enabled(self) -> bool:
        """Whether the app installs through Slack's OAuth flow (many workspaces)."""
        return bool(self.slack_client_id and self.slack_client_secret)

    def secret(self, name: str) -> str:
        """Return the plain value of a secret setting such as `slack_bot_token`."""
        value = getattr(self, name)
        return value.get_secret_value() if value is not None else ""


def origin_of(url: str) -> str:
    """The origin `scheme://host[:port]` of a URL, lower-cased, default ports dropped.

    Raises ValueError for anything that is not an http(s) URL with a host.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL with a host: {url[:100]!r}")
    port = parts.port  # raises ValueError for a malformed port
    default = {"http": 80, "https": 443}[scheme]
    return f"{scheme}://{parts.hostname}" + (f":{port}" if port and port != default else "")


def load_settings(required: Iterable[str] = (), **overrides: object) -> Settings:
    """Read settings, turning any problem into a ConfigError that names the variable."""
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        error = exc.errors()[0]
        variable = str(error["loc"][0]).upper() if error["loc"] else "configuration"
        hint = HINTS.get(variable, "")
        raise ConfigError(
            f"{variable} is invalid ({error['msg']}): set it to {hint}".rstrip(": ")
        ) from None
    _check_install_mode(settings, required)
    for variable in required:
        if variable == "SLACK_BOT_TOKEN" and settings.oauth_enabled:
            continue  # each workspace's token comes from its OAuth installation
        if not getattr(settings, variable.lower()):
            raise ConfigError(f"{variable} is not set: set it to {HINTS[variable]}")
    return settings


def _check_install_mode(settings: Settings, required: Iterable[str]) -> None:
    """Refuse a mix of single-workspace and OAuth settings that cannot work, in one line."""
    has_id, has_secret = bool(settings.slack_client_id), settings.slack_client_secret is not None
    if has_id != has_secret:
        missing = "SLACK_CLIENT_SECRET" if has_id else "SLACK_CLIENT_ID"
        raise ConfigError(
            f"{missing} is not set: OAuth install needs both SLACK_CLIENT_ID and "
            f"SLACK_CLIENT_SECRET (set it to {HINTS[missing]})"
        )
    if settings.oauth_enabled and settings.slack_bot_token is not None:
        raise ConfigError(
            "SLACK_BOT_TOKEN is set together with SLACK_CLIENT_ID/SLACK_CLIENT_SECRET: use the "
            "token for one workspace, or OAuth for many, not both (unset one of them)"
        )


def configure_logging(settings: Settings, stream: IO[str] | None = None) -> logging.Handler:
    """Send the app's logs to stderr (or `stream`) at LOG_LEVEL, as text or JSON (LOG_FORMAT),
    the libraries' redacted.

    Every line a Slack request causes carries its request id; APScheduler's per-tick lines are
    shown only at DEBUG. Returns the installed handler.
    """
    from bot.logging_setup import install
    from bot.logs import redact_library_logs

    handler = install(settings.log_level, settings.log_format, stream)
    # Libraries' records reach our handler redacted: no request bodies, API arguments, SQL
    # values or exception messages (bot.logs).
    redact_library_logs()
    return handler
