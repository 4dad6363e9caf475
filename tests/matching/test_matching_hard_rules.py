"""Hard rules beyond private never-pair lists: reporting lines (direct and skip-level), same
team, shared working hours. They hold for pairs and circles, and leave out nobody more than
the rules force."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import combinations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from matching_helpers import max_covered, members

from bot.matching import MatchMember, MatchRules, match_members, may_group
from bot.matching.orgchart import reporting_cycles, reporting_pairs
from bot.matching.worktime import WorkingWindow, shared_working_minutes, working_intervals

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ZONES = ["Europe/London", "America/New_York", "Asia/Kolkata", "Australia/Sydney", "Asia/Tokyo"]


@st.composite
def org_charts(draw, max_n=14):
    """Draw members and a random org chart over them: each person gets zero, one or (a
    matrix organisation) two managers among the others; loops may occur."""
    n = draw(st.integers(0, max_n))
    ms = members(n, seed=draw(st.integers(0, 1000)))
    ids = [m.id for m in ms]
    lines = []
    for person in ids:
        for _ in range(draw(st.integers(0, 2))):
            manager = draw(st.sampled_from(ids))
            if manager != person:
                lines.append((person, manager))
    return ms, lines, draw(st.booleans()), draw(st.integers(0, 2**31))


def grouped_pairs(result):
    return {frozenset(p) for g in result.groups for p in combinations(g.members, 2)}


def line_pairs(lines, skip_level):
    """The reporting pairs, computed here independently of the engine's helper."""
    managers = {}
    for person, manager in lines:
        managers.setdefault(person, set()).add(manager)
    out = {frozenset((p, m)) for p, ms in managers.items() for m in ms}
    if skip_level:
        out |= {
            frozenset((p, top))
            for p, ms in managers.items()
            for m in ms
            for top in managers.get(m, ())
            if top != p
        }
    return out


@FAST
@given(org_charts(), st.sampled_from([2, 3, 4]))
def test_an_imported_reporting_line_is_never_grouped(chart, group_size):
    ms, lines, skip_level, seed = chart
    banned = reporting_pairs(lines, skip_level=skip_level)
    assert {frozenset(p) for p in banned} == line_pairs(lines, skip_level)
    result = match_members(
        ms, exclusions=banned, rules=MatchRules(group_size=group_size), seed=seed
    )
    assert grouped_pairs(result).isdisjoint(line_pairs(lines, skip_level))
    seen = sorted([m for g in result.groups for m in g.members] + [u.id for u in result.unmatched])
    assert seen == sorted(m.id for m in ms)


@FAST
@given(org_charts(max_n=11))
def test_reporting_lines_leave_out_nobody_more_than_necessary(chart):
    ms, lines, skip_level, seed = chart
    ids = [m.id for m in ms]
    banned = line_pairs(lines, skip_level)
    result = match_members(ms, exclusions=reporting_pairs(lines, skip_level=skip_level), seed=seed)
    expected_out = len(ids) - max_covered(ids, banned) if len(ids) >= 2 else len(ids)
    assert len(result.unmatched) == expected_out


def test_skip_level_keeps_a_person_from_their_managers_manager_too():
    ms = [MatchMember(id=i) for i in ("UA", "UB", "UC", "UD")]
    chart = [("UA", "UB"), ("UB", "UC")]  # A reports to B, B to C; D is on their own
    assert reporting_pairs(chart) == {("UA", "UB"), ("UB", "UC")}
    assert reporting_pairs(chart, skip_level=True) == {("UA", "UB"), ("UB", "UC"), ("UA", "UC")}
    for seed in range(20):
        direct_only = match_members(ms, exclusions=reporting_pairs(chart), seed=seed)
        assert not direct_only.unmatched  # A with C and B with D is allowed
        result = match_members(ms, exclusions=reporting_pairs(chart, skip_level=True), seed=seed)
        # A, B and C may not meet one another: one of them meets D, two sit this round out.
        assert len(result.groups) == 1 and "UD" in result.groups[0].members
        assert len(result.unmatched) == 2


def test_loops_in_a_chart_are_found():
    chart = [("UA", "UB"), ("UB", "UC"), ("UC", "UA"), ("UD", "UA"), ("UE", "UE"), ("UF", "UG")]
    assert reporting_cycles(chart) == [("UA", "UB", "UC"), ("UE",)]
    assert reporting_cycles([("UA", "UB"), ("UB", "UA")]) == [("UA", "UB")]
    deep = [(f"U{i}", f"U{i + 1}") for i in range(5000)]
    assert reporting_cycles(deep) == []  # iterative: a deep chart is no recursion problem


