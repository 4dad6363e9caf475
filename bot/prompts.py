"""The conversation-prompt deck and the choice of prompts for a pairing (pure: no Slack, no DB)."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources

# Deck themes; they match the goal/topic keys in bot.profile_options.GOALS.
THEMES: tuple[str, ...] = (
    "delegation",
    "feedback",
    "conflict",
    "leading_change",
    "priorities",
    "wellbeing",
    "hiring",
    "strategy",
    "influence",
    "coaching",
    "performance",
    "career",
)
MAX_PROMPT_LENGTH = 200
DECK_VERSION = 1

# Theme preference tiers: lower is better.
_TIER_SHARED = 0
_TIER_MEMBER = 1
_TIER_OTHER = 2


@dataclass(frozen=True)
class Prompt:
    """One conversation prompt from the deck."""

    id: str
    theme: str
    text: str


def parse_deck(raw: object) -> tuple[Prompt, ...]:
    """Validate a decoded prompts.json document and return its prompts in file order."""
    if not isinstance(raw, dict) or raw.get("version") != DECK_VERSION:
        raise ValueError(f"prompt deck must be an object with version {DECK_VERSION}")
    items = raw.get("prompts")
    if not isinstance(items, list) or not items:
        raise ValueError("prompt deck must have a non-empty 'prompts' list")
    deck: list[Prompt] = []
    seen_ids: set[str] = set()
    for item in items:
        if not isinstance(item, dict):
            raise ValueError(f"prompt entry must be an object: {item!r}")
        pid, theme, text = item.get("id"), item.get("theme"), item.get("text")
        if not (isinstance(pid, str) and pid and isinstance(text, str) and text.strip()):
            raise ValueError(f"prompt entry needs a non-empty id and text: {item!r}")
        if theme not in THEMES:
            raise ValueError(f"prompt {pid!r} has unknown theme {theme!r}")
        if len(text) >= MAX_PROMPT_LENGTH:
            raise ValueError(f"prompt {pid!r} is {len(text)} chars (limit {MAX_PROMPT_LENGTH})")
        if pid in seen_ids:
            raise ValueError(f"duplicate prompt id {pid!r}")
        seen_ids.add(pid)
        deck.append(Prompt(id=pid, theme=theme, text=text))
    return tuple(deck)


@cache
def load_deck() -> tuple[Prompt, ...]:
    """Load and validate the bundled prompt deck (bot/data/prompts.json), once per process."""
    source = resources.files("bot").joinpath("data", "prompts.json")
    return parse_deck(json.loads(source.read_text(encoding="utf-8")))


def current_pass(seen: Sequence[str], deck_size: int) -> Sequence[str]:
    """Return the ids shown in a member's unfinished pass through a deck of deck_size prompts."""
    if deck_size <= 0:
        return ()
    return seen[len(seen) - len(seen) % deck_size :]


@cache
def prompts_by_id() -> dict[str, Prompt]:
    """The bundled deck's prompts by id (built once per process)."""
    return {p.id: p for p in load_deck()}


