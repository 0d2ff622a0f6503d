"""CSV cells: formula injection neutralised, quoting by the csv module, our own values untouched."""

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from mla.stats.csv_format import cell, csv_text


@pytest.mark.parametrize(
    "text", ["=1+1", "+1", "-2+3", "@SUM(A1:A2)", "\t=1", "\r=1", '=HYPERLINK("http://evil.example")']
)
def test_text_a_spreadsheet_would_evaluate_gets_a_leading_apostrophe(text: str) -> None:
    assert cell(text) == "'" + text


@pytest.mark.parametrize("text", ["MLA-2026-000123", "a=b", "Provider, Inc.", "", "'quoted'"])
def test_other_text_is_left_as_it_is(text: str) -> None:
    assert cell(text) == text


def test_numbers_times_lists_and_nulls_are_written_by_us() -> None:
    berlin = timezone(timedelta(hours=1))

    assert cell(-1) == "-1" and cell(2.5) == "2.5" and cell(Decimal("0.25")) == "0.25"
    assert cell(None) == ""
    assert cell(datetime(2026, 11, 2, 10, 0, tzinfo=berlin)) == "2026-11-02T09:00:00Z"
    assert cell(["T-1", "T-2"]) == "T-1;T-2"
    assert cell(["=1+1", "T-2"]) == "'=1+1;T-2"  # the cell starts with the first reference
    assert cell(uuid.UUID(int=0)) == "00000000-0000-0000-0000-000000000000"


def test_the_csv_module_quotes_separators_quotes_and_line_breaks() -> None:
    rows = [("a,b", 'say "hi"', "two\nlines", "-x"), (1, None, datetime(2026, 1, 1, tzinfo=UTC), "ok")]

    parsed = list(csv.reader(io.StringIO(csv_text(rows), newline="")))

    assert parsed == [["a,b", 'say "hi"', "two\nlines", "'-x"], ["1", "", "2026-01-01T00:00:00Z", "ok"]]
