"""The one place a Slack WebClient is made, so every call honours SLACK_API_URL."""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
)
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from bot import observability
from bot.config import Settings


class RateLimitCounter(RetryHandler):
    """Counts Slack's HTTP 429 answers for /metrics; never asks for a retry itself.

    slack-sdk shows every answer to each retry handler in turn, so placed first this one sees
    the 429s of listeners and of delivery, whether or not a later handler retries them.
    """

    def __init__(self) -> None:
        super().__init__(max_retry_count=1_000_000_000)  # never let the count gate the check

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is not None and response.status_code == 429:
            observability.rate_limited(request.url)
        return False


def make_web_client(settings: Settings, *, retry_rate_limits: bool = False) -> WebClient:
    """A WebClient on the configured base URL that retries connection errors.

    HTTP 429 raises SlackApiError at once by default: a listener thread that slept out
    Retry-After would be a thread acks cannot use (and a modal's trigger_id is dead after 3 s
    anyway); the error handler tells the person to try again. The outbox's delivery honours
    Retry-After on its own clock. `retry_rate_limits=True` (slack-sdk's handler, which sleeps
    the calling thread) is for one-off tools only.
    """
    handlers: list[RetryHandler] = [
        RateLimitCounter(),
        ConnectionErrorRetryHandler(max_retry_count=2),
    ]
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
