"""The one place a Slack WebClient is made, so every call honours SLACK_API_URL."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
)
from slack_sdk.http_retry.handler import RetryHandler

from bot.config import Settings


def make_web_client(
    settings: Settings, *, extra_handlers: list[RetryHandler] | None = None
) -> WebClient:
    """A WebClient on the configured base URL that retries connection errors and HTTP 429."""
    return WebClient(
        token=settings.secret("slack_bot_token") or None,
        base_url=settings.slack_api_url,
        timeout=15,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=2),
            RateLimitErrorRetryHandler(max_retry_count=2),
            *(extra_handlers or []),
        ],
    )
