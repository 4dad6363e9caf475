"""Build the Bolt app: one WebClient on SLACK_API_URL, the listeners, one error handler."""

from __future__ import annotations

import logging
import uuid
from concurrent.futures import Executor
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.deps import Deps
from bot.listeners import actions, admin, commands, events, pairing, privacy, views
from bot.slack_client import make_web_client

logger = logging.getLogger(__name__)

SORRY = "Sorry, something went wrong on our side (reference `{ref}`). Please try again."


def create_app(
    deps: Deps,
    *,
    client: WebClient | None = None,
    listener_executor: Executor | None = None,
) -> App:
    """Create the Bolt app that serves every workspace's requests."""
    settings = deps.settings
    app = App(
        # The client carries the token; handing Bolt both only earns a warning.
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

    for module in (commands, actions, views, events, pairing, admin, privacy):
        module.register(app, deps)
    return app
