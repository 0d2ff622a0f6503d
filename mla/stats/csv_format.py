"""CSV that spreadsheets open safely: quoting by the `csv` module, formula injection neutralised.

- Quoting is RFC 4180 (`csv.writer`, CRLF line ends): commas, quotes and line breaks inside a value
  stay inside its cell.
- **Formula injection**: a text cell starting with `=`, `+`, `-` or `@` (or a tab or carriage
  return, which some spreadsheet programs skip before looking for a formula) gets a leading
  apostrophe, so Excel, LibreOffice and Google Sheets show it as text instead of evaluating it
  (OWASP "CSV Injection"). A program reading the file back recovers the value by removing one
  leading `'` before such a character. Numbers and times are written by us and never touched.
- Times are RFC 3339 in UTC (`2026-11-02T09:00:00Z`); lists are joined by `;`; null is empty.
"""

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
LIST_SEPARATOR = ";"


def neutralise(text: str) -> str:
    """`text` with a leading apostrophe if a spreadsheet would read it as a formula."""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def cell(value: Any) -> str:
    """One value as the text of its cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, list | tuple):
        return neutralise(LIST_SEPARATOR.join(str(item) for item in value))
    return neutralise(str(value))


def csv_text(rows: Iterable[Sequence[Any]]) -> str:
    """The rows as CSV lines, each value through `cell`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerows([cell(value) for value in row] for row in rows)
    return buffer.getvalue()
