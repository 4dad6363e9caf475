"""The one place a Slack WebClient is made, so every call honours SLACK_API_URL."""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
)
from slack_sdk.http_retry.handler import RetryHandler

from bot.config import Settings


def make_web_client(settings: Settings, *, retry_rate_limits: bool = False) -> WebClient:
    """A WebClient on the configured base URL that retries connection errors.

    HTTP 429 raises SlackApiError("ratelimited") at once by default: a thread that slept out
    Retry-After would be a thread acks cannot use. The outbox's delivery honours Retry-After
    on its own clock; `retry_rate_limits=True` (slack-sdk's handler, which sleeps the calling
    thread) is for one-off tools only.
    """
    handlers: list[RetryHandler] = [ConnectionErrorRetryHandler(max_retry_count=2)]
    if retry_rate_limits:
        handlers.append(RateLimitErrorRetryHandler(max_retry_count=2))
    return WebClient(
        token=settings.secret("slack_bot_token") or None,
        base_url=settings.slack_api_url,
        timeout=15,
        retry_handlers=handlers,
    )


def upload_to_dm(client: WebClient, user_id: str, **upload: Any) -> None:
    """Upload a file into the app's DM with a person (files_upload_v2 needs a channel id)."""
    channel = client.conversations_open(users=user_id)["channel"]["id"]
    client.files_upload_v2(channel=channel, **upload)
