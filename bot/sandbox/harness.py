"""The real app wired to the Slack emulator and a manual clock: used by tests and the demo."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from slack_bolt import App
from sqlalchemy import Engine

from bot.config import Settings
from bot.deps import BACKGROUND_QUEUE, BoundedExecutor, Deps
from bot.jobs.delivery import Delivery
from bot.jobs.rounds import TickReport, make_delivery, tick
from bot.sandbox.clock import ManualClock
from bot.sandbox.slack_emulator import SlackEmulator
from bot.sandbox.slack_requests import SlackRequests, TrackingExecutor, join_values
from bot.server import make_wsgi_app
from bot.slack_app import create_app
from bot.views.notices import render
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
    background: TrackingExecutor = field(init=False)
    background_capacity: int = BACKGROUND_QUEUE
    people: SlackRequests = field(init=False)

    def __post_init__(self) -> None:
        self.settings = Settings(
            slack_bot_token=BOT_TOKEN,
            slack_signing_secret=SIGNING_SECRET,
            slack_api_url=self.emulator.base_url,
            database_url=self.engine.url.render_as_string(hide_password=False),
            run_scheduler=False,
        )
        self.background = TrackingExecutor()
        self.deps = Deps(
            settings=self.settings,
            sessions=make_session_factory(self.engine),
            render=render,
            clock=self.clock,
            sleep=self.clock.sleep,
            background=BoundedExecutor(self.background, capacity=self.background_capacity),
        )
        self.executor = TrackingExecutor()
        self.app = create_app(self.deps, listener_executor=self.executor)
        wsgi = make_wsgi_app(self.app, self.engine)
        self.wsgi = wsgi
        self.delivery: Delivery = make_delivery(self.deps)
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
        self.background.shutdown(wait=True)
