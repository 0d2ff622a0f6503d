"""CSV cells: formula injection neutralised, quoting by the csv module, our own values untouched."""

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from mla.stats.csv_format import cell, csv_text


@pytest.mark.parametrize("text", ["=1+1", "+1", "-2+3", "@SUM(A1:A2)", "\r=1", '=HYPERLINK("http://evil.example")'])
def test_text_a_spreadsheet_would_evaluate_gets_a_leading_apostrophe(text: str) -> None:
    assert cell(text) == "'" + text


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("T-1;=1+1", "T-1;'=1+1"),
        ("T-1,@SUM(A1)", "T-1,'@SUM(A1)"),
        ("T-1\t+1", "T-1\t'+1"),
        ("\t=1", "'\t'=1"),  # a tab both starts a formula and splits a cell
        ("a; =1", "a; '=1"),  # spaces a spreadsheet may trim
        ('a;"=1"', 'a;"\'=1"'),  # a quote it may strip
        ("a;;-1", "a;;'-1"),
    ],
)
def test_every_piece_that_would_start_a_cell_after_splitting_on_comma_semicolon_or_tab_is_escaped(
    text: str, written: str
) -> None:
    assert cell(text) == written


def test_no_piece_of_an_escaped_cell_starts_a_formula_whatever_the_separator() -> None:
    hostile = 'ok,=1;+2\t-3, @4;"=5'

    for separator in (",", ";", "\t"):
        for piece in cell(hostile).split(separator):
            assert not piece.lstrip(' "').startswith(("=", "+", "-", "@")), (separator, piece)


def test_several_references_are_escaped_each_on_its_own() -> None:
    assert cell(["T-1", "=1+1", "@x"]) == "T-1;'=1+1;'@x"


@pytest.mark.parametrize("text", ["MLA-2026-000123", "a=b", "Provider, Inc.", "", "'quoted'"])
def test_other_text_is_left_as_it_is(text: str) -> None:
    assert cell(text) == text


def test_numbers_times_lists_and_nulls_are_written_by_us() -> None:
    berlin = timezone(timedelta(hours=1))

    assert cell(-1) == "-1" and cell(2.5) == "2.5" and cell(Decimal("0.25")) == "0.25"
    assert cell(None) == ""
    assert cell(datetime(2026, 11, 2, 10, 0, tzinfo=berlin)) == "2026-11-02T09:00:00Z"
    assert cell(["T-1", "T-2"]) == "T-1;T-2"
    assert cell(["=1+1", "T-2"]) == "'=1+1;T-2"
    assert cell(uuid.UUID(int=0)) == "00000000-0000-0000-0000-000000000000"


def test_the_csv_module_quotes_separators_quotes_and_line_breaks() -> None:
    rows = [("a,b", 'say "hi"', "two\nlines", "-x"), (1, None, datetime(2026, 1, 1, tzinfo=UTC), "ok")]

    parsed = list(csv.reader(io.StringIO(csv_text(rows), newline="")))

    assert parsed == [["a,b", 'say "hi"', "two\nlines", "'-x"], ["1", "", "2026-01-01T00:00:00Z", "ok"]]
