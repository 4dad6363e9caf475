"""What suggesting meeting times costs a round.

    python bench/slots.py [--groups 2500] [--seed 1]

Times `suggest_slots` for `--groups` pairs whose members live in zones drawn from around the
world (many of them share no working hour, so the least-bad search runs) beside the reference
run in the same process: the same number of pairs in one zone (every pair overlaps). Prints
milliseconds per pair for both and their ratio; on a shared machine read the ratio.
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import UTC, datetime, timedelta

from bot.domain.meetings import SlotPerson, WorkingHours
from bot.services.meetings import suggest_slots

ROUND_AT = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
ZONES = (
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/Los_Angeles",
    "Asia/Kolkata",
    "Asia/Tokyo",
    "Australia/Sydney",
)


def run(groups: list[list[SlotPerson]]) -> tuple[float, int]:
    """Seconds to suggest every group's slots, and how many got a least-bad slot."""
    started = time.perf_counter()
    least_bad = 0
    for people in groups:
        slots = suggest_slots(
            people, start=ROUND_AT + timedelta(hours=1), end=ROUND_AT + timedelta(days=4)
        )
        least_bad += bool(slots and slots[0].costs)
    return time.perf_counter() - started, least_bad


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=2500)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    hours = WorkingHours()
    one_zone = [
        [SlotPerson(f"U{i}a", hours, "Europe/London"), SlotPerson(f"U{i}b", hours, "Europe/London")]
        for i in range(args.groups)
    ]
    world = [
        [
            SlotPerson(f"U{i}a", hours, rng.choice(ZONES)),
            SlotPerson(f"U{i}b", hours, rng.choice(ZONES)),
        ]
        for i in range(args.groups)
    ]
    reference, _ = run(one_zone)
    measured, least_bad = run(world)
    print(f"pairs: {args.groups}")
    print(f"reference (one zone, all overlap): {reference * 1e3 / args.groups:.3f} ms/pair")
    print(
        f"world zones ({least_bad} pairs with no shared hour): "
        f"{measured * 1e3 / args.groups:.3f} ms/pair, {measured:.2f} s in all"
    )
    print(f"ratio world / reference: {measured / reference:.1f}x")


if __name__ == "__main__":
    main()