@FAST
@given(st.integers(0, 14), st.integers(0, 1000), st.sampled_from([2, 3, 4]))
def test_avoid_same_team_never_groups_two_of_one_team(n, seed, group_size):
    ms = members(n, seed=seed)
    rules = MatchRules(group_size=group_size, avoid_same_team=True)
    result = match_members(ms, rules=rules, seed=seed)
    team = {m.id: m.team for m in ms}
    for g in result.groups:
        teams = [team[u] for u in g.members]
        assert len(set(teams)) == len(teams)
    if group_size == 2 and n <= 11:
        same = {frozenset((a.id, b.id)) for a, b in combinations(ms, 2) if a.team == b.team}
        ids = [m.id for m in ms]
        expected_out = n - max_covered(ids, same) if n >= 2 else n
        assert len(result.unmatched) == expected_out


def week_of(day: datetime) -> list[MatchMember]:
    """People in five time zones, standard hours, as the matcher sees them that week."""
    out = []
    for k, zone in enumerate(ZONES * 2):
        window = WorkingWindow(zone)
        out.append(MatchMember(id=f"U{k:02d}", work_intervals=working_intervals(window, day)))
    return out


@FAST
@given(
    st.sampled_from([datetime(2026, 2, 16, 9, tzinfo=UTC), datetime(2026, 3, 16, 9, tzinfo=UTC)]),
    st.integers(1, 8),
    st.sampled_from([2, 3, 4]),
    st.integers(0, 2**31),
)
def test_groups_share_at_least_the_required_working_hours(day, hours, group_size, seed):
    ms = week_of(day)
    zone_of = {m.id: WorkingWindow(ZONES[int(m.id[1:]) % len(ZONES)]) for m in ms}
    rules = MatchRules(group_size=group_size, min_shared_minutes=60 * hours)
    result = match_members(ms, rules=rules, seed=seed)
    for g in result.groups:
        for a, b in combinations(g.members, 2):
            assert shared_working_minutes(zone_of[a], zone_of[b], week_start=day) >= 60 * hours
    if group_size == 2:
        too_far = {
            frozenset((a.id, b.id))
            for a, b in combinations(ms, 2)
            if shared_working_minutes(zone_of[a.id], zone_of[b.id], week_start=day) < 60 * hours
        }
        ids = [m.id for m in ms]
        assert len(result.unmatched) == len(ids) - max_covered(ids, too_far)


def test_london_and_new_york_meet_the_four_hour_limit_only_while_the_clocks_differ_by_four():
    london, new_york = WorkingWindow("Europe/London"), WorkingWindow("America/New_York")
    february = datetime(2026, 2, 16, 9, tzinfo=UTC)
    # The US moves its clocks on 8 March 2026, the UK on 29 March: three weeks 4 hours apart.
    march = datetime(2026, 3, 16, 9, tzinfo=UTC)
    assert shared_working_minutes(london, new_york, week_start=february) == 180
    assert shared_working_minutes(london, new_york, week_start=march) == 240
    people = [
        MatchMember(id="ULON", work_intervals=working_intervals(london, february)),
        MatchMember(id="UNYC", work_intervals=working_intervals(new_york, february)),
    ]
    rules = MatchRules(min_shared_minutes=240)
    assert [u.id for u in match_members(people, rules=rules).unmatched] == ["ULON", "UNYC"]
    people = [
        MatchMember(id="ULON", work_intervals=working_intervals(london, march)),
        MatchMember(id="UNYC", work_intervals=working_intervals(new_york, march)),
    ]
    assert [set(g.members) for g in match_members(people, rules=rules).groups] == [{"ULON", "UNYC"}]


def test_may_group_judges_a_group_by_every_hard_rule():
    a = MatchMember(id="UA", team="sales")
    b = MatchMember(id="UB", team="sales")
    c = MatchMember(id="UC", team="ops")
    assert may_group([a, b, c])
    assert not may_group([a, b, c], rules=MatchRules(avoid_same_team=True))
    assert not may_group([a, c], exclusions=[("UC", "UA")])
    assert may_group([a, c], exclusions=[("UB", "UA")], rules=MatchRules(avoid_same_team=True))
