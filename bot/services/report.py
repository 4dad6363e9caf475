"""Programme reports: the same aggregates as CSV or JSON."""

from __future__ import annotations

import csv
import io
import json

from sqlalchemy.orm import Session

from bot.domain.figures import FIGURE_COLUMNS
from bot.services.metrics import cycle_figures, membership_figures

REPORT_CYCLES = 52


def report_rows(session: Session, programme_id: int) -> list[dict[str, object]]:
    """One row per cycle (the last year), each figure a number or “fewer than 5”."""
    return [c.as_row() for c in cycle_figures(session, programme_id, last=REPORT_CYCLES)]


def report_csv(session: Session, programme_id: int) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=["round_started_at", "kind", *FIGURE_COLUMNS])
    writer.writeheader()
    writer.writerows(report_rows(session, programme_id))
    return buffer.getvalue()


def report_json(session: Session, programme_id: int) -> str:
    members = membership_figures(session, programme_id)
    return json.dumps(
        {
            "members_now": {
                "active": members.active.export(),
                "paused": members.paused.export(),
                "left": members.left.export(),
            },
            "cycles": report_rows(session, programme_id),
        },
        indent=2,
    )