class PromptChooser:
    """Chooses prompts for many groups of one round: the deck and its seeded tie-breaks are
    prepared once, as every group of a round shares them (`choose_prompts` for one group)."""

    def __init__(self, deck: Sequence[Prompt], *, seed: int = 0) -> None:
        unique: dict[str, Prompt] = {}
        for prompt in deck:
            unique.setdefault(prompt.id, prompt)
        self.candidates = list(unique.values())
        self.size = len(self.candidates)
        rng = random.Random(seed)
        self.tie = {p.id: rng.random() for p in self.candidates}
        self.order = {p.id: i for i, p in enumerate(self.candidates)}
        # Goal tiers by (shared goals, anyone's goals): a round's groups share a few dozen.
        self._tier_cache: dict[tuple[frozenset[str], frozenset[str]], dict[str, int]] = {}

    def _tiers(self, shared: frozenset[str], anyone: frozenset[str]) -> dict[str, int]:
        """Each prompt's theme preference for a group: a shared goal, then any member's goal,
        then the rest."""
        tiers = self._tier_cache.get((shared, anyone))
        if tiers is None:
            tiers = {
                p.id: _TIER_SHARED
                if p.theme in shared
                else (_TIER_MEMBER if p.theme in anyone else _TIER_OTHER)
                for p in self.candidates
            }
            self._tier_cache[(shared, anyone)] = tiers
        return tiers

    def choose(
        self,
        *,
        shared_goals: Sequence[str],
        member_goals: Sequence[Sequence[str]],
        seen_by_member: Sequence[Sequence[str]],
        count: int = 2,
    ) -> list[Prompt]:
        """Choose `count` distinct prompts for a group, fresh for every member where possible."""
        if count < 0:
            raise ValueError("count must not be negative")
        candidates, size, tie, order = self.candidates, self.size, self.tie, self.order
        if size == 0 or count == 0:
            return []

        # Each member's current pass, advanced as prompts are chosen: a pass that fills up
        # during this choice starts afresh, so later picks in the same round may be fresh
        # again for them.
        in_pass = [set(current_pass(seen, size)) for seen in seen_by_member]
        pass_length = [len(seen) % size for seen in seen_by_member]
        group_size = len(in_pass)

        # Views since the group last saw each prompt, by its most recent sighting in any
        # history: walking each history from its end, the first sighting is the latest.
        never = max((len(seen) for seen in seen_by_member), default=0) + 1
        ago = dict.fromkeys(order, never)
        for seen in seen_by_member:
            # Each prompt's latest sighting: later positions overwrite earlier ones.
            latest = {pid: position for position, pid in enumerate(seen)}
            end = len(seen)
            for pid, position in latest.items():
                if pid in ago and end - position < ago[pid]:
                    ago[pid] = end - position

        anyone = frozenset(goal for goals in member_goals for goal in goals)
        tier = self._tiers(frozenset(shared_goals), anyone)

        chosen: list[Prompt] = []
        theme_uses: dict[str, int] = {}

        # Among equally preferred prompts fresh for everyone, favour those not seen in the
        # last half-deck of views (the end of a previous pass), so a new pass does not open
        # with a repeat of last week's prompt.
        recent_window = max(1, size // 2)

        cap = recent_window + 1
        remaining = candidates
        # How many members each prompt is fresh for (not in their current pass), kept up to
        # date as prompts are chosen and passes fill up below.
        fresh = dict.fromkeys(order, group_size)
        for pass_ids in in_pass:
            for pid in pass_ids:
                if pid in fresh:
                    fresh[pid] -= 1
        for _ in range(min(count, size)):
            # The winner is the least by this key, compared part by part: fresh for the most
            # members; then staleness, which ranks repeats (for prompts fresh to all it is
            # only a late tie-break); variety; goal tier; recency; tie-break; deck order
            # (unique). This runs for every prompt of every group of a round, so each part
            # narrows the field in turn instead of a tuple being built for every prompt.
            most = max(fresh[p.id] for p in remaining)
            field = [p for p in remaining if fresh[p.id] == most]
            fresh_to_all = most == group_size
            if not fresh_to_all and len(field) > 1:
                stalest = max(ago[p.id] for p in field)
                field = [p for p in field if ago[p.id] == stalest]
            if theme_uses and len(field) > 1:  # nothing chosen yet: every theme unused
                least_used = min(theme_uses.get(p.theme, 0) for p in field)
                field = [p for p in field if theme_uses.get(p.theme, 0) == least_used]
            if len(field) > 1:
                best_tier = min(tier[p.id] for p in field)
                field = [p for p in field if tier[p.id] == best_tier]
            if fresh_to_all and len(field) > 1:
                least_recent = max(min(ago[p.id], cap) for p in field)
                field = [p for p in field if min(ago[p.id], cap) == least_recent]
            best = min(field, key=lambda p: (tie[p.id], order[p.id]))
            chosen.append(best)
            theme_uses[best.theme] = theme_uses.get(best.theme, 0) + 1
            for member, pass_ids in enumerate(in_pass):
                if best.id not in pass_ids:
                    pass_ids.add(best.id)
                    fresh[best.id] -= 1
                pass_length[member] += 1
                if pass_length[member] == size:
                    for pid in pass_ids:  # a new pass: all fresh again for this member
                        if pid in fresh:
                            fresh[pid] += 1
                    pass_ids.clear()
                    pass_length[member] = 0
            remaining = [p for p in remaining if p is not best]
        return chosen


def choose_prompts(
    deck: Sequence[Prompt],
    *,
    shared_goals: Sequence[str],
    member_goals: Sequence[Sequence[str]],
    seen_by_member: Sequence[Sequence[str]],
    count: int = 2,
    seed: int = 0,
) -> list[Prompt]:
    """Choose `count` distinct prompts for a group, fresh for every member where possible.

    Raises ValueError for a negative count.
    """
    return PromptChooser(deck, seed=seed).choose(
        shared_goals=shared_goals,
        member_goals=member_goals,
        seen_by_member=seen_by_member,
        count=count,
    )


@dataclass(frozen=True)
class CoachingToolkit:
    """How to coach a peer: a short GROW-style guide, and questions for the coach per theme."""

    guide: tuple[tuple[str, str], ...]  # (step name, what to do) in order
    questions: dict[str, tuple[str, ...]]  # theme -> questions for whoever coaches


def parse_toolkit(raw: object) -> CoachingToolkit:
    """Validate the deck document's coaching guide and question bank (every theme needs at
    least two questions); raise ValueError naming what is wrong."""
    if not isinstance(raw, dict):
        raise ValueError("prompt deck must be an object")
    guide = raw.get("coaching_guide")
    if not isinstance(guide, list) or not guide:
        raise ValueError("prompt deck needs a non-empty 'coaching_guide' list")
    steps: list[tuple[str, str]] = []
    for item in guide:
        step, text = (item.get("step"), item.get("text")) if isinstance(item, dict) else (0, 0)
        if not (isinstance(step, str) and step and isinstance(text, str) and text.strip()):
            raise ValueError(f"coaching guide entry needs a step and a text: {item!r}")
        steps.append((step, text))
    bank = raw.get("coaching_questions")
    if not isinstance(bank, dict):
        raise ValueError("prompt deck needs a 'coaching_questions' object")
    questions: dict[str, tuple[str, ...]] = {}
    for theme in THEMES:
        asked = bank.get(theme)
        if not isinstance(asked, list) or len(asked) < 2:
            raise ValueError(f"coaching questions for {theme!r}: at least two needed")
        if not all(isinstance(q, str) and 0 < len(q) < MAX_PROMPT_LENGTH for q in asked):
            raise ValueError(f"coaching questions for {theme!r} must be short texts")
        questions[theme] = tuple(asked)
    return CoachingToolkit(guide=tuple(steps), questions=questions)


@cache
def load_toolkit() -> CoachingToolkit:
    """The bundled coaching guide and question bank (bot/data/prompts.json), once per process."""
    source = resources.files("bot").joinpath("data", "prompts.json")
    return parse_toolkit(json.loads(source.read_text(encoding="utf-8")))


def coach_questions(
    toolkit: CoachingToolkit, prompts: Sequence[Prompt], *, seed: int, count: int = 2
) -> tuple[str, ...]:
    """`count` questions for whoever coaches, from the themes of the chosen prompts (the first
    prompt's theme first), picked reproducibly by `seed`."""
    themes = list(dict.fromkeys(p.theme for p in prompts)) or list(THEMES[:1])
    pool = [q for theme in themes for q in toolkit.questions.get(theme, ())]
    rng = random.Random(seed)
    first = toolkit.questions.get(themes[0], ())
    picked = rng.sample(list(first), min(count, len(first)))
    rest = [q for q in pool if q not in picked]
    picked += rng.sample(rest, min(count - len(picked), len(rest)))
    return tuple(picked)
