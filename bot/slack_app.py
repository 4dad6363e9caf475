"""Build the Bolt app: one WebClient on SLACK_API_URL, the listeners, one error handler."""

from __future__ import annotations

import contextvars
import json
import logging
import re
import uuid
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from typing import Any, TypeVar

from slack_bolt import App, BoltContext, BoltRequest, BoltResponse, Respond
from slack_bolt.authorization.authorize import InstallationStoreAuthorize
from slack_bolt.logger import get_bolt_logger
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_bolt.middleware import Middleware
from slack_bolt.middleware.authorization.multi_teams_authorization import MultiTeamsAuthorization
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import ids, observability
from bot.deps import Deps
from bot.errors import SLACK_BUSY_TEXT, ChooseProgramme, PeerCoachError, StaleAction
from bot.installations import oauth_settings
from bot.listeners import (
    actions,
    admin,
    commands,
    events,
    meetings,
    pairing,
    privacy,
    pulse,
    views,
)
from bot.listeners.common import answerable
from bot.logs import BOLT_APP_NAME, describe_failure, redact_library_logs
from bot.services import lifecycle
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


class _NotInstalledIsAWarning(logging.Filter):
    """Log Bolt's "installation ... was not found" at WARNING, not ERROR.

    A signed request from a workspace with no installation is expected, not a fault of ours:
    the workspace uninstalled (its events may still be in flight) or someone used the app
    config page's install button. Bolt answers the person itself; nothing is written or sent
    by us. ERROR stays for what an operator must act on.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.ERROR and "AuthorizeResult" in record.getMessage():
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


_NOT_INSTALLED_IS_A_WARNING = _NotInstalledIsAWarning()

SORRY = "Sorry, something went wrong on our side (reference `{ref}`). Please try again."
# Set by our own middleware, which Bolt runs only after the request's signature checked out.
VERIFIED = "peercoach_verified"


class AlreadyAnswered(Exception):
    """Raised by the error handler to keep Bolt from clearing an acknowledgement."""


R = TypeVar("R")
# Whether the request this thread serves runs its listener here (set by the middleware for
# every verified request; see _on_request_thread).
_ON_REQUEST_THREAD: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "peercoach_on_request_thread", default=False
)


def _on_request_thread(body: dict[str, Any]) -> bool:
    """Whether a request's listener may run on the request's own thread: the slash command,
    whose every subcommand acks as its last step (after at most a bounded unit of work;
    Slack work goes to deps.background), and an App Home open, which Bolt acks before the
    listener, whose only work is handing the render to deps.background. Nothing waits then
    that would not have waited anyway, and the request is spared a hop to Bolt's listener
    pool and Bolt's 10 ms polling for the ack. Every other listener may work after its ack
    (an event's unit of work, a button that records after acking): those stay on the pool.
    """
    if "command" in body:
        return True
    event = body.get("event")
    return isinstance(event, dict) and event.get("type") == "app_home_opened"


class _ListenerExecutor(Executor):
    """Bolt's listener pool (`pool`), except that a request marked by the middleware runs
    its listener in the calling thread. Either way the outcome is in the returned Future,
    as a pool thread would leave it (an exception ends there, unraised)."""

    def __init__(self, pool: Executor) -> None:
        self.pool = pool

    def submit(self, fn: Callable[..., R], /, *args: Any, **kwargs: Any) -> Future[R]:
        if not _ON_REQUEST_THREAD.get():
            return self.pool.submit(fn, *args, **kwargs)
        future: Future[R] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as error:
            future.set_exception(error)
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self.pool.shutdown(wait=wait, cancel_futures=cancel_futures)


class _VerifiedRequest(Middleware):
    """Bolt runs middleware only once a request's signature checked out: mark it verified
    (for the error handler), say where its listener runs (_on_request_thread), note its kind
    (for the latency metrics) and, once per process, an Enterprise Grid workspace's org (jobs
    find an org-wide installation's token by it).

    A Middleware subclass, not a function: Bolt builds a function middleware's arguments
    anew for every request (its kwargs injection), which cost more than the work here.
    """

    def __init__(self, deps: Deps) -> None:
        self._deps = deps
        self._orgs_seen: set[tuple[str, str]] = set()

    def process(
        self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]
    ) -> BoltResponse | None:
        context = req.context
        context[VERIFIED] = True
        _ON_REQUEST_THREAD.set(_on_request_thread(req.body))
        observability.note_request_kind(req.body)
        org = (context.enterprise_id or "", context.team_id or "")
        if all(org) and org not in self._orgs_seen:
            with self._deps.unit_of_work() as session:
                lifecycle.installed_in_org(
                    session, team_id=org[1], enterprise_id=org[0], now=self._deps.clock()
                )
            self._orgs_seen.add(org)
        return next()


def create_app(
    deps: Deps,
    *,
    client: WebClient | None = None,
    listener_executor: Executor | None = None,
) -> App:
    """Create the Bolt app that serves every workspace's requests."""
    settings = deps.settings
    redact_library_logs()
    get_bolt_logger(App).addFilter(_TOKEN_FROM_ENVIRONMENT)  # idempotent: same filter object
    get_bolt_logger(MultiTeamsAuthorization).addFilter(_NOT_INSTALLED_IS_A_WARNING)
    client = client or make_web_client(settings)
    # Listeners run on pool threads: carry the request's id (and kind) over to them.
    executor = _ListenerExecutor(
        observability.ContextPropagatingExecutor(
            listener_executor or ThreadPoolExecutor(max_workers=10)
        )
    )
    store = deps.installation_store
    if store is None:
        app = App(
            name=BOLT_APP_NAME,
            # The client carries the token; handing Bolt both only earns a warning.
            signing_secret=settings.secret("slack_signing_secret") or None,
            client=client,
            token_verification_enabled=False,
            listener_executor=executor,
        )
    else:
        # OAuth: each request is authorized with its workspace's installation, cached in
        # this process so a request costs no extra database read once its team was seen.
        app = App(
            name=BOLT_APP_NAME,
            signing_secret=settings.secret("slack_signing_secret") or None,
            client=client,
            oauth_settings=oauth_settings(settings, store),
            installation_store=store,
            authorize=InstallationStoreAuthorize(  # type: ignore[arg-type]  # an Authorize is accepted
                installation_store=store,
                client_id=settings.slack_client_id,
                client_secret=settings.secret("slack_client_secret"),
                bot_only=True,
                cache_enabled=True,
                client=client,
                logger=logging.getLogger("slack_bolt.authorize"),
            ),
            listener_executor=executor,
        )
    app.use(_VerifiedRequest(deps))

    @app.error
    def report_error(
        error: Exception,
        body: dict[str, Any],
        response: BoltResponse | None,
        context: BoltContext,
        client: WebClient,
        respond: Respond,
    ) -> BoltResponse | None:
        """Answer a known error plainly; log anything else with a reference and say sorry.

        Nothing is answered, written or called for a request whose signature was not verified.
        """
        if not context.get(VERIFIED):
            logger.warning("rejected an unverified request (%s)", type(error).__name__)
            return None
        if isinstance(error, ChooseProgramme) and isinstance(body.get("text"), str):
            typed, _ = commands.split_programme(body["text"].split())
            error = error.for_command(" ".join(typed))  # the example: what they typed
        if isinstance(error, PeerCoachError):
            answer = _answer(deps, error.message, error.block_id, body, response, client, respond)
        elif isinstance(error, SlackApiError) and error.response.status_code == 429:
            # Slack asked us to slow down: nothing is wrong, the person tries again shortly.
            logger.warning("Slack rate-limited a listener's call (429)")
            answer = _answer(deps, SLACK_BUSY_TEXT, None, body, response, client, respond)
        else:
            ref = uuid.uuid4().hex[:8]
            observability.listener_failed()
            # Where it failed, never what with: no payload, no exception message (a database
            # error's message can quote the values it was given).
            logger.error("listener failed (ref %s): %s", ref, describe_failure(error))
            answer = _answer(deps, SORRY.format(ref=ref), None, body, response, client, respond)
        if response is None:
            # The listener had acknowledged. After this handler returns, Bolt (1.30,
            # ThreadListenerRunner) clears that acknowledgement, so the request would wait
            # out Slack's 3 s and answer 404. Leaving by an exception skips that step; it
            # ends in the listener pool's future, unlogged. The person has their answer.
            raise AlreadyAnswered()
        return answer

    # Bolt tries listeners in this order until one matches, building each matcher's
    # arguments as it goes: the command and the events (an App Home open is the most
    # frequent request) come first. No two modules listen to the same request.
    for module in (commands, events, actions, views, pairing, meetings, pulse, admin, privacy):
        module.register(app, deps)

    # Buttons and modals this version does not have (from an older version, or forged) get
    # "out of date", not Slack's own error. They match only ids the app does not know, so
    # they never run for a request a listener above matched.
    def out_of_date(ack: Any) -> None:
        raise StaleAction()

    known_actions, known_views = _known_ids()
    app.action(_anything_but(known_actions))(out_of_date)
    app.view(_anything_but(known_views))(out_of_date)
    return app


def _known_ids() -> tuple[set[str], set[str]]:
    """The button action ids and modal callback ids this version of the app listens to
    (bot.ids; an input's `*_ACTION` id never arrives as an action of its own)."""
    constants = {n: v for n, v in vars(ids).items() if n.isupper() and isinstance(v, str)}
    views = {v for n, v in constants.items() if n.endswith("_MODAL")}
    inputs = ("_MODAL", "_BLOCK", "_ACTION")
    actions = {v for n, v in constants.items() if not n.endswith(inputs) and n != "COMMAND"}
    return actions, views


def _anything_but(known: set[str]) -> re.Pattern[str]:
    return re.compile(rf"^(?!(?:{'|'.join(map(re.escape, sorted(known)))})$)")


def _answer(
    deps: Deps,
    text: str,
    block_id: str | None,
    body: dict[str, Any],
    response: BoltResponse | None,
    client: WebClient,
    respond: Respond,
) -> BoltResponse | None:
    """Tell the person `text` the quickest way the request allows.

    Not yet acknowledged: in the acknowledgement itself (a slash command's ephemeral reply,
    a modal's inline error). Otherwise after the ack, in the background: through the
    request's response_url when it has one, else by DM.
    """
    view = body.get("view") or {}
    if response is not None and body.get("type") == "view_submission":
        block = block_id or _first_input_block(view)
        if block is not None:
            return _json_response({"response_action": "errors", "errors": {block: text}})
    if response is not None and "command" in body:
        return _json_response({"response_type": "ephemeral", "text": text})
    user_id = (body.get("user") or {}).get("id") or body.get("user_id")
    if answerable(body.get("response_url"), deps.settings.slack_response_url_origins):
        deps.background.submit(
            respond, response_type="ephemeral", replace_original=False, text=text
        )
    elif user_id:
        deps.background.submit(client.chat_postMessage, channel=user_id, text=text)
    return _json_response({}) if response is not None else None


def _first_input_block(view: dict[str, Any]) -> str | None:
    for block in view.get("blocks") or []:
        if block.get("type") == "input" and block.get("block_id"):
            return str(block["block_id"])
    return None


def _json_response(payload: dict[str, Any]) -> BoltResponse:
    return BoltResponse(
        status=200,
        body=json.dumps(payload) if payload else "",
        headers={"content-type": "application/json;charset=utf-8"} if payload else {},
    )
