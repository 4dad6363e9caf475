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


def choose_prompts(
    deck: Sequence[Prompt],
    *,
    shared_goals: Sequence[str],
    member_goals: Sequence[Sequence[str]],
    seen_by_member: Sequence[Sequence[str]],
    count: int = 2,
    seed: int = 0,
) -> list[Prompt]:
    """Choose `count` distinct prompts for a group, fresh for every member where possible."""
    if count < 0:
        raise ValueError("count must not be negative")
    unique: dict[str, Prompt] = {}
    for prompt in deck:
        unique.setdefault(prompt.id, prompt)
    candidates = list(unique.values())
    size = len(candidates)
    if size == 0 or count == 0:
        return []

    # Each member's current pass, advanced as prompts are chosen: a pass that fills up during
    # this choice starts afresh, so later picks in the same round may be fresh again for them.
    in_pass = [set(current_pass(seen, size)) for seen in seen_by_member]
    pass_length = [len(seen) % size for seen in seen_by_member]
    group_size = len(in_pass)

    # Views since the group last saw each prompt, by its most recent sighting in any history.
    never = max((len(seen) for seen in seen_by_member), default=0) + 1
    ago = dict.fromkeys(unique, never)
    for seen in seen_by_member:
        for index, pid in enumerate(seen):
            if pid in ago:
                ago[pid] = min(ago[pid], len(seen) - index)

    shared = set(shared_goals)
    anyone = {goal for goals in member_goals for goal in goals}

    def tier(prompt: Prompt) -> int:
        """Rank a prompt's theme: shared goal, then any member's goal, then the rest."""
        if prompt.theme in shared:
            return _TIER_SHARED
        return _TIER_MEMBER if prompt.theme in anyone else _TIER_OTHER

    rng = random.Random(seed)
    tie = {p.id: rng.random() for p in candidates}
    order = {p.id: i for i, p in enumerate(candidates)}

    chosen: list[Prompt] = []
    theme_uses: dict[str, int] = {}

    # Among equally preferred prompts fresh for everyone, favour those not seen in the last
    # half-deck of views (the end of a previous pass), so a new pass does not open with a repeat
    # of last week's prompt.
    recent_window = max(1, size // 2)

    def key(prompt: Prompt) -> tuple[int, int, int, int, int, float, int]:
        """Sort key: fresh for most members, staleness, variety, goal tier, recency, tie-break."""
        fresh = sum(prompt.id not in pass_ids for pass_ids in in_pass)
        everyone = fresh == group_size
        # Staleness ranks repeats first; for prompts fresh to all it is only a late tie-break.
        return (
            -fresh,
            0 if everyone else -ago[prompt.id],
            theme_uses.get(prompt.theme, 0),
            tier(prompt),
            -min(ago[prompt.id], recent_window + 1) if everyone else 0,
            tie[prompt.id],
            order[prompt.id],
        )

    remaining = candidates
    for _ in range(min(count, size)):
        best = min(remaining, key=key)
        chosen.append(best)
        theme_uses[best.theme] = theme_uses.get(best.theme, 0) + 1
        for member, pass_ids in enumerate(in_pass):
            pass_ids.add(best.id)
            pass_length[member] += 1
            if pass_length[member] == size:
                pass_ids.clear()
                pass_length[member] = 0
        remaining = [p for p in remaining if p.id != best.id]
    return chosen


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
