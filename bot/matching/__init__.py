"""Pure peer-matching engine: members, history and never-pair lists in, groups out."""

from .engine import match_members, may_group
from .model import (
    NO_COMPATIBLE_GROUP,
    NO_COMPATIBLE_PARTNER,
    MatchedGroup,
    MatchingInputError,
    MatchingInternalError,
    MatchMember,
    MatchResult,
    MatchRules,
    PastGroup,
    Unmatched,
)

__all__ = [
    "NO_COMPATIBLE_GROUP",
    "NO_COMPATIBLE_PARTNER",
    "MatchMember",
    "MatchResult",
    "MatchRules",
    "MatchedGroup",
    "MatchingInputError",
    "MatchingInternalError",
    "PastGroup",
    "Unmatched",
    "match_members",
    "may_group",
]
