"""`peercoach demo`: the real app, a simulated workspace and weeks of rounds, all on this machine.

The demo starts the real Bolt app against the local Slack emulator (which refuses every call
real Slack would refuse) and a manual clock. A cast of simulated leaders joins through the real
slash command and modal, then weekly rounds run: people pause, skip and leave, groups meet (or
not), members reflect and answer their commitment follow-ups, all through signed requests as
Slack sends them. The terminal shows what Slack users saw. Nothing leaves the machine.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import Engine, func, select

from bot import ids
from bot.sandbox.clock import ManualClock
from bot.sandbox.demo_cast import COMMITMENTS, SUGGESTIONS, TAKEAWAYS, Leader, make_cast
from bot.sandbox.demo_figures import programme_figures_lines
from bot.sandbox.demo_programmes import second_programme
from bot.sandbox.demo_render import blocks_to_text, indent, join_names, progress_bar
from bot.sandbox.demo_transcript import Transcript
from bot.sandbox.harness import Sandbox
from bot.sandbox.slack_emulator import Message, SlackEmulator
from bot.sandbox.slack_requests import HttpResponse, text_input
from bot.sandbox.slack_requests import select as select_state
from bot.services.rounds import MISSED_ROUNDS_BEFORE_PAUSE
from db.migrate import upgrade_to_head
from db.models import GroupSeat, PairGroup, Reflection, Round, Workspace
from db.session import make_engine

# A Monday, 08:00 UTC: people join an hour before the first round (Mondays 09:00 UTC).
DEMO_START = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
FIRST_ROUND = DEMO_START + timedelta(hours=1)
TEAM_ID = "T0DEMO"
MAX_PEOPLE = 200
MAX_CYCLES = 52
PAUSE_BETWEEN_CYCLES = 0.2  # seconds, only when a person watches a terminal

# What a group does in a round, and how likely it is.
OUTCOMES = {"met": 60, "cant_make_it": 10, "met_after_nudge": 15, "met_after_checkin": 5}
QUIET = "quiet"  # nobody in the group says anything
OUTCOME_WEIGHTS = {**OUTCOMES, QUIET: 10}
REFLECT_CHANCE = 0.8
SHARE_CHANCE = 0.2
ANSWER_COMMITMENT_CHANCE = 0.85
COMMITMENT_ANSWERS = {ids.COMMITMENT_DONE: 5, ids.COMMITMENT_PARTLY: 3, ids.COMMITMENT_NOT_YET: 2}
USEFULNESS_WEIGHTS = {1: 1, 2: 2, 3: 5, 4: 8, 5: 6}
PULSE_ANSWER_CHANCE = 0.75
SUGGEST_CHANCE = 0.3

INTRO_PREFIX = "Meet your PeerCoach peers"
# The programme's admin: not a member; runs /peercoach admin once, then gets each digest.
ADMIN_ID = "U0ADMIN"
ADMIN_NAME = "Pat Quinn (programme admin)"
GHOST = "ghost"  # the plan of the group with the person who never answers


# -- arguments -------------------------------------------------------------------------------


def _bounded(low: int, high: int) -> Any:
    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
        if not low <= number <= high:
            raise argparse.ArgumentTypeError(f"must be between {low} and {high}")
        return number

    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="peercoach demo",
        description=(
            "Run the real PeerCoach app against a local Slack emulator with simulated leaders, "
            "and show what they would see in Slack. Nothing leaves this machine."
        ),
    )
    parser.add_argument(
        "--people",
        type=_bounded(4, MAX_PEOPLE),
        default=24,
        help="how many simulated leaders join (default 24, at least 4)",
    )
    parser.add_argument(
        "--cycles",
        type=_bounded(1, MAX_CYCLES),
        default=6,
        help="how many weekly rounds to run (default 6)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=1,
        help="makes the run reproducible: the same seed gives the same output (default 1)",
    )
    parser.add_argument(
        "--fast", action="store_true", help="skip the short pauses that let a person watch"
    )
    parser.add_argument(
        "--database-url",
        help="database to use (default: a SQLite file in a temporary folder, removed afterwards)",
    )
    parser.add_argument(
        "--show-messages",
        action="store_true",
        help="after each round, print every message, modal and App Home the app showed "
        "people in it (and the admin's digest), as text",
    )
    parser.add_argument(
        "--chart",
        default="peercoach-demo-chart.png",
        help="where to write the admin's participation chart (PNG; default: "
        "peercoach-demo-chart.png in the current folder)",
    )
    return parser


# -- what happened ---------------------------------------------------------------------------


@dataclass
class CycleReport:
    """One round as the simulated people lived it."""

    number: int
    round_at: datetime
    groups: list[tuple[str, ...]] = field(default_factory=list)
    eligible: set[str] = field(default_factory=set)
    away: dict[str, str] = field(default_factory=dict)  # user -> "paused 2 weeks", "skip", ...
    left: list[str] = field(default_factory=list)
    auto_paused: list[str] = field(default_factory=list)
    unpaired: list[str] = field(default_factory=list)
    intro: Message | None = None
    met: int = 0
    cant_make_it: int = 0
    reflections: int = 0
    shared: int = 0
    commitments_asked: int = 0
    commitments_answered: int = 0
    nudges: int = 0
    checkins: int = 0
    times_picked: int = 0
    reminders: int = 0
    # One pick as it happened: who picked which time for which group.
    example_pick: str | None = None
    pulses_asked: int = 0
    pulses_answered: int = 0
    # What happened to the person who never answers, in words.
    ghost: list[str] = field(default_factory=list)

    @property
    def paired(self) -> set[str]:
        return {u for g in self.groups for u in g}


@dataclass
class DemoResult:
    cycles: list[CycleReport] = field(default_factory=list)
    usefulness: list[int] = field(default_factory=list)
    commitments_made: int = 0
    answers: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    api_calls: int = 0


# -- the world -------------------------------------------------------------------------------


@contextmanager
def open_world(engine: Engine, clock: ManualClock) -> Iterator[Sandbox]:
    """The real app wired to a validating Slack emulator and the manual clock."""
    with SlackEmulator(team_id=TEAM_ID, clock=clock.monotonic) as emulator:
        sandbox = Sandbox(emulator=emulator, engine=engine, clock=clock)
        try:
            yield sandbox
        finally:
            sandbox.settle()
            sandbox.close()


def slot_choices(message: Message) -> list[tuple[datetime, str]]:
    """The suggested times on an intro: (start, its "Pick this time" button's value)."""
    found = []
    for block in message.blocks:
        accessory = block.get("accessory") or {}
        if accessory.get("action_id") != ids.PICK_SLOT:
            continue
        stamp = re.search(r"<!date\^(\d+)\^", str(block.get("text", {}).get("text", "")))
        if stamp is not None:
            found.append((datetime.fromtimestamp(int(stamp.group(1)), tz=UTC), accessory["value"]))
    return found


def button_value(message: Message, action_id: str) -> str | None:
    for block in message.blocks:
        for element in block.get("elements", []):
            if element.get("action_id") == action_id:
                return str(element.get("value", ""))
    return None


class DemoRun:
    """Plays the simulated workspace through the real app, cycle by cycle."""

    def __init__(
        self,
        sandbox: Sandbox,
        cast: list[Leader],
        rng: random.Random,
        cycles: int,
        out: TextIO,
        *,
        live: bool,
        show_messages: bool = False,
    ) -> None:
        self.sandbox = sandbox
        self.emulator = sandbox.emulator
        self.cast = cast
        self.names = {leader.user_id: leader.name for leader in cast}
        self.names[ADMIN_ID] = ADMIN_NAME
        self.transcript = Transcript(self.emulator, self.names) if show_messages else None
        self.silent_rounds = 0  # the ghost's silent rounds in a row, as the demo counts them
        self.rng = rng
        self.cycles = cycles
        self.out = out
        self.live = live
        self.result = DemoResult()
        self.present: list[str] = []  # joined and not left, in join order
        self.away_until: dict[str, int] = {}  # user -> first cycle index they are back
        self.away_reason: dict[str, tuple[str, int]] = {}  # user -> (command, cycle index)
        self.auto_paused: set[str] = set()
        self.silent = rng.choice(cast).user_id  # never responds to anything
        self.leave_at = rng.randrange(1, cycles) if cycles > 1 else 0

    # -- people acting through Slack ---------------------------------------------------------

    def name(self, user_id: str) -> str:
        return self.names.get(user_id, user_id)

    def _expect(self, response: HttpResponse, what: str) -> bool:
        if response.status != 200:
            self.result.problems.append(f"{what}: HTTP {response.status} {response.body!r}")
            return False
        return True

    def command(self, user: str, text: str) -> None:
        response = self.sandbox.people.command(user, text)
        self._expect(response, f"/peercoach {text} by {self.name(user)}")
        self.sandbox.settle()

    def press(self, user: str, message: Message, action_id: str) -> bool:
        value = button_value(message, action_id)
        if value is None:
            self.result.problems.append(f"no {action_id} button in {message.text[:40]!r}")
            return False
        response = self.sandbox.people.click(
            user, action_id, value=value, channel_id=message.channel, message_ts=message.ts
        )
        self.sandbox.settle()
        return self._expect(response, f"{action_id} pressed by {self.name(user)}")

    def reflect(self, user: str, intro: Message, report: CycleReport) -> None:
        """Open the reflection modal from the intro's Reflect button and submit it."""
        opened = len(self.emulator.successful("views.open"))
        if not self.press(user, intro, ids.OPEN_REFLECTION):
            return
        views = self.emulator.successful("views.open")
        if len(views) == opened:
            self.result.problems.append(f"Reflect by {self.name(user)} opened no modal")
            return
        view = views[-1].response["view"]
        usefulness = self.rng.choices(
            list(USEFULNESS_WEIGHTS), weights=list(USEFULNESS_WEIGHTS.values())
        )[0]
        takeaway = self.rng.choice(TAKEAWAYS)
        commitment = self.rng.choice(COMMITMENTS)
        share = self.rng.random() < SHARE_CHANCE
        values = (
            select_state(ids.USEFULNESS_BLOCK, ids.USEFULNESS_ACTION, str(usefulness))
            | text_input(ids.TAKEAWAY_BLOCK, ids.TAKEAWAY_ACTION, takeaway)
            | text_input(ids.COMMITMENT_BLOCK, ids.COMMITMENT_ACTION, commitment)
            | {
                ids.SHARE_BLOCK: {
                    ids.SHARE_ACTION: {
                        "type": "checkboxes",
                        "selected_options": [{"value": "share"}] if share else [],
                    }
                }
            }
        )
        response = self.sandbox.people.submit(user, view, values)
        self.sandbox.settle()
        if not self._expect(response, f"reflection by {self.name(user)}") or response.body:
            self.result.problems.append(
                f"reflection by {self.name(user)} refused: {response.body!r}"
            )
            return
        report.reflections += 1
        report.shared += share
        self.result.usefulness.append(usefulness)
        self.result.commitments_made += 1

    # -- reading what Slack received ---------------------------------------------------------

    def messages_since(self, start: int, prefix: str) -> list[Message]:
        return [m for m in self.emulator.messages[start:] if m.text.startswith(prefix)]

    def dms_since(self, start: int, needle: str) -> list[tuple[str, Message]]:
        """1:1 DMs containing `needle` posted since `start`, with their recipient."""
        found = []
        for message in self.emulator.messages[start:]:
            members = self.emulator.conversation_members(message.channel)
            if len(members) == 1 and needle in message.text:
                found.append((members[0], message))
        return found

    def members_of(self, message: Message) -> tuple[str, ...]:
        return self.emulator.conversation_members(message.channel)

    # -- the story ---------------------------------------------------------------------------

    def join_everyone(self) -> None:
        # The programme admin opens the admin settings once: PeerCoach now knows them as an
        # admin (a Slack admin), and sends them each round's digest.
        self.emulator.add_user(ADMIN_ID, name=ADMIN_NAME, is_admin=True)
        self.command(ADMIN_ID, "admin")
        for leader in self.cast:
            self.emulator.add_user(
                leader.user_id,
                name=leader.name,
                tz=leader.tz,
                tz_offset_seconds=leader.tz_offset_seconds,
            )
        for leader in self.cast:
            self.sandbox.join(
                leader.user_id, level=leader.level, team=leader.team, goals=list(leader.goals)
            )
            self.present.append(leader.user_id)

    def life_happens(self, k: int, report: CycleReport) -> None:
        """The hour before a round: someone leaves, a few pause or skip this round."""
        available = [
            u
            for u in self.present
            if u != self.silent and u not in self.auto_paused and self.away_until.get(u, 0) <= k
        ]
        if k == self.leave_at and len(available) > 2:
            leaver = self.rng.choice(available)
            self.command(leaver, "leave")
            response = self.sandbox.people.click(
                leaver, ids.LEAVE_CONFIRM, channel_id="CGENERAL", message_ts="1.1"
            )
            self.sandbox.settle()
            self._expect(response, f"leave confirmed by {self.name(leaver)}")
            self.present.remove(leaver)
            available.remove(leaver)
            report.left.append(leaver)
        # Keep at least a pair (plus the silent member) in every round.
        count = min(max(1, len(self.cast) // 8), max(0, len(available) - 2))
        for user in self.rng.sample(available, count):
            choice = self.rng.choice(["skip", "pause 1 week", "pause 2 weeks"])
            self.command(user, choice)
            weeks = 2 if choice.endswith("2 weeks") else 1
            self.away_until[user] = k + weeks
            self.away_reason[user] = (f"/peercoach {choice}", k)
        for user in self.present:
            if self.away_until.get(user, 0) > k:
                reason, since = self.away_reason[user]
                report.away[user] = reason if since == k else f"still away after {reason}"

    def run_cycle(self, k: int) -> CycleReport:
        clock = self.sandbox.clock
        round_at = FIRST_ROUND + timedelta(weeks=k)
        report = CycleReport(number=k + 1, round_at=round_at)
        clock.set(round_at - timedelta(hours=1))
        self.life_happens(k, report)

        # Monday 09:00: the scheduler starts the round and delivers intros and follow-ups.
        clock.set(round_at)
        start = len(self.emulator.messages)
        tick = self.sandbox.tick()
        if len(tick.rounds_started) != 1:
            self.result.problems.append(f"cycle {k + 1}: {len(tick.rounds_started)} rounds started")
        if tick.delivery.failed:
            self.result.problems.append(f"cycle {k + 1}: {tick.delivery.failed} messages failed")
        intros = self.messages_since(start, INTRO_PREFIX)
        report.groups = [self.members_of(m) for m in intros]
        for user, _ in self.dms_since(start, "paused your pairing"):
            self.auto_paused.add(user)
            report.auto_paused.append(user)
        report.unpaired = [u for u, _ in self.dms_since(start, "couldn't find a peer")]
        report.eligible = {
            u for u in self.present if self.away_until.get(u, 0) <= k and u not in self.auto_paused
        }
        if intros:
            report.intro = intros[k % len(intros)]
        self.show_progress(report)

        # Monday noon: people answer last round's commitment follow-ups, privately.
        clock.set(round_at + timedelta(hours=3))
        for user, question in self.dms_since(start, "committed to"):
            report.commitments_asked += 1
            if user == self.silent or self.rng.random() >= ANSWER_COMMITMENT_CHANCE:
                continue
            answer = self.rng.choices(
                list(COMMITMENT_ANSWERS), weights=list(COMMITMENT_ANSWERS.values())
            )[0]
            if self.press(user, question, answer):
                report.commitments_answered += 1
                self.result.answers[answer] += 1

        plans = {
            intro.channel: self.rng.choices(
                list(OUTCOME_WEIGHTS), weights=list(OUTCOME_WEIGHTS.values())
            )[0]
            for intro in intros
        }
        ghost_intro = next((i for i in intros if self.silent in self.members_of(i)), None)
        if ghost_intro is not None:
            plans[ghost_intro.channel] = GHOST  # nobody can meet someone who never answers

        # Monday noon: in groups that mean to meet, someone picks one of the suggested times;
        # the group gets a reminder ten minutes before it (those before Tuesday afternoon
        # are played here; later ones go out, or are dropped once the group met, later on).
        meeting_at = round_at + timedelta(days=1, hours=5)
        self.pick_times(intros, plans, report, until=meeting_at)

        # Tuesday afternoon: most groups have met; a few can't make it.
        clock.set(meeting_at)
        for intro in intros:
            if plans[intro.channel] == "met":
                self.meet(intro, intro, ids.WE_MET, report)
            elif plans[intro.channel] == "cant_make_it" and self.press(
                self.speaker(intro), intro, ids.CANT_MAKE_IT
            ):
                report.cant_make_it += 1

        # Thursday 09:00: the nudge; some groups meet that afternoon.
        report.nudges = self.follow_up(round_at + timedelta(days=3), "A gentle nudge")
        clock.set(round_at + timedelta(days=3, hours=6))
        self.meet_after(intros, plans, "met_after_nudge", "A gentle nudge", ids.WE_MET, report)

        # Friday 09:00: the check-in; the last groups say they met.
        report.checkins = self.follow_up(round_at + timedelta(days=4), "The round is closing")
        clock.set(round_at + timedelta(days=4, hours=2))
        self.meet_after(
            intros, plans, "met_after_checkin", "The round is closing", ids.WE_MET, report
        )
        self.ghost_round(ghost_intro, report)
        self.answer_pulses(start, report)
        self.check_against_database(report)
        return report

    def pick_times(
        self,
        intros: list[Message],
        plans: dict[str, str],
        report: CycleReport,
        *,
        until: datetime,
    ) -> None:
        """Someone in each group that means to meet presses the first suggested time still
        ahead; then the clock runs to ten minutes before each picked time up to `until`."""
        now = self.sandbox.clock.now()
        picked: list[tuple[datetime, Message]] = []
        for intro in intros:
            if plans[intro.channel] in ("cant_make_it", GHOST):
                continue  # no time to pick with someone who never answers
            slots = slot_choices(intro)
            ahead = [(n, start) for n, (start, _) in enumerate(slots) if start > now]
            if not ahead:
                continue
            number, start = ahead[0]
            who = self.speaker(intro)
            response = self.sandbox.people.click(
                who,
                ids.PICK_SLOT,
                value=slots[number][1],
                channel_id=intro.channel,
                message_ts=intro.ts,
            )
            self.sandbox.settle()
            if not self._expect(response, f"a time picked by {self.name(who)}"):
                continue
            report.times_picked += 1
            picked.append((start, intro))
            if report.example_pick is None:
                group = join_names([self.name(u) for u in self.members_of(intro)])
                report.example_pick = f"{self.name(who)} picked {start:%A %H:%M} UTC for {group}"
        for start in sorted(start for start, _ in picked):
            if start - timedelta(minutes=10) >= until:
                continue
            self.sandbox.clock.set(max(now, start - timedelta(minutes=10)))
            self.sandbox.tick()
        for _, intro in picked:
            report.reminders += sum(
                1 for m in self.emulator.messages_in(intro.channel) if "starts soon" in m.text
            )

    def answer_pulses(self, start: int, report: CycleReport) -> None:
        """Most members answer the round's anonymous feedback pulse (if it has one) from its
        DM's button and modal; some share a suggestion with the organisers."""
        for user, ask in self.dms_since(start, "Two quick questions about PeerCoach"):
            report.pulses_asked += 1
            if user == self.silent or self.rng.random() >= PULSE_ANSWER_CHANCE:
                continue
            opened = len(self.emulator.successful("views.open"))
            if not self.press(user, ask, ids.PULSE_OPEN):
                continue
            views = self.emulator.successful("views.open")
            if len(views) == opened:
                self.result.problems.append(f"Give feedback by {self.name(user)} opened nothing")
                continue
            score = self.rng.choices(
                list(USEFULNESS_WEIGHTS), weights=list(USEFULNESS_WEIGHTS.values())
            )[0]
            suggestion = self.rng.choice(SUGGESTIONS) if self.rng.random() < SUGGEST_CHANCE else ""
            values = select_state(ids.PULSE_SCORE_BLOCK, ids.PULSE_SCORE_ACTION, str(score)) | {
                ids.PULSE_SUGGESTION_BLOCK: {
                    ids.PULSE_SUGGESTION_ACTION: {"type": "plain_text_input", "value": suggestion}
                },
                ids.PULSE_SHARE_BLOCK: {
                    ids.PULSE_SHARE_ACTION: {
                        "type": "checkboxes",
                        "selected_options": [{"value": "share"}] if suggestion else [],
                    }
                },
            }
            response = self.sandbox.people.submit(user, views[-1].response["view"], values)
            self.sandbox.settle()
            if self._expect(response, f"pulse answer by {self.name(user)}"):
                report.pulses_answered += 1

    def ghost_round(self, intro: Message | None, report: CycleReport) -> None:
        """The round of the person who never answers: their group is nudged on Thursday and
        asked on Friday; the others press "Not this time"; the round counts as silent for
        the ghost alone, and three silent rounds in a row pause them (with a DM saying why)."""
        ghost = self.name(self.silent)
        if self.silent in report.auto_paused:
            self.silent_rounds = 0
            paused = next(
                m for u, m in self.dms_since(0, "paused your pairing") if u == self.silent
            )
            report.ghost.append(
                f"{ghost} was silent {MISSED_ROUNDS_BEFORE_PAUSE} rounds in a row, so closing "
                "the last round paused them (no more intros), and told them privately:"
            )
            report.ghost.append(indent(blocks_to_text(paused.blocks, self.names)))
            return
        if intro is None:
            if self.silent in self.auto_paused:
                report.ghost.append(f"{ghost} is paused: not paired, not messaged.")
            return
        others = [u for u in self.members_of(intro) if u != self.silent]
        channel = self.emulator.messages_in(intro.channel)
        nudged = any(m.text.startswith("A gentle nudge") for m in channel)
        checkin = next((m for m in channel if m.text.startswith("The round is closing")), None)
        if checkin is None:
            self.result.problems.append(f"no check-in reached {ghost}'s group")
            return
        for user in others:
            if self.press(user, checkin, ids.DIDNT_MEET):
                report.cant_make_it += 1
        self.silent_rounds += 1
        report.ghost.append(
            f"{ghost} never answers. Paired with {join_names([self.name(u) for u in others])}: "
            f"intro Monday, {'a nudge Thursday, ' if nudged else ''}the check-in Friday, no "
            f"word from {ghost}; the others pressed “Not this time” (that counts as an answer "
            "for them, not for the silent one)."
        )
        report.ghost.append(
            f"Silent rounds in a row: {self.silent_rounds} of {MISSED_ROUNDS_BEFORE_PAUSE}"
            + (
                ": the next round's start pauses them."
                if self.silent_rounds >= MISSED_ROUNDS_BEFORE_PAUSE
                else " before PeerCoach pauses them (a group that met would count for them)."
            )
        )

    def speaker(self, intro: Message) -> str:
        """The member of a group who presses the button (never the silent one)."""
        members = [u for u in self.members_of(intro) if u != self.silent]
        return self.rng.choice(members)

    def meet(self, intro: Message, where: Message, action_id: str, report: CycleReport) -> None:
        if not self.press(self.speaker(intro), where, action_id):
            return
        report.met += 1
        self.show_progress(report)
        for user in self.members_of(intro):
            if user != self.silent and self.rng.random() < REFLECT_CHANCE:
                self.reflect(user, intro, report)

    def meet_after(
        self,
        intros: list[Message],
        plans: dict[str, str],
        plan: str,
        prefix: str,
        action_id: str,
        report: CycleReport,
    ) -> None:
        for intro in intros:
            if plans[intro.channel] != plan:
                continue
            reminder = next(
                (m for m in self.emulator.messages_in(intro.channel) if m.text.startswith(prefix)),
                None,
            )
            if reminder is None:
                self.result.problems.append(f"no {prefix!r} reached a group that had not met")
                continue
            self.meet(intro, reminder, action_id, report)

    def follow_up(self, moment: datetime, prefix: str) -> int:
        self.sandbox.clock.set(moment)
        start = len(self.emulator.messages)
        self.sandbox.tick()
        return len(self.messages_since(start, prefix))

    def check_against_database(self, report: CycleReport) -> None:
        """The app's own records must agree with what the simulated people did."""
        with self.sandbox.deps.unit_of_work() as session:
            round_id = session.scalar(select(Round.id).where(Round.started_at == report.round_at))
            group_ids = select(PairGroup.id).where(PairGroup.round_id == round_id)
            met = session.scalar(
                select(func.count())
                .select_from(PairGroup)
                .where(PairGroup.round_id == round_id, PairGroup.met_at.is_not(None))
            )
            reflections = session.scalar(
                select(func.count())
                .select_from(Reflection)
                .where(Reflection.group_id.in_(group_ids))
            )
            cant = session.scalar(
                select(func.count())
                .select_from(GroupSeat)
                .where(GroupSeat.group_id.in_(group_ids), GroupSeat.cant_make_it_at.is_not(None))
            )
        for what, ours, theirs in (
            ("groups met", report.met, met),
            ("reflections", report.reflections, reflections),
            ("can't make it", report.cant_make_it, cant),
        ):
            if ours != theirs:
                self.result.problems.append(
                    f"cycle {report.number}: {what}: people did {ours}, the app recorded {theirs}"
                )
        if report.paired != report.eligible:
            missing = join_names([self.name(u) for u in sorted(report.eligible - report.paired)])
            extra = join_names([self.name(u) for u in sorted(report.paired - report.eligible)])
            self.result.problems.append(
                f"cycle {report.number}: not paired: {missing}; paired but not eligible: {extra}"
            )

    # -- the terminal ------------------------------------------------------------------------

    def show_progress(self, report: CycleReport) -> None:
        if self.live:
            bar = progress_bar(report.number, self.cycles, report.met, len(report.groups))
            self.out.write("\r" + bar)
            self.out.flush()

    def show_cycle(self, report: CycleReport) -> None:
        write = self.out.write
        bar = progress_bar(report.number, self.cycles, report.met, len(report.groups))
        write(("\r" if self.live else "") + bar + "\n")
        at = report.round_at
        when = f"{at:%A} {at.day} {at:%B %Y, %H:%M} UTC"
        write(f"  Round {report.number} started {when}\n")
        write(
            f"  paired {len(report.paired)} of {len(report.eligible)} eligible "
            f"in {len(report.groups)} groups\n"
        )
        for group in report.groups:
            trio = " (trio)" if len(group) == 3 else ""
            write(f"    • {' + '.join(self.name(u) for u in group)}{trio}\n")
        for user, why in sorted(report.away.items(), key=lambda item: self.name(item[0])):
            write(f"  away: {self.name(user)} ({why})\n")
        for user in report.left:
            write(f"  left: {self.name(user)} (/peercoach leave)\n")
        for user in report.auto_paused:
            write(f"  auto-paused: {self.name(user)} (silent three rounds running)\n")
        for user in report.unpaired:
            write(f"  unpaired: {self.name(user)}\n")
        if report.example_pick is not None:
            write(
                f"  meeting times: {report.example_pick}; {report.times_picked} groups picked "
                f"a suggested time, {report.reminders} reminders went out 10 minutes before\n"
            )
        if report.ghost:
            write("  Ghost watch (the person who never answers):\n")
        for line in report.ghost:
            write(("" if line.startswith("    │") else "    ") + line + "\n")
        if report.intro is not None:
            members = join_names([self.name(u) for u in self.members_of(report.intro)])
            write(f"  One intro, as {members} saw it in their group DM:\n")
            write(indent(blocks_to_text(report.intro.blocks, self.names)) + "\n")
        write(
            f"  counts: paired {len(report.paired)} · paused/skipped {len(report.away)}"
            f" · met {report.met} of {len(report.groups)} · can't make it {report.cant_make_it}"
            f" · nudges {report.nudges} · check-ins {report.checkins}"
            f" · reflections {report.reflections} ({report.shared} shared a takeaway)"
            f" · commitments answered {report.commitments_answered}"
            f" of {report.commitments_asked}"
            f" · times picked {report.times_picked} · reminders {report.reminders}"
            + (
                f" · feedback pulse answered {report.pulses_answered} of {report.pulses_asked}"
                if report.pulses_asked
                else ""
            )
            + "\n\n"
        )
        if self.transcript is not None:
            write(f"  Everything people saw in round {report.number}, as text:\n")
            write("\n".join("  " + line for line in self.transcript.lines()) + "\n\n")

    def run(self, pause: float) -> DemoResult:
        self.join_everyone()
        self.out.write(
            f"{len(self.cast)} leaders joined through /peercoach join and the join modal "
            f"(one of them, {self.name(self.silent)}, will never respond); "
            f"{ADMIN_NAME} runs the programme.\n\n"
        )
        if self.transcript is not None:
            self.out.write("Everything people saw while joining, as text:\n")
            self.out.write("\n".join("  " + line for line in self.transcript.lines()) + "\n\n")
        for k in range(self.cycles):
            report = self.run_cycle(k)
            self.result.cycles.append(report)
            self.show_cycle(report)
            if pause and k + 1 < self.cycles:
                time.sleep(pause)
        self.result.api_calls = len(self.emulator.calls)
        self.result.violations = list(self.emulator.violations)
        return self.result


def summary_lines(result: DemoResult, names: dict[str, str]) -> list[str]:
    """The closing summary of a run (what the simulated people did, and how Slack took it)."""
    cycles = result.cycles
    groups = sum(len(c.groups) for c in cycles)
    met = sum(c.met for c in cycles)
    reflections = sum(c.reflections for c in cycles)
    left = [names.get(u, u) for c in cycles for u in c.left]
    auto = [names.get(u, u) for c in cycles for u in c.auto_paused]
    answered = sum(result.answers.values())
    average = sum(result.usefulness) / len(result.usefulness) if result.usefulness else 0.0
    share = f" ({met * 100 // groups}%)" if groups else ""
    lines = [
        f"Summary after {len(cycles)} weekly round(s)",
        f"  groups: {groups} formed, {met} met{share}, "
        f"{sum(c.cant_make_it for c in cycles)} couldn't make it",
        f"  left: {join_names(left)}; auto-paused: {join_names(auto)}",
        f"  reflections: {reflections} total, average usefulness {average:.1f}/5, "
        f"{sum(c.shared for c in cycles)} shared a takeaway",
        f"  commitments: {result.commitments_made} made, {answered} answered "
        f"(done {result.answers[ids.COMMITMENT_DONE]}, "
        f"partly {result.answers[ids.COMMITMENT_PARTLY]}, "
        f"not yet {result.answers[ids.COMMITMENT_NOT_YET]})",
        f"  nudges {sum(c.nudges for c in cycles)}, check-ins {sum(c.checkins for c in cycles)}",
        f"  Slack Web API calls: {result.api_calls}, "
        f"refused by the emulator's checks: {len(result.violations)}",
    ]
    return lines


# -- running it ------------------------------------------------------------------------------


def _prepare_database(stack: ExitStack, url: str | None) -> Engine:
    if url is None:
        folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="peercoach-demo-"))
        url = f"sqlite:///{folder}/demo.db"
    upgrade_to_head(url)
    engine = make_engine(url)
    stack.callback(engine.dispose)
    with engine.connect() as connection:
        if connection.scalar(select(Workspace.id).where(Workspace.team_id == TEAM_ID)):
            raise ValueError(
                f"it already holds the demo workspace {TEAM_ID}: use an empty database"
            )
    return engine


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run the demo; 0 when every call was one real Slack accepts, 1 otherwise."""
    options = build_parser().parse_args(argv)
    out = out if out is not None else sys.stdout
    live = bool(getattr(out, "isatty", lambda: False)())
    pause = 0.0 if options.fast or not live else PAUSE_BETWEEN_CYCLES
    rng = random.Random(options.seed)
    with ExitStack() as stack:
        try:
            engine = _prepare_database(stack, options.database_url)
        except Exception as problem:  # a bad URL or an unreachable server: say so, no traceback
            print(f"peercoach demo: cannot use the database: {problem}", file=sys.stderr)
            return 2
        clock = ManualClock(DEMO_START)
        sandbox = stack.enter_context(open_world(engine, clock))
        cast = make_cast(options.people, rng, DEMO_START)
        out.write(
            f"PeerCoach demo: the real app against a local Slack emulator "
            f"(seed {options.seed}, {options.people} people, {options.cycles} weekly rounds).\n"
        )
        run = DemoRun(
            sandbox, cast, rng, options.cycles, out, live=live, show_messages=options.show_messages
        )
        result = run.run(pause)
        second = second_programme(sandbox, cast, run.present, run.names, rng)
        result.problems += second.problems
        result.violations = list(sandbox.emulator.violations)
        lines = summary_lines(result, run.names) + second.lines
        lines += programme_figures_lines(sandbox, Path(options.chart))
        out.write("\n".join(lines) + "\n")
    return report_outcome(result, out)


def report_outcome(result: DemoResult, out: TextIO) -> int:
    """Print what real Slack would have refused (and any broken expectation); 1 if anything."""
    if result.violations:
        out.write(f"\nReal Slack would have refused {len(result.violations)} call(s):\n")
        out.writelines(f"  ✗ {v}\n" for v in result.violations)
    if result.problems:
        out.write(
            f"\nThe app did not do what the simulated people expected ({len(result.problems)}):\n"
        )
        out.writelines(f"  ✗ {p}\n" for p in result.problems)
    return 1 if result.violations or result.problems else 0
