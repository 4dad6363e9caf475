"""The daily job: delete what the retention rules say must go (docs/privacy.md)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.deps import Deps
from bot.domain.privacy import RetentionReport
from bot.services import lifecycle, privacy

logger = logging.getLogger(__name__)


@dataclass
class MaintenanceReport:
    """What one daily run deleted: the team ids of workspaces purged after uninstall."""

    purged_teams: list[str] = field(default_factory=list)
    retention: RetentionReport = field(default_factory=RetentionReport)


def daily(deps: Deps, now: datetime) -> MaintenanceReport:
    """Delete the data of workspaces uninstalled longer than the grace period ago
    (UNINSTALL_GRACE_DAYS), and reflection text past each programme's retention period."""
    report = MaintenanceReport()
    with deps.unit_of_work() as session:
        report.purged_teams = lifecycle.purge_uninstalled(
            session, now=now, grace=timedelta(days=deps.settings.uninstall_grace_days)
        )
    with deps.unit_of_work() as session:
        report.retention = privacy.apply_retention(session, now=now)
    if report.purged_teams:
        logger.info("deleted the data of %s uninstalled workspace(s)", len(report.purged_teams))
    return report
