"""History: recent partners avoided, no-shows count less, kept pairs stay together."""

from __future__ import annotations

from collections import Counter

from matching_helpers import as_history, members, pairs_of

from bot.matching import MatchRules, PastGroup, match_members


def test_recent_partners_are_avoided_while_a_fresh_one_exists():
    ms = members(20, prefs=False)
    rounds = []
    for r in range(15):
        rounds.append(match_members(ms, history=as_history(rounds), seed=r))
    seen: set[frozenset[str]] = set()
    for result in rounds:
        assert not (pairs_of(result) & seen)
        assert "repeat" not in {x for g in result.groups for x in g.reasons}
        seen |= pairs_of(result)


def test_last_partner_is_not_repeated_even_when_preferences_favour_them():
    ms = members(6)
    first = match_members(ms, seed=1)
    second = match_members(ms, history=as_history([first]), seed=1)
    assert not (pairs_of(first) & pairs_of(second))


def test_repeat_is_the_least_recent_one_when_everyone_has_met():
    ms = members(4, prefs=False)
    a, b, c, d = (m.id for m in ms)
    history = [
        PastGroup((a, b), cycles_ago=1),
        PastGroup((c, d), cycles_ago=1),
        PastGroup((a, c), cycles_ago=2),
        PastGroup((b, d), cycles_ago=2),
        PastGroup((a, d), cycles_ago=9),
        PastGroup((b, c), cycles_ago=9),
    ]
    result = match_members(ms, history=history)
    assert pairs_of(result) == {frozenset((a, d)), frozenset((b, c))}
    assert all("repeat" in g.reasons for g in result.groups)


def test_a_pairing_that_did_not_happen_counts_less_than_a_meeting():
    ms = members(4, prefs=False)
    a, b, c, d = (m.id for m in ms)
    history = [
        PastGroup((a, b), cycles_ago=1, met=False),
        PastGroup((c, d), cycles_ago=1, met=False),
        PastGroup((a, c), cycles_ago=1),
        PastGroup((b, d), cycles_ago=1),
        PastGroup((a, d), cycles_ago=1),
        PastGroup((b, c), cycles_ago=1),
    ]
    result = match_members(ms, history=history)
    assert pairs_of(result) == {frozenset((a, b)), frozenset((c, d))}
    assert all("first_meeting" in g.reasons for g in result.groups)


def test_a_pair_that_asked_to_keep_meeting_is_kept_together():
    ms = members(10)
    a, b = ms[3].id, ms[7].id
    history = [PastGroup((a, b), cycles_ago=1, keep_together=True)]
    result = match_members(ms, history=history, seed=4)
    kept = [g for g in result.groups if set(g.members) == {a, b}]
    assert kept and "kept_together" in kept[0].reasons


def test_repeat_window_lets_old_partners_meet_again():
    ms = members(4, prefs=False)
    a, b, c, d = (m.id for m in ms)
    history = [PastGroup((a, b), cycles_ago=5), PastGroup((c, d), cycles_ago=5)]
    rules = MatchRules(repeat_window=3)
    # Beyond the window a past partner is only mildly avoided: fresh pairs still win ties...
    result = match_members(ms, history=history, rules=rules)
    assert frozenset((a, b)) not in pairs_of(result)
    # ...but a strong preference may bring them back together.
    ms2 = [
        ms[0].__class__(a, goals=frozenset({"x", "y", "z"})),
        ms[1].__class__(b, goals=frozenset({"x", "y", "z"})),
        ms[2].__class__(c),
        ms[3].__class__(d),
    ]
    again = match_members(ms2, history=history, rules=rules)
    assert frozenset((a, b)) in pairs_of(again)


def test_fit_prefers_shared_goals_and_levels():
    from bot.matching import MatchMember

    ms = [
        MatchMember("A", level=1, goals=frozenset({"delegation"})),
        MatchMember("B", level=5, goals=frozenset({"hiring"})),
        MatchMember("C", level=1, goals=frozenset({"delegation"})),
        MatchMember("D", level=5, goals=frozenset({"hiring"})),
    ]
    result = match_members(ms)
    assert pairs_of(result) == {frozenset("AC"), frozenset("BD")}
    reasons = {g.members: set(g.reasons) for g in result.groups}
    assert all({"same_level", "first_meeting"} <= r for r in reasons.values())
    assert any("shared_goal:delegation" in r for r in reasons.values())


def test_cross_team_weight_prefers_different_teams():
    from bot.matching import MatchMember

    ms = [
        MatchMember("A", team="Sales"),
        MatchMember("B", team="Sales"),
        MatchMember("C", team="Eng"),
        MatchMember("D", team="Eng"),
    ]
    result = match_members(ms, rules=MatchRules(cross_team_weight=2.0))
    for g in result.groups:
        assert "cross_team" in g.reasons
    same = match_members(ms, rules=MatchRules(cross_team_weight=-2.0))
    assert pairs_of(same) == {frozenset("AB"), frozenset("CD")}


def test_counts_of_repeats_in_stats():
    ms = members(4, prefs=False)
    a, b, c, d = (m.id for m in ms)
    history = [PastGroup(p, cycles_ago=1) for p in [(a, b), (c, d), (a, c), (b, d), (a, d), (b, c)]]
    result = match_members(ms, history=history)
    assert result.stats["repeats"] == 2
    assert Counter(x for g in result.groups for x in g.reasons)["repeat"] == 2
