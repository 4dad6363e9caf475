"""Typed settings read from the environment and `.env`, validated once at start."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# What each variable is for, used in the one-line error a misconfigured start prints.
HINTS: dict[str, str] = {
    "SLACK_BOT_TOKEN": "the bot token (xoxb-...) from your Slack app's OAuth & Permissions page",
    "SLACK_SIGNING_SECRET": "the signing secret from your Slack app's Basic Information page",
    "SLACK_APP_TOKEN": "an app-level token (xapp-...) with connections:write, for Socket Mode",
    "SLACK_API_URL": "the Slack Web API base URL, e.g. https://slack.com/api/",
    "DATABASE_URL": "a SQLAlchemy URL, e.g. sqlite:///peercoach.db or postgresql+psycopg://...",
    "PORT": "the HTTP port, a whole number such as 3000",
    "LOG_LEVEL": "one of DEBUG, INFO, WARNING, ERROR",
    "RUN_SCHEDULER": "true or false",
    "HOST": "the address `serve` binds, e.g. 0.0.0.0 (every interface) or 127.0.0.1",
    "MIGRATE_ON_START": "true or false",
    "SCHEDULER_LEASE_SECONDS": "how long a worker's scheduler lease lasts, in seconds (>= 1)",
    "SHUTDOWN_GRACE_SECONDS": "seconds to finish in-flight work after SIGTERM (>= 0)",
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
    database_url: str = "sqlite:///peercoach.db"
    port: int = Field(default=3000, ge=1, le=65535)
    log_level: str = "INFO"
    # The scheduler runs inside serve/socket unless a separate `peercoach worker` runs it.
    run_scheduler: bool = True
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

    @field_validator("slack_api_url")
    @classmethod
    def _api_url_ends_with_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value if value.endswith("/") else value + "/"

    @field_validator("log_level")
    @classmethod
    def _known_log_level(cls, value: str) -> str:
        upper = value.upper()
        if upper not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("unknown log level")
        return upper

    @field_validator("database_url")
    @classmethod
    def _database_url_has_scheme(cls, value: str) -> str:
        if "://" not in value:
            raise ValueError("is not a database URL")
        return value

    def secret(self, name: str) -> str:
        """Return the plain value of a secret setting such as `slack_bot_token`."""
        value = getattr(self, name)
        return value.get_secret_value() if value is not None else ""


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
    for variable in required:
        if not getattr(settings, variable.lower()):
            raise ConfigError(f"{variable} is not set: set it to {HINTS[variable]}")
    return settings


def configure_logging(settings: Settings) -> None:
    """Send the app's logs to stderr at the configured level."""
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
