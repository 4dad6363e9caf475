"""The org chart an admin imports: parsed rows and what an import did."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OrgChartRows:
    """A parsed org-chart CSV: (person email, manager email) rows, emails lower-cased.

    A row with an empty manager (the top of the chart) has manager "". `bad_lines` are the
    line numbers (1 = the header) of rows that are not two email addresses.
    """

    rows: tuple[tuple[str, str], ...]
    bad_lines: tuple[int, ...] = ()

    @property
    def emails(self) -> set[str]:
        """Every email the chart mentions."""
        return {e for row in self.rows for e in row if e}


@dataclass(frozen=True)
class OrgImportReport:
    """What an import stored and what it could not: told to the admin who ran it, only.

    Counts are rows of the file; `unknown_emails` are the addresses Slack knows no one by
    (sorted); `rows_with_unknown` rows name one of them and were not stored; `cycles` are
    loops in the chart as Slack user ids (stored, but worth fixing at the source).
    """

    rows: int
    stored: int
    people: int
    unknown_emails: tuple[str, ...] = ()
    rows_with_unknown: int = 0
    bad_lines: tuple[int, ...] = ()
    cycles: tuple[tuple[str, ...], ...] = ()
