"""Typed settings read from the environment and `.env`, validated once at start."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

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
    database_url: str = "sqlite:///peercoach.db"
    port: int = Field(default=3000, ge=1, le=65535)
    log_level: str = "INFO"
    # The scheduler runs inside serve/socket unless a separate `peercoach worker` runs it.
    run_scheduler: bool = True
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
    for variable in required:
        if not getattr(settings, variable.lower()):
            raise ConfigError(f"{variable} is not set: set it to {HINTS[variable]}")
    return settings


def configure_logging(settings: Settings) -> None:
    """Send the app's logs to stderr at the configured level, the libraries' redacted
    (bot.logs: no request bodies, API arguments, SQL values or exception messages)."""
    from bot.logs import redact_library_logs

    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    redact_library_logs()
