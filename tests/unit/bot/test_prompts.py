"""The prompt deck's content and how prompts are chosen for a pairing."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.profile_options import GOALS
from bot.prompts import (
    MAX_PROMPT_LENGTH,
    THEMES,
    Prompt,
    PromptChooser,
    choose_prompts,
    current_pass,
    load_deck,
    parse_deck,
)

DECK = load_deck()
DECK_IDS = [p.id for p in DECK]
BY_ID = {p.id: p for p in DECK}


def shuffled_pass(seed: int) -> list[str]:
    """One complete pass through the deck, in an order fixed by seed."""
    ids = list(DECK_IDS)
    random.Random(seed).shuffle(ids)
    return ids


def run_rounds(
    histories: list[list[str]],
    rounds: int,
    *,
    goals: list[list[str]] | None = None,
    count: int = 2,
) -> list[list[str]]:
    """Meet the same group `rounds` times, appending what was shown to every member's history."""
    goals = goals if goals is not None else [[] for _ in histories]
    shared = sorted(set.intersection(*(set(g) for g in goals))) if goals else []
    shown: list[list[str]] = []
    for round_no in range(rounds):
        picked = choose_prompts(
            DECK,
            shared_goals=shared,
            member_goals=goals,
            seen_by_member=histories,
            count=count,
            seed=round_no,
        )
        ids = [p.id for p in picked]
        shown.append(ids)
        for history in histories:
            history.extend(ids)
    return shown


# --- the deck ------------------------------------------------------------------------------


def test_deck_has_at_least_forty_prompts() -> None:
    assert len(DECK) >= 48


def test_deck_themes_are_exactly_the_goal_keys() -> None:
    assert set(THEMES) == set(GOALS)
    assert {p.theme for p in DECK} == set(GOALS)


def test_every_theme_has_at_least_four_prompts() -> None:
    per_theme = Counter(p.theme for p in DECK)
    assert all(per_theme[theme] >= 4 for theme in GOALS), per_theme


def test_deck_ids_are_unique_and_prefixed_by_theme() -> None:
    assert len(set(DECK_IDS)) == len(DECK_IDS)
    assert all(p.id.startswith(f"{p.theme}-") for p in DECK)


def test_deck_texts_are_short_distinct_questions() -> None:
    texts = [p.text for p in DECK]
    assert len({t.casefold() for t in texts}) == len(texts)
    assert all(0 < len(t) < MAX_PROMPT_LENGTH for t in texts)
    assert all(t == t.strip() and "?" in t for t in texts)


def test_load_deck_is_cached() -> None:
    assert load_deck() is load_deck()


