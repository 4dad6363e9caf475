"""The choices the join modal offers: level bands and coaching topics."""

from __future__ import annotations

# Level bands are ordered: adjacent numbers are adjacent levels (the matcher relies on that).
LEVEL_BANDS: dict[int, str] = {
    1: "Team lead / first-line manager",
    2: "Manager of managers",
    3: "Senior manager / Head of",
    4: "Director",
    5: "VP / Executive",
}

# Topic keys double as prompt-deck themes.
GOALS: dict[str, str] = {
    "delegation": "Delegation",
    "feedback": "Giving and receiving feedback",
    "conflict": "Handling conflict",
    "leading_change": "Leading change",
    "priorities": "Priorities and focus",
    "wellbeing": "Wellbeing and energy",
    "hiring": "Hiring and building teams",
    "strategy": "Strategy and vision",
    "influence": "Influence and managing up",
    "coaching": "Coaching my team",
    "performance": "Performance conversations",
    "career": "Career growth",
}

MAX_GOALS = 5
MAX_TEAM_LENGTH = 80
MAX_NEVER_PAIR = 20
