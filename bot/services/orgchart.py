"""The org chart: reading an admin's CSV, storing reporting lines, and the hard rules they make.

An import replaces the workspace's reporting lines in one transaction (the workspace row is
locked, so two imports at once apply one after the other, never mixed). Emails are only used
to find people in Slack (bot.jobs.orgchart); what is stored is Slack user ids.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping
from datetime import datetime

from sqlalchemy import delete, insert, or_, select
from sqlalchemy.orm import Session

from bot.domain.messages import OrgImportNotice
from bot.domain.orgchart import OrgChartRows, OrgImportReport
from bot.errors import UsageError
from bot.matching.orgchart import reporting_cycles, reporting_pairs
from bot.services.outbox import enqueue
from db.models import ReportingLine, Workspace

MAX_ROWS = 100_000
EMAIL = re.compile(r"[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+")
FORMAT_HELP = (
    "The org chart is a CSV file with a header row and two columns: the person's email and "
    "their manager's email (empty for the top of the chart)."
)


def _header_key(cell: str) -> str:
    return re.sub(r"[^a-z]", "", cell.strip().lower())


def _columns(header: list[str]) -> tuple[int, int]:
    """Pick the person and manager columns from a header row (by name, else the first two)."""
    keys = [_header_key(c) for c in header]
    manager = next((k for k, name in enumerate(keys) if "manager" in name or "boss" in name), None)
    if manager is None:
        manager = next((k for k, name in enumerate(keys) if "reportsto" in name), None)
    person = next(
        (
            k
            for k, name in enumerate(keys)
            if k != manager and any(w in name for w in ("email", "person", "employee", "user"))
        ),
        None,
    )
    if manager is None or person is None:
        return 0, 1
    return person, manager


def parse_org_chart(data: bytes | str) -> OrgChartRows:
    """Read an org-chart CSV: a header row, then person email, manager email per row.

    Tolerates a byte-order mark, surrounding whitespace, upper case, blank lines and `;` as
    the separator; emails are lower-cased. Columns are found by header name (one naming a
    manager, one an email/person), else the first two are taken. Rows that are not an email
    and an email-or-nothing are reported by line number in `bad_lines`, never dropped silently.
    Raises UsageError when the file is not text, has no rows, or has more than MAX_ROWS.
    """
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise UsageError(f"That file isn't a UTF-8 text file. {FORMAT_HELP}") from None
    else:
        text = data.removeprefix("\ufeff")
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(
            text[:4096], delimiters=",;\t"
        )
    except csv.Error:
        dialect = csv.excel
    rows = list(csv.reader(io.StringIO(text), dialect))
    numbered = [(n, row) for n, row in enumerate(rows, start=1) if any(c.strip() for c in row)]
    if len(numbered) < 2:
        raise UsageError(f"That file has no rows below its header. {FORMAT_HELP}")
    if len(numbered) - 1 > MAX_ROWS:
        raise UsageError(f"That file has more than {MAX_ROWS:,} rows; split it up.")
    person_col, manager_col = _columns(numbered[0][1])
    good: list[tuple[str, str]] = []
    bad: list[int] = []
    for line, row in numbered[1:]:
        person = row[person_col].strip().lower() if len(row) > person_col else ""
        manager = row[manager_col].strip().lower() if len(row) > manager_col else ""
        if EMAIL.fullmatch(person) and (not manager or EMAIL.fullmatch(manager)):
            good.append((person, manager))
        else:
            bad.append(line)
    return OrgChartRows(rows=tuple(good), bad_lines=tuple(bad))


def resolve_chart(
    chart: OrgChartRows, user_ids: Mapping[str, str | None]
) -> tuple[list[tuple[str, str]], OrgImportReport]:
    """Turn email rows into (person, manager) Slack user ids using `user_ids` (email -> id,
    None for an email Slack does not know). Rows naming an unknown email are counted and
    their emails listed, not stored; rows without a manager store nothing (nothing to avoid).
    Returns the lines to store (deduplicated, sorted) and the report.
    """
    unknown = sorted({e for e in chart.emails if user_ids.get(e) is None})
    lines: set[tuple[str, str]] = set()
    with_unknown = 0
    for person, manager in chart.rows:
        pid = user_ids.get(person)
        mid = user_ids.get(manager) if manager else None
        if pid is None or (manager and mid is None):
            with_unknown += 1
        elif mid is not None:
            lines.add((pid, mid))
    stored = sorted(lines)
    return stored, OrgImportReport(
        rows=len(chart.rows) + len(chart.bad_lines),
        stored=len(stored),
        people=len({u for line in stored for u in line}),
        unknown_emails=tuple(unknown),
        rows_with_unknown=with_unknown,
        bad_lines=chart.bad_lines,
        cycles=tuple(reporting_cycles(stored)),
    )


def replace_reporting_lines(
    session: Session, *, workspace: Workspace, lines: Iterable[tuple[str, str]], now: datetime
) -> int:
    """Replace every reporting line of the workspace with `lines` ((person, manager) Slack
    ids), atomically: the workspace row is locked first, so concurrent imports serialize and
    the last one wins whole. Returns how many lines are stored."""
    session.execute(select(Workspace.id).where(Workspace.id == workspace.id).with_for_update())
    session.execute(delete(ReportingLine).where(ReportingLine.workspace_id == workspace.id))
    rows = [
        {
            "workspace_id": workspace.id,
            "slack_user_id": person,
            "manager_user_id": manager,
            "imported_at": now,
        }
        for person, manager in sorted(set(lines))
    ]
    if rows:
        session.execute(insert(ReportingLine), rows)
    return len(rows)


def reporting_lines(session: Session, workspace_id: int) -> list[tuple[str, str]]:
    """The workspace's stored (person, manager) lines."""
    return [
        (p, m)
        for p, m in session.execute(
            select(ReportingLine.slack_user_id, ReportingLine.manager_user_id).where(
                ReportingLine.workspace_id == workspace_id
            )
        )
    ]


