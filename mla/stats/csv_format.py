"""CSV that spreadsheets open safely: quoting by the `csv` module, formula injection neutralised.

- Quoting is RFC 4180 (`csv.writer`, CRLF line ends): commas, quotes and line breaks inside a value
  stay inside its cell.
- **Formula injection**: text that starts with `=`, `+`, `-` or `@` (or a tab or carriage return,
  which some spreadsheet programs skip before looking for a formula) gets a leading apostrophe, so
  Excel, LibreOffice and Google Sheets show it as text instead of evaluating it (OWASP "CSV
  Injection"). A spreadsheet may open the file with another separator than the comma (`;` in many
  European locales, or a tab), so this is done for every piece of a cell that would begin a cell
  after splitting on `,`, `;` or a tab, spaces and a quote before it included: `T-1;=1+1` is
  written `T-1;'=1+1`. A program reading the file back recovers a value by removing the `'`
  placed before such a character at the start of the cell or after one of those separators.
  Numbers and times are written by us and never touched.
- Times are RFC 3339 in UTC (`2026-11-02T09:00:00Z`); null is empty; a list (several
  counterparty references, say) is one cell with its values joined by `;`, each value escaped
  on its own as above.
"""

import csv
import io
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

LIST_SEPARATOR = ";"
# The start of the text or a separator a spreadsheet may split on, then what it may skip (spaces,
# an opening quote), then a character that starts a formula: the apostrophe goes just before it.
_FORMULA_START = re.compile(r"""(^|[,;\t])([ "]*)(?=[=+\-@\t\r])""")


def neutralise(text: str) -> str:
    """`text` with an apostrophe before every piece a spreadsheet would read as a formula."""
    return _FORMULA_START.sub(r"\1\2'", text)


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
        return LIST_SEPARATOR.join(neutralise(str(item)) for item in value)
    return neutralise(str(value))


def csv_text(rows: Iterable[Sequence[Any]]) -> str:
    """The rows as CSV lines, each value through `cell`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerows([cell(value) for value in row] for row in rows)
    return buffer.getvalue()
