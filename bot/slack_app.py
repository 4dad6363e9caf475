"""Build the Bolt app: one WebClient on SLACK_API_URL, the listeners, one error handler."""

from __future__ import annotations

import logging
import uuid
from concurrent.futures import Executor
from typing import Any

from slack_bolt import App
from slack_bolt.logger import get_bolt_logger
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_sdk import WebClient

from bot.deps import Deps
from bot.listeners import actions, admin, commands, events, pairing, views
from bot.slack_client import make_web_client

logger = logging.getLogger(__name__)


class _TokenFromEnvironment(logging.Filter):
    """Drop Bolt's "`token` will be unused" warning, which every start used to log.

    The client we hand Bolt carries the token (from our settings), and we pass no `token`;
    but App.__init__ falls back to os.environ["SLACK_BOT_TOKEN"] for `token` and warns
    whenever both a client and a token are present. The token it found is the one our client
    already has (settings read the same variable), so the warning is noise, not a conflict.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != warning_client_prioritized_and_token_skipped()


_TOKEN_FROM_ENVIRONMENT = _TokenFromEnvironment()

SORRY = "Sorry, something went wrong on our side (reference `{ref}`). Please try again."


def create_app(
    deps: Deps,
    *,
    client: WebClient | None = None,
    listener_executor: Executor | None = None,
) -> App:
    """Create the Bolt app that serves every workspace's requests."""
    settings = deps.settings
    get_bolt_logger(App).addFilter(_TOKEN_FROM_ENVIRONMENT)  # idempotent: same filter object
    app = App(
        signing_secret=settings.secret("slack_signing_secret") or None,
        client=client or make_web_client(settings),
        token_verification_enabled=False,
        listener_executor=listener_executor,
    )

    @app.error
    def report_error(error: Exception, body: dict[str, Any], respond: Any = None) -> None:
        """Log the failure with a reference and tell the person, instead of staying silent."""
        ref = uuid.uuid4().hex[:8]
        logger.exception("listener failed (ref %s)", ref, exc_info=error)
        if respond is not None and body.get("response_url"):
            try:
                respond(
                    response_type="ephemeral", replace_original=False, text=SORRY.format(ref=ref)
                )
            except Exception:
                logger.exception("could not tell the user about ref %s", ref)

    for module in (commands, actions, views, events, pairing, admin):
        module.register(app, deps)
    return app