def reporting_exclusions(
    session: Session, workspace_id: int, *, skip_level: bool
) -> set[tuple[str, str]]:
    """The pairs a reporting-line rule keeps apart: each person and their managers (and,
    with `skip_level`, their managers' managers), from the workspace's imported chart."""
    return reporting_pairs(reporting_lines(session, workspace_id), skip_level=skip_level)


def org_chart_of(session: Session, workspace_id: int, user_id: str) -> dict[str, list[str]]:
    """The person's place in the imported org chart (their own data export): their managers
    and the people who report to them, as Slack ids."""
    rows = session.execute(
        select(ReportingLine.slack_user_id, ReportingLine.manager_user_id).where(
            ReportingLine.workspace_id == workspace_id,
            or_(ReportingLine.slack_user_id == user_id, ReportingLine.manager_user_id == user_id),
        )
    ).all()
    return {
        "managers": sorted(m for p, m in rows if p == user_id),
        "reports": sorted(p for p, m in rows if m == user_id),
    }


def tell_import_result(
    session: Session,
    *,
    workspace_id: int,
    admin_user_id: str,
    key: str,
    now: datetime,
    report: OrgImportReport | None = None,
    failed: str | None = None,
) -> None:
    """Queue the import's outcome to the admin who ran it (only them), once per `key`."""
    notice = OrgImportNotice(failed=failed)
    if report is not None:
        notice = OrgImportNotice(
            rows=report.rows,
            stored=report.stored,
            people=report.people,
            unknown_emails=report.unknown_emails,
            rows_with_unknown=report.rows_with_unknown,
            bad_lines=report.bad_lines,
            cycles=report.cycles,
        )
    enqueue(
        session,
        workspace_id=workspace_id,
        dedupe_key=f"org_import:{key}"[:128],
        recipients=[admin_user_id],
        notice=notice,
        now=now,
    )
