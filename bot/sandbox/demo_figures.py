"""The admin's view at the end of the demo: programme figures (aggregates) and the chart."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from bot.sandbox.demo_render import blocks_to_text
from bot.sandbox.harness import Sandbox
from bot.services.metrics import cycle_figures, membership_figures
from bot.services.pulse import latest_results
from bot.views.admin import figures_table, pulse_blocks
from bot.views.charts import participation_chart
from db.models import Programme, Workspace


def programme_figures_lines(sandbox: Sandbox, chart_path: Path) -> list[str]:
    """What a programme admin would see: the figures table, members now, and the chart file."""
    with sandbox.deps.unit_of_work() as session:
        programme_id = session.scalar(
            select(Programme.id)
            .join(Workspace, Workspace.id == Programme.workspace_id)
            .where(Workspace.team_id == sandbox.team_id)
            .order_by(Programme.id)
            .limit(1)
        )
        if programme_id is None:
            return []
        cycles = cycle_figures(session, programme_id, last=12)
        members = membership_figures(session, programme_id)
        pulse = latest_results(session, programme_id)
    png, _alt = participation_chart(cycles)
    chart_path.write_bytes(png)
    table = figures_table(cycles).replace("*", "")  # mrkdwn bold, as plain text
    return [
        "",
        "Programme figures, as an admin sees them (aggregates only; fewer than 5 people: hidden)",
        *(f"  {row}" for row in table.splitlines()),
        f"  members now: active {members.active.shown()}, paused {members.paused.shown()}, "
        f"left {members.left.shown()}",
        *(f"  {line}" for line in blocks_to_text(pulse_blocks(pulse))),
        f"  chart (people paired and met rate per cycle): {chart_path}",
    ]
