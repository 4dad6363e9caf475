"""The real app wired to the Slack emulator and a manual clock: used by tests and the demo."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import parse_qs, urlencode, urlparse

from pydantic import SecretStr
from slack_bolt import App
from sqlalchemy import Engine

from bot import crypto
from bot.config import Settings
from bot.deps import BACKGROUND_QUEUE, BoundedExecutor, Deps
from bot.installations import INSTALL_PATH, REDIRECT_PATH, installation_store
from bot.jobs.delivery import Delivery
from bot.jobs.rounds import TickReport, make_delivery, tick
from bot.sandbox.clock import ManualClock
from bot.sandbox.slack_emulator import SlackEmulator
from bot.sandbox.slack_requests import SlackRequests, TrackingExecutor, call_wsgi, join_values
from bot.sandbox.socket_requests import SocketSlackRequests
from bot.server import make_wsgi_app
from bot.slack_app import create_app
from bot.socket_mode import ObservedSocketModeHandler, make_socket_handler
from bot.views.notices import render
from db.session import make_session_factory

SIGNING_SECRET = "sandbox-signing-secret"
BOT_TOKEN = "xoxb-sandbox-token"
APP_TOKEN = "xapp-sandbox-token"


@dataclass
class Sandbox:
    """One workspace's worth of PeerCoach running against the emulator."""

    emulator: SlackEmulator
    engine: Engine
    clock: ManualClock
    # OAuth mode: workspaces are installed through Slack's OAuth flow (`install`), each with
    # its own token, instead of one SLACK_BOT_TOKEN.
    oauth: bool = False
    settings: Settings = field(init=False)
    deps: Deps = field(init=False)
    app: App = field(init=False)
    executor: TrackingExecutor = field(init=False)
    background: TrackingExecutor = field(init=False)
    background_capacity: int = BACKGROUND_QUEUE
    people: SlackRequests = field(init=False)
    socket_handler: ObservedSocketModeHandler | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        tokens: dict[str, object] = (
            {
                "slack_client_id": self.emulator.client_id,
                "slack_client_secret": self.emulator.client_secret,
            }
            if self.oauth
            else {"slack_bot_token": BOT_TOKEN}
        )
        self.settings = Settings(
            **tokens,  # type: ignore[arg-type]
            slack_signing_secret=SIGNING_SECRET,
            slack_api_url=self.emulator.base_url,
            database_url=self.engine.url.render_as_string(hide_password=False),
            run_scheduler=False,
            # The emulator stands in for Slack's hooks host here, and only here.
            slack_response_url_origins=(self.emulator.root_url,),
        )
        self.background = TrackingExecutor()
        if not self.settings.encryption_keys():  # the demo: a key for this run only
            self.settings = self.settings.model_copy(
                update={"peercoach_encryption_keys": SecretStr(crypto.generate_key())}
            )
        crypto.configure(self.settings.encryption_keys())
        self.deps = Deps(
            settings=self.settings,
            sessions=make_session_factory(self.engine),
            render=render,
            clock=self.clock,
            sleep=self.clock.sleep,
            background=BoundedExecutor(self.background, capacity=self.background_capacity),
        )
        if self.oauth:
            self.deps.installation_store = installation_store(
                self.settings, self.engine, self.deps.sessions, self.clock
            )
        self.executor = TrackingExecutor()
        self.app = create_app(self.deps, listener_executor=self.executor)
        wsgi = make_wsgi_app(self.app, self.engine, self.settings, clock=self.clock)
        self.wsgi = wsgi
        self.delivery: Delivery = make_delivery(self.deps)
        self.people = SlackRequests(
            wsgi,
            signing_secret=SIGNING_SECRET,
            emulator=self.emulator,
            team_id=self.emulator.team_id,
            event_clock=self._event_clock,
        )

    def install(
        self,
        team_id: str,
        *,
        installer: str,
        enterprise_id: str | None = None,
        enterprise_install: bool = False,
    ) -> SlackRequests:
        """An admin installs the app through Slack's OAuth flow: open /slack/install, approve
        on Slack's consent page (the emulator), come back to /slack/oauth_redirect. Returns
        the requests of that workspace's people."""
        page = call_wsgi(self.wsgi, "GET", INSTALL_PATH)
        link = re.search(r'href="(https://slack\.com/oauth/v2/authorize\?[^"]+)"', page.text)
        state = parse_qs(urlparse(html.unescape(link.group(1))).query)["state"][0] if link else ""
        if page.status != 200 or not state:
            raise AssertionError(f"install page: {page.status} {page.text[:200]!r}")
        code = self.emulator.approve_install(
            team_id,
            user_id=installer,
            enterprise_id=enterprise_id,
            enterprise_install=enterprise_install,
        )
        done = call_wsgi(
            self.wsgi,
            "GET",
            f"{REDIRECT_PATH}?{urlencode({'code': code, 'state': state})}",
            headers={"Cookie": page.headers.get("set-cookie", "").split(";")[0]},
        )
        if done.status != 200:
            raise AssertionError(f"OAuth callback failed: {done.status} {done.text[:200]}")
        return SlackRequests(
            self.wsgi,
            signing_secret=SIGNING_SECRET,
            emulator=self.emulator,
            team_id=team_id,
            enterprise_id=enterprise_id,
            enterprise_install=enterprise_install,
            event_clock=self._event_clock,
        )

    def _event_clock(self) -> float:
        """Unix seconds on the sandbox's clock (when Slack says an event happened)."""
        return self.clock.now().timestamp()

    @property
    def team_id(self) -> str:
        return self.emulator.team_id

    def now(self) -> datetime:
        return self.clock.now()

    def settle(self) -> None:
        """Wait until every listener started so far, and the background work it started,
        has finished."""
        while self.executor.pending or self.background.pending:
            self.executor.wait_idle()
            self.background.wait_idle()

    def join(
        self,
        user: str,
        *,
        level: int = 3,
        team: str = "Sales",
        goals: list[str] | None = None,
        never: list[str] | None = None,
        via: SlackRequests | None = None,
    ) -> None:
        """A person types `/peercoach join`, fills in the modal and submits it."""
        people = via or self.people  # another workspace's people, in OAuth mode
        people.command(user, "join")
        self.settle()
        view = self.emulator.calls_to("views.open")[-1].response["view"]
        values = join_values(level, team, goals or ["delegation"], never)
        response = people.submit(user, view, values)
        if response.status != 200 or response.body:
            raise AssertionError(f"join of {user} was refused: {response.body!r}")
        self.settle()

    def tick(self) -> TickReport:
        """Run the scheduler's work for the current (manual) time, as the minute job does."""
        return tick(self.deps, self.delivery, self.clock.now())

    def over_socket_mode(self, *, ping_interval: float = 1.0) -> ObservedSocketModeHandler:
        """Serve people over Socket Mode from now on: connect the app as `peercoach socket` does.

        The app is the same `create_app` one; people's requests become envelopes on the
        emulator's WebSocket endpoint. Returns the handler once its first connection is live.
        """
        handler = make_socket_handler(self.app, APP_TOKEN, ping_interval=ping_interval)
        handler.connect()
        self.socket_handler = handler
        self.emulator.socket_mode.wait_for_connections(1)
        self.people = SocketSlackRequests(
            self.emulator.socket_mode,
            emulator=self.emulator,
            team_id=self.emulator.team_id,
            event_clock=self._event_clock,
        )
        return handler

    def close(self) -> None:
        if self.socket_handler is not None:
            self.socket_handler.close()
        self.executor.shutdown(wait=True)
        self.background.shutdown(wait=True)
