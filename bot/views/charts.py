"""Charts for admin surfaces: aggregates only, suppressed figures left blank."""

from __future__ import annotations

import io
import math

from bot.domain.figures import CycleFigures


def participation_chart(cycles: list[CycleFigures]) -> tuple[bytes, str]:
    """A PNG of people paired and the met rate per cycle, and its alt text."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    labels = [f"{c.started_at:%d %b}" for c in cycles]
    paired = [
        c.paired.value if c.paired.visible and c.paired.value is not None else math.nan
        for c in cycles
    ]
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
