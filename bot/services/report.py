"""Programme reports: the same aggregates as CSV or JSON, and the participation chart."""

from __future__ import annotations

import csv
import io
import json
import math

from sqlalchemy.orm import Session

from bot.services.metrics import FIGURE_COLUMNS, CycleFigures, cycle_figures, membership_figures

REPORT_CYCLES = 52


def report_rows(session: Session, workspace_id: int) -> list[dict[str, object]]:
    """One row per cycle (the last year), each figure a number or “fewer than 5”."""
    return [c.as_row() for c in cycle_figures(session, workspace_id, last=REPORT_CYCLES)]


def report_csv(session: Session, workspace_id: int) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=["round_started_at", "kind", *FIGURE_COLUMNS])
    writer.writeheader()
    writer.writerows(report_rows(session, workspace_id))
    return buffer.getvalue()


def report_json(session: Session, workspace_id: int) -> str:
    members = membership_figures(session, workspace_id)
    return json.dumps(
        {
            "members_now": {
                "active": members.active.export(),
                "paused": members.paused.export(),
                "left": members.left.export(),
            },
            "cycles": report_rows(session, workspace_id),
        },
        indent=2,
    )


def participation_chart(cycles: list[CycleFigures]) -> tuple[bytes, str]:
    """A PNG of people paired and the met rate per cycle, and its alt text."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    labels = [f"{c.started_at:%d %b}" for c in cycles]
    paired = [c.paired.value if c.paired.visible else math.nan for c in cycles]
    met = [
        100 * c.met_rate.value if c.met_rate.visible and c.met_rate.value is not None else math.nan
        for c in cycles
    ]
    figure, left = pyplot.subplots(figsize=(7, 3.2), dpi=100)
    left.bar(labels, paired, color="#4a78a8", label="people paired")
    left.set_ylabel("people paired")
    right = left.twinx()
    right.plot(labels, met, color="#d9822b", marker="o", label="groups that met (%)")
    right.set_ylim(0, 100)
    right.set_ylabel("met (%)")
    left.set_title("PeerCoach: participation and meetings per cycle")
    figure.legend(loc="lower center", ncol=2, fontsize=8, frameon=False)
    figure.tight_layout(rect=(0, 0.07, 1, 1))
    png = io.BytesIO()
    figure.savefig(png, format="png")
    pyplot.close(figure)
    shown = [
        f"{label}: {c.paired.shown()} paired, {c.met_rate.shown()} met"
        for label, c in zip(labels, cycles, strict=True)
    ]
    alt = (
        "Bar chart of people paired with a line of the share of groups that met, per cycle. "
        + "; ".join(shown)
    )
    return png.getvalue(), alt[:1000]
