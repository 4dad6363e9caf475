"""The conversation-prompt deck and the choice of prompts for a pairing (pure: no Slack, no DB)."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from itertools import chain, compress, repeat
from operator import add, sub

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
# What a prompt id may be: a round start reads a member's prompt history joined by commas
# (bot.services.rounds._prompts_seen).
PROMPT_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
# A chosen prompt's count of members it is fresh for: below any real count, whatever passes
# restart after it was chosen.
_CHOSEN = -(10**9)


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
        if not PROMPT_ID.fullmatch(pid):
            raise ValueError(f"prompt id {pid!r} is not lower-case letters, digits, - and _")
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
    prepared once, as every group of a round shares them (`choose_prompts` for one group).

    Prompts are handled by their position in the deck (lists indexed by it, not dicts keyed
    by id): a 50,000-member round chooses for 25,000 groups, and this took its choices from
    1.13 s to 0.90 s for 25,000 two-person groups with 58 prompts of history each (the
    history of a round 30; a throwaway loop on the 2-core dev machine, 2026-12-01).
    """

    def __init__(self, deck: Sequence[Prompt], *, seed: int = 0) -> None:
        unique: dict[str, Prompt] = {}
        for prompt in deck:
            unique.setdefault(prompt.id, prompt)
        self.candidates = list(unique.values())
        self.size = len(self.candidates)
        self.ids = [p.id for p in self.candidates]
        self.themes = [p.theme for p in self.candidates]
        rng = random.Random(seed)
        tie = [rng.random() for _ in self.candidates]
        # The final tie-break, (seeded draw, deck position), as one rank per prompt.
        self.rank = [0] * self.size
        for rank, position in enumerate(sorted(range(self.size), key=lambda i: (tie[i], i))):
            self.rank[position] = rank
        # Goal tiers by (shared goals, anyone's goals): a round's groups share a few dozen.
        self._tier_cache: dict[tuple[frozenset[str], frozenset[str]], list[int]] = {}

    def _tiers(self, shared: frozenset[str], anyone: frozenset[str]) -> list[int]:
        """Each prompt's theme preference for a group, by deck position: a shared goal, then
        any member's goal, then the rest."""
        tiers = self._tier_cache.get((shared, anyone))
        if tiers is None:
            tiers = [
                _TIER_SHARED
                if theme in shared
                else (_TIER_MEMBER if theme in anyone else _TIER_OTHER)
                for theme in self.themes
            ]
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
        size, ids, themes, rank = self.size, self.ids, self.themes, self.rank
        if size == 0 or count == 0:
            return []

        # Each member's current pass, advanced as prompts are chosen: a pass that fills up
        # during this choice starts afresh, so later picks in the same round may be fresh
        # again for them.
        in_pass = [set(current_pass(seen, size)) for seen in seen_by_member]
        pass_length = [len(seen) % size for seen in seen_by_member]
        group_size = len(in_pass)

        # Views since the group last saw each prompt (its most recent sighting in any
        # history): in each history, the later sighting of a prompt overwrites the earlier.
        never = max((len(seen) for seen in seen_by_member), default=0) + 1
        ago_by_member = [
            list(map(dict(zip(seen, range(len(seen), 0, -1), strict=True)).get, ids, repeat(never)))
            for seen in seen_by_member
        ]
        if group_size > 1:
            ago = list(map(min, *ago_by_member))
        else:
            ago = ago_by_member[0] if ago_by_member else [never] * size

        tier = self._tiers(frozenset(shared_goals), frozenset(chain.from_iterable(member_goals)))
        chosen: list[Prompt] = []
        theme_uses: dict[str, int] = {}

        # Among equally preferred prompts fresh for everyone, favour those not seen in the
        # last half-deck of views (the end of a previous pass), so a new pass does not open
        # with a repeat of last week's prompt.
        cap = max(1, size // 2) + 1
        # How many members each prompt is fresh for (not in their current pass), kept up to
        # date as prompts are chosen and passes fill up below; a chosen prompt is out of the
        # running (below every count).
        fresh = [group_size] * size
        for pass_ids in in_pass:
            fresh = list(map(sub, fresh, map(pass_ids.__contains__, ids)))
        positions = range(size)
        for _ in range(min(count, size)):
            # The winner is the least by this key, compared part by part: fresh for the most
            # members; then staleness, which ranks repeats (for prompts fresh to all it is
            # only a late tie-break); variety; goal tier; recency; tie-break; deck order
            # (unique). This runs for every prompt of every group of a round, so each part
            # narrows the field in turn instead of a tuple being built for every prompt.
            most = max(fresh)
            field = list(compress(positions, map(most.__eq__, fresh)))
            fresh_to_all = most == group_size
            if not fresh_to_all and len(field) > 1:
                stalest = max([ago[i] for i in field])
                field = [i for i in field if ago[i] == stalest]
            if theme_uses and len(field) > 1:  # nothing chosen yet: every theme unused
                least_used = min([theme_uses.get(themes[i], 0) for i in field])
                field = [i for i in field if theme_uses.get(themes[i], 0) == least_used]
            if len(field) > 1:
                best_tier = min([tier[i] for i in field])
                field = [i for i in field if tier[i] == best_tier]
            if fresh_to_all and len(field) > 1:
                least_recent = max([min(ago[i], cap) for i in field])
                field = [i for i in field if min(ago[i], cap) == least_recent]
            best = min(field, key=rank.__getitem__)
            best_id, best_theme = ids[best], themes[best]
            chosen.append(self.candidates[best])
            theme_uses[best_theme] = theme_uses.get(best_theme, 0) + 1
            for member, pass_ids in enumerate(in_pass):
                pass_ids.add(best_id)
                pass_length[member] += 1
                if pass_length[member] == size:  # a new pass: all fresh again for them
                    fresh = list(map(add, fresh, map(pass_ids.__contains__, ids)))
                    pass_ids.clear()
                    pass_length[member] = 0
            fresh[best] = _CHOSEN
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