@pytest.mark.parametrize(
    ("doc", "problem"),
    [
        ({"version": 2, "prompts": [{"id": "a", "theme": "career", "text": "Q?"}]}, "version"),
        ({"version": 1, "prompts": []}, "non-empty"),
        ({"version": 1, "prompts": [{"id": "a", "theme": "golf", "text": "Q?"}]}, "theme"),
        ({"version": 1, "prompts": [{"id": "a", "theme": "career", "text": "x" * 200}]}, "limit"),
        # A round start reads a member's prompt history joined by commas.
        ({"version": 1, "prompts": [{"id": "a,b", "theme": "career", "text": "Q?"}]}, "letters"),
        ({"version": 1, "prompts": [{"id": "A", "theme": "career", "text": "Q?"}]}, "letters"),
        (
            {
                "version": 1,
                "prompts": [
                    {"id": "a", "theme": "career", "text": "Q?"},
                    {"id": "a", "theme": "career", "text": "R?"},
                ],
            },
            "duplicate",
        ),
    ],
)
def test_parse_deck_rejects_malformed_decks(doc: object, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_deck(doc)


# --- current pass --------------------------------------------------------------------------


def test_current_pass_is_the_unfinished_tail_and_empty_after_a_full_pass() -> None:
    assert list(current_pass(["a", "b", "c"], 5)) == ["a", "b", "c"]
    assert list(current_pass(["a", "b", "c", "d", "e"], 5)) == []
    assert list(current_pass(["a", "b", "c", "d", "e", "b", "a"], 5)) == ["b", "a"]


# --- goal preference and variety ----------------------------------------------------------


@pytest.mark.parametrize("seed", range(10))
def test_choose_prompts_prefers_shared_goals(seed: int) -> None:
    picked = choose_prompts(
        DECK,
        shared_goals=["feedback", "hiring"],
        member_goals=[["feedback", "hiring", "career"], ["feedback", "hiring", "strategy"]],
        seen_by_member=[[], []],
        seed=seed,
    )
    assert sorted(p.theme for p in picked) == ["feedback", "hiring"]


@pytest.mark.parametrize("seed", range(10))
def test_single_shared_goal_comes_first_then_a_different_member_goal(seed: int) -> None:
    picked = choose_prompts(
        DECK,
        shared_goals=["conflict"],
        member_goals=[["conflict", "career"], ["conflict"]],
        seen_by_member=[[], []],
        seed=seed,
    )
    assert [p.theme for p in picked] == ["conflict", "career"]


@pytest.mark.parametrize("seed", range(10))
def test_member_goals_are_preferred_over_unrelated_themes(seed: int) -> None:
    picked = choose_prompts(
        DECK,
        shared_goals=[],
        member_goals=[["wellbeing"], ["strategy"]],
        seen_by_member=[[], []],
        seed=seed,
    )
    assert sorted(p.theme for p in picked) == ["strategy", "wellbeing"]


def test_prompts_come_from_different_themes_when_possible() -> None:
    for seed in range(20):
        picked = choose_prompts(
            DECK, shared_goals=[], member_goals=[[], []], seen_by_member=[[], []], seed=seed
        )
        assert picked[0].theme != picked[1].theme


def test_shared_goal_prompts_already_seen_are_skipped_for_fresh_ones() -> None:
    feedback_ids = [p.id for p in DECK if p.theme == "feedback"]
    picked = choose_prompts(
        DECK,
        shared_goals=["feedback"],
        member_goals=[["feedback"], ["feedback"]],
        seen_by_member=[feedback_ids[:-1], []],
        count=1,
    )
    assert [p.id for p in picked] == [feedback_ids[-1]]


# --- no repeats until the deck is exhausted -------------------------------------------------


@pytest.mark.parametrize("count", [1, 2, 3, 7])
def test_one_member_sees_no_repeat_until_the_whole_deck_is_seen(count: int) -> None:
    history: list[str] = []
    rounds = (3 * len(DECK)) // count + 1
    run_rounds([history], rounds, goals=[["delegation", "feedback"]], count=count)
    n = len(DECK)
    assert len(history) >= 3 * n
    for start in range(0, 3 * n, n):
        assert sorted(history[start : start + n]) == sorted(DECK_IDS), f"pass at {start}"


def test_one_member_with_long_history_resumes_their_unfinished_pass() -> None:
    earlier = shuffled_pass(1) + shuffled_pass(2) + shuffled_pass(3)[:25]
    history = list(earlier)
    run_rounds([history], 40, goals=[["strategy"]])
    n = len(DECK)
    assert sorted(history[2 * n : 3 * n]) == sorted(DECK_IDS)


def test_pair_with_different_histories_sees_no_repeat_until_the_deck_is_exhausted() -> None:
    alice = shuffled_pass(10) + shuffled_pass(11)
    bob = shuffled_pass(12)
    start_a, start_b = len(alice), len(bob)
    run_rounds([alice, bob], len(DECK), goals=[["feedback", "career"], ["feedback", "hiring"]])
    n = len(DECK)
    first_shown = alice[start_a : start_a + n]
    assert first_shown == bob[start_b : start_b + n]
    assert len(set(first_shown)) == n
    for history in (alice, bob):
        for start in range(0, len(history) - n + 1, n):
            assert len(set(history[start : start + n])) == n


@pytest.mark.parametrize("odd", [False, True])
def test_pair_mid_pass_each_member_finishes_their_own_pass_without_repeats(odd: bool) -> None:
    # Bob's unfinished pass is part of Alice's, so a repeat-free schedule exists for both.
    partial = shuffled_pass(20)[: 15 if odd else 16]
    alice = shuffled_pass(21) + partial
    bob = shuffled_pass(22) + shuffled_pass(23) + list(reversed(partial[:6]))
    run_rounds([alice, bob], 2 * len(DECK), goals=[["priorities"], ["priorities", "coaching"]])
    n = len(DECK)
    for history in (alice, bob):
        for start in range(0, len(history) - n + 1, n):
            assert len(set(history[start : start + n])) == n, f"repeat in pass at {start}"


def test_when_too_few_prompts_are_fresh_for_everyone_it_fills_from_the_freshest() -> None:
    ids = shuffled_pass(30)
    # Alice has seen all but two prompts; Bob has seen one of those two plus Alice's first 20.
    alice = ids[:-2]
    bob = [ids[-1], *ids[:20]]
    picked = [
        p.id
        for p in choose_prompts(
            DECK, shared_goals=[], member_goals=[[], []], seen_by_member=[alice, bob], count=3
        )
    ]
    assert len(picked) == len(set(picked)) == 3
    assert picked[0] == ids[-2]  # the only prompt fresh for both
    # Every other prompt is fresh for at most one of them; the least recently seen of those is
    # the oldest one Alice has seen that Bob has not.
    assert picked[1] == ids[20]
    # That completed Alice's pass, so prompts Bob has not seen are fresh for both again.
    assert picked[2] in ids[21:-2]


def test_fill_prefers_least_recently_seen_when_nothing_is_fresh_for_everyone() -> None:
    ids = shuffled_pass(31)
    # Each has seen 40 prompts of the current pass; together they have seen all 60.
    alice = ids[:40]
    bob = ids[20:]
    picked = choose_prompts(
        DECK, shared_goals=[], member_goals=[[], []], seen_by_member=[alice, bob], count=2
    )
    # Every prompt is fresh for exactly one member; nobody has seen ids[0] (Alice, 40 views
    # ago) or ids[1] (39 views ago) as recently as any other prompt.
    assert [p.id for p in picked] == ids[:2]


def test_a_new_pass_does_not_open_with_the_prompts_just_shown() -> None:
    for seed in range(10):
        history = shuffled_pass(40 + seed)
        picked = choose_prompts(
            DECK, shared_goals=[], member_goals=[[]], seen_by_member=[history], seed=seed
        )
        assert not {p.id for p in picked} & set(history[-len(DECK) // 2 :])


def test_last_fresh_prompt_finishes_the_pass_and_the_next_pick_starts_a_new_one() -> None:
    history = shuffled_pass(50)[:-1]
    last = shuffled_pass(50)[-1]
    picked = choose_prompts(
        DECK, shared_goals=["career"], member_goals=[["career"]], seen_by_member=[history]
    )
    assert picked[0].id == last
    # The new pass begins with a prompt not seen in the last half-deck.
    assert picked[1].id not in history[-len(DECK) // 2 :]


# --- edge cases and determinism -------------------------------------------------------------


def test_count_larger_than_deck_returns_each_prompt_once() -> None:
    small = DECK[:3]
    picked = choose_prompts(small, shared_goals=[], member_goals=[[]], seen_by_member=[[]], count=5)
    assert sorted(p.id for p in picked) == sorted(p.id for p in small)


def test_duplicate_deck_entries_are_never_returned_twice() -> None:
    doubled = [*DECK[:2], *DECK[:2]]
    picked = choose_prompts(
        doubled, shared_goals=[], member_goals=[[]], seen_by_member=[[]], count=4
    )
    assert len(picked) == 2
    assert len({p.id for p in picked}) == 2


def test_empty_deck_or_zero_count_returns_nothing() -> None:
    assert choose_prompts([], shared_goals=[], member_goals=[], seen_by_member=[]) == []
    assert choose_prompts(DECK, shared_goals=[], member_goals=[], seen_by_member=[], count=0) == []


def test_negative_count_is_rejected() -> None:
    with pytest.raises(ValueError):
        choose_prompts(DECK, shared_goals=[], member_goals=[], seen_by_member=[], count=-1)


def test_same_seed_gives_the_same_prompts() -> None:
    kwargs = {
        "shared_goals": ["delegation"],
        "member_goals": [["delegation", "wellbeing"], ["delegation"]],
        "seen_by_member": [shuffled_pass(5)[:17], shuffled_pass(6)[:3]],
    }
    for seed in range(10):
        first = choose_prompts(DECK, seed=seed, **kwargs)
        again = choose_prompts(DECK, seed=seed, **kwargs)
        assert first == again


def test_different_seeds_vary_the_tie_breaks() -> None:
    results = {
        tuple(
            p.id
            for p in choose_prompts(
                DECK, shared_goals=[], member_goals=[[], []], seen_by_member=[[], []], seed=s
            )
        )
        for s in range(20)
    }
    assert len(results) > 5


def test_choose_prompts_does_not_modify_its_inputs() -> None:
    histories = [shuffled_pass(7)[:9], []]
    goals = [["career"], ["career", "hiring"]]
    snapshot = ([list(h) for h in histories], [list(g) for g in goals])
    choose_prompts(DECK, shared_goals=["career"], member_goals=goals, seen_by_member=histories)
    assert ([list(h) for h in histories], [list(g) for g in goals]) == snapshot


# --- properties ----------------------------------------------------------------------------

history_strategy = st.lists(st.sampled_from(DECK_IDS), max_size=3 * len(DECK))


@settings(max_examples=150, deadline=None)
@given(
    histories=st.lists(history_strategy, min_size=1, max_size=3),
    goals=st.lists(st.lists(st.sampled_from(THEMES), max_size=5), max_size=3),
    count=st.integers(min_value=1, max_value=6),
    seed=st.integers(min_value=0, max_value=2**32),
)
def test_choice_is_distinct_and_each_pick_is_fresh_for_the_most_members(
    histories: list[list[str]], goals: list[list[str]], count: int, seed: int
) -> None:
    picked = choose_prompts(
        DECK,
        shared_goals=goals[0] if goals else [],
        member_goals=goals,
        seen_by_member=histories,
        count=count,
        seed=seed,
    )
    assert len(picked) == count
    assert len({p.id for p in picked}) == count
    assert all(isinstance(p, Prompt) and BY_ID[p.id] == p for p in picked)

    # Replay the choice: each prompt must be fresh for as many members as any prompt still
    # available at that point, with passes restarting once a member has seen a full deck.
    passes = [set(current_pass(h, len(DECK))) for h in histories]
    lengths = [len(h) % len(DECK) for h in histories]
    remaining = set(DECK_IDS)
    for prompt in picked:
        best = max(sum(pid not in s for s in passes) for pid in remaining)
        assert sum(prompt.id not in s for s in passes) == best
        remaining.discard(prompt.id)
        for member, pass_ids in enumerate(passes):
            pass_ids.add(prompt.id)
            lengths[member] += 1
            if lengths[member] == len(DECK):
                pass_ids.clear()
                lengths[member] = 0


@settings(max_examples=60, deadline=None)
@given(
    earlier_passes=st.integers(min_value=0, max_value=3),
    order_seed=st.integers(min_value=0, max_value=1000),
    count=st.integers(min_value=1, max_value=5),
    goals=st.lists(st.sampled_from(THEMES), max_size=5),
)
def test_any_member_sees_every_prompt_once_per_pass(
    earlier_passes: int, order_seed: int, count: int, goals: list[str]
) -> None:
    history = [pid for k in range(earlier_passes) for pid in shuffled_pass(order_seed + k)]
    start = len(history)
    run_rounds([history], -(-len(DECK) // count), goals=[goals], count=count)
    assert sorted(history[start : start + len(DECK)]) == sorted(DECK_IDS)


# --- the chooser against a reference ---------------------------------------------------------


def reference_choice(
    deck: list[Prompt],
    *,
    shared_goals: list[str],
    member_goals: list[list[str]],
    seen_by_member: list[list[str]],
    count: int,
    seed: int,
) -> list[str]:
    """The rule as first written (bot/prompts.py at 9ae8348): each pick is the least prompt by
    one eight-part key. PromptChooser narrows the field part by part for speed; it must pick
    exactly what this picks."""
    unique: dict[str, Prompt] = {}
    for prompt in deck:
        unique.setdefault(prompt.id, prompt)
    candidates = list(unique.values())
    size = len(candidates)
    if size == 0 or count == 0:
        return []
    rng = random.Random(seed)
    tie = {p.id: rng.random() for p in candidates}
    order = {p.id: i for i, p in enumerate(candidates)}
    in_pass = [set(current_pass(seen, size)) for seen in seen_by_member]
    pass_length = [len(seen) % size for seen in seen_by_member]
    group_size = len(in_pass)
    never = max((len(seen) for seen in seen_by_member), default=0) + 1
    ago = dict.fromkeys(order, never)
    for seen in seen_by_member:
        for back, pid in enumerate(reversed(seen), start=1):
            if pid in ago:
                ago[pid] = min(ago[pid], back)
    shared, anyone = set(shared_goals), {g for goals in member_goals for g in goals}
    tier = {p.id: 0 if p.theme in shared else (1 if p.theme in anyone else 2) for p in candidates}
    cap = max(1, size // 2) + 1
    chosen: list[str] = []
    theme_uses: Counter[str] = Counter()
    remaining = list(candidates)
    for _ in range(min(count, size)):
        fresh = {p.id: sum(p.id not in s for s in in_pass) for p in remaining}
        best = min(
            remaining,
            key=lambda p: (
                -fresh[p.id],
                0 if fresh[p.id] == group_size else -ago[p.id],
                theme_uses[p.theme],
                tier[p.id],
                -min(ago[p.id], cap) if fresh[p.id] == group_size else 0,
                tie[p.id],
                order[p.id],
            ),
        )
        chosen.append(best.id)
        theme_uses[best.theme] += 1
        remaining.remove(best)
        for member, pass_ids in enumerate(in_pass):
            pass_ids.add(best.id)
            pass_length[member] += 1
            if pass_length[member] == size:
                pass_ids.clear()
                pass_length[member] = 0
    return chosen


SMALL_THEMES = THEMES[:3]  # few themes and prompts: ties at every part of the key
small_deck_strategy = st.lists(
    st.builds(
        lambda n, theme: Prompt(id=f"{theme}-{n}", theme=theme, text=f"{theme} {n}?"),
        st.integers(min_value=0, max_value=5),
        st.sampled_from(SMALL_THEMES),
    ),
    max_size=12,
)


@settings(max_examples=300, deadline=None)
@given(
    deck=small_deck_strategy,
    data=st.data(),
    seed=st.integers(min_value=0, max_value=2**32),
)
def test_the_chooser_picks_exactly_what_the_reference_rule_picks(
    deck: list[Prompt], data: st.DataObject, seed: int
) -> None:
    ids = [*sorted({p.id for p in deck}), "gone-1"]  # a prompt since removed from the deck
    goals = st.lists(st.sampled_from(SMALL_THEMES), max_size=3)
    chooser = PromptChooser(deck, seed=seed)
    # Several groups of one round through one chooser, as a round start does (its goal-tier
    # cache is shared by the groups).
    for _ in range(data.draw(st.integers(min_value=1, max_value=4))):
        size = data.draw(st.integers(min_value=1, max_value=3))
        histories = data.draw(
            st.lists(st.lists(st.sampled_from(ids), max_size=30), min_size=size, max_size=size)
        )
        member_goals = data.draw(st.lists(goals, min_size=size, max_size=size))
        shared = data.draw(goals)
        count = data.draw(st.integers(min_value=0, max_value=len(ids) + 1))
        picked = chooser.choose(
            shared_goals=shared,
            member_goals=member_goals,
            seen_by_member=histories,
            count=count,
        )
        assert [p.id for p in picked] == reference_choice(
            deck,
            shared_goals=shared,
            member_goals=member_goals,
            seen_by_member=histories,
            count=count,
            seed=seed,
        )
