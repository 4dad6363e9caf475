"""The JSON interface: round trip, defaults and clear one-line errors."""

from __future__ import annotations

import io
import json

import pytest

from bot.matching.cli import main


def run(doc):
    """Run the CLI on a document (or raw text); return (code, stdout, stderr)."""
    stdin = io.StringIO(doc if isinstance(doc, str) else json.dumps(doc))
    out, err = io.StringIO(), io.StringIO()
    code = main(stdin, out, err)
    return code, out.getvalue(), err.getvalue()


REQUEST = {
    "members": [
        {"id": "U1", "level": 3, "team": "Sales", "goals": ["delegation"], "tz_offset_minutes": 60},
        {"id": "U2", "level": 3, "team": "Eng", "goals": ["delegation"], "tz_offset_minutes": 0},
        {"id": "U3", "level": 1, "team": "Ops", "goals": ["hiring"], "tz_offset_minutes": -300},
        {"id": "U4", "level": 2},
        {"id": "U5"},
    ],
    "history": [{"members": ["U1", "U3"], "cycles_ago": 1, "met": True, "first": "U1"}],
    "exclusions": [["U4", "U5"]],
    "rules": {"group_size": 2, "repeat_window": None, "cross_team_weight": 0.5},
    "seed": 42,
}


def test_round_trip_groups_everyone_and_explains():
    code, out, err = run(REQUEST)
    assert code == 0, err
    doc = json.loads(out)
    ids = sorted(m for g in doc["groups"] for m in g["members"])
    assert ids == ["U1", "U2", "U3", "U4", "U5"]
    assert doc["unmatched"] == []
    assert doc["seed"] == 42
    assert {"repeats", "total_weight", "n_members", "seconds"} <= set(doc["stats"])
    for g in doc["groups"]:
        assert {"U4", "U5"} - set(g["members"])
        assert g["reasons"]


def test_same_request_gives_same_groups():
    assert json.loads(run(REQUEST)[1])["groups"] == json.loads(run(REQUEST)[1])["groups"]


def test_only_members_is_required():
    code, out, _ = run({"members": [{"id": "A"}, {"id": "B"}]})
    assert code == 0
    assert json.loads(out)["groups"][0]["reasons"] == ["first_meeting"]


def test_unmatched_are_reported_with_reason():
    code, out, _ = run({"members": [{"id": "A"}, {"id": "B"}], "exclusions": [["A", "B"]]})
    assert code == 0
    doc = json.loads(out)
    assert doc["groups"] == []
    assert doc["unmatched"] == [
        {"id": "A", "reason": "no_compatible_partner"},
        {"id": "B", "reason": "no_compatible_partner"},
    ]


@pytest.mark.parametrize(
    ("doc", "needle"),
    [
        ("{not json", "not valid JSON"),
        ([], "request must be an object"),
        ({}, "members"),
        ({"members": [{"id": "A"}, {"id": "A"}]}, "duplicate member id 'A'"),
        ({"members": [{"id": "A"}], "history": [{"members": ["A", "Z"], "cycles_ago": 1}]}, "'Z'"),
        ({"members": [{"id": 7}]}, "members[0].id"),
        ({"members": [{"id": "A", "level": "high"}]}, "members[0].level"),
        ({"members": [{"id": "A", "goals": "delegation"}]}, "goals must be a list"),
        ({"members": [{"id": "A", "colour": "red"}]}, "unknown field 'colour'"),
        ({"members": [], "rules": {"group_size": 6}}, "group_size"),
        ({"members": [], "rules": {"tz_weight": "x"}}, "rules.tz_weight"),
        ({"members": [], "seed": 1.5}, "seed"),
        ({"members": [], "exclusions": [["A"]]}, "exclusions[0]"),
        ({"members": [{"id": "A"}], "history": [{"members": ["A"], "cycles_ago": 0}]}, "cycles"),
        ({"members": [{"id": "A"}], "history": [{"members": ["A"]}]}, "cycles_ago"),
    ],
)
def test_bad_input_gives_one_clear_line_and_nonzero_exit(doc, needle):
    code, out, err = run(doc)
    assert code != 0
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("error: ")
    assert needle in err
    assert "Traceback" not in err
