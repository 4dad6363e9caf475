"""The real app wired to the Slack emulator and a manual clock: used by tests and the demo."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from pydantic import SecretStr
from slack_bolt import App
from sqlalchemy import Engine

from bot import crypto
from bot.config import Settings
from bot.deps import Deps
from bot.sandbox.clock import ManualClock
from bot.sandbox.slack_emulator import SlackEmulator
from bot.sandbox.slack_requests import SlackRequests, TrackingExecutor, join_values
from bot.scheduler import TickReport, tick
from bot.server import make_wsgi_app
from bot.services.delivery import Delivery
from bot.slack_app import create_app
from bot.slack_client import make_web_client
from db.session import make_session_factory

SIGNING_SECRET = "sandbox-signing-secret"
BOT_TOKEN = "xoxb-sandbox-token"


@dataclass
class Sandbox:
    """One workspace's worth of PeerCoach running against the emulator."""

    emulator: SlackEmulator
    engine: Engine
    clock: ManualClock
    settings: Settings = field(init=False)
    deps: Deps = field(init=False)
    app: App = field(init=False)
    executor: TrackingExecutor = field(init=False)
    people: SlackRequests = field(init=False)

    def __post_init__(self) -> None:
        self.settings = Settings(
            slack_bot_token=BOT_TOKEN,
            slack_signing_secret=SIGNING_SECRET,
            slack_api_url=self.emulator.base_url,
            database_url=self.engine.url.render_as_string(hide_password=False),
            run_scheduler=False,
        )
        if not self.settings.encryption_keys():  # the demo: a key for this run only
            self.settings = self.settings.model_copy(
                update={"peercoach_encryption_keys": SecretStr(crypto.generate_key())}
            )
        crypto.configure(self.settings.encryption_keys())
        self.deps = Deps(
            settings=self.settings,
            sessions=make_session_factory(self.engine),
            clock=self.clock,
            sleep=self.clock.sleep,
        )
        self.executor = TrackingExecutor()
        self.app = create_app(self.deps, listener_executor=self.executor)
        wsgi = make_wsgi_app(self.app, self.engine)
        self.wsgi = wsgi
        self.delivery = Delivery(
            self.deps.sessions,
            make_web_client(self.settings, retry_rate_limits=False),
            clock=self.clock,
            sleep=self.clock.sleep,
        )
        self.people = SlackRequests(
            wsgi,
            signing_secret=SIGNING_SECRET,
            emulator=self.emulator,
            team_id=self.emulator.team_id,
        )

    @property
    def team_id(self) -> str:
        return self.emulator.team_id

    def now(self) -> datetime:
        return self.clock.now()

    def settle(self) -> None:
        """Wait until every listener started so far has finished its work."""
        self.executor.wait_idle()

    def join(
        self,
        user: str,
        *,
        level: int = 3,
        team: str = "Sales",
        goals: list[str] | None = None,
        never: list[str] | None = None,
    ) -> None:
        """A person types `/peercoach join`, fills in the modal and submits it."""
        self.people.command(user, "join")
        self.settle()
        view = self.emulator.calls_to("views.open")[-1].response["view"]
        values = join_values(level, team, goals or ["delegation"], never)
        response = self.people.submit(user, view, values)
        if response.status != 200 or response.body:
            raise AssertionError(f"join of {user} was refused: {response.body!r}")
        self.settle()

    def tick(self) -> TickReport:
        """Run the scheduler's work for the current (manual) time, as the minute job does."""
        return tick(self.deps, self.delivery, self.clock.now())

    def close(self) -> None:
        self.executor.shutdown(wait=True)
