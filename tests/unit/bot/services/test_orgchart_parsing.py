"""Reading an org-chart CSV: forgiving about its form, never silent about what it skips."""

from __future__ import annotations

import pytest

from bot.errors import UsageError
from bot.services.orgchart import parse_org_chart, resolve_chart


def test_bom_whitespace_case_and_blank_lines_are_tolerated():
    data = (
        "\ufeffEmployee Email , Manager Email\r\n"
        " Ana@Example.com ,BOSS@example.com \r\n"
        "\r\n"
        "boss@example.com,\r\n"
    ).encode()
    chart = parse_org_chart(data)
    assert chart.rows == (("ana@example.com", "boss@example.com"), ("boss@example.com", ""))
    assert chart.bad_lines == ()


def test_columns_are_found_by_name_and_semicolons_work():
    chart = parse_org_chart("manager;name;email\nb@x.io;Ana;a@x.io\n")
    assert chart.rows == (("a@x.io", "b@x.io"),)


def test_rows_that_are_not_two_emails_are_reported_by_line():
    chart = parse_org_chart("person,manager\na@x.io,b@x.io\nnot an email,b@x.io\nc@x.io\n")
    assert chart.rows == (("a@x.io", "b@x.io"), ("c@x.io", ""))
    assert chart.bad_lines == (3,)


@pytest.mark.parametrize("data", [b"", b"person,manager\n", b"\xff\xfe\x00bad"])
def test_a_file_without_rows_or_not_text_is_refused_plainly(data):
    with pytest.raises(UsageError):
        parse_org_chart(data)


def test_unknown_emails_and_their_rows_are_counted_never_dropped_silently():
    chart = parse_org_chart(
        "person,manager\na@x.io,b@x.io\nc@x.io,ghost@x.io\nghost@x.io,b@x.io\nb@x.io,\n"
    )
    ids = {"a@x.io": "UA", "b@x.io": "UB", "c@x.io": "UC", "ghost@x.io": None}
    lines, report = resolve_chart(chart, ids)
    assert lines == [("UA", "UB")]
    assert report.unknown_emails == ("ghost@x.io",)
    assert report.rows_with_unknown == 2
    assert (report.rows, report.stored, report.people) == (4, 1, 2)
