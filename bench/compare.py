"""The figures of a run beside those of the run before it, read from the two results files.

`bench.run` adds this section by itself when it rewrites bench/RESULTS.md over an earlier one;
`uv run python -m bench.compare PREVIOUS.md` adds it to the current file by hand (e.g. against a
version from git: `git show REV:bench/RESULTS.md > /tmp/previous.md`).
"""

import re
import sys
from pathlib import Path

from bench.report import RESULTS

HEADING = "## Against the previous run"
_WRITTEN = re.compile(r"on (\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC)")
# Columns of the Figures table: measurement, connections, throughput, p50, p99, errors, API CPU per request.
_LOAD_COLUMNS = {"throughput": 2, "p99": 4, "cpu": 6}
# Columns of the deadline-scan table: case, find and decide, ..., whole job with the relay.
_SCAN_COLUMNS = {"decide": 1, "whole": 6}


def comparison(previous: str, current: str) -> list[str]:
    """The section comparing `current` with `previous` (both results files' text); empty if the
    previous file has no figures table."""
    before, now = _load_rows(previous), _load_rows(current)
    if not before:
        return []
    lines = [
        HEADING,
        "",
        f"Previous figures: the run written {_written(previous)}. A dash: no such line then.",
        "",
        "| measurement | connections | throughput (/s) before → now | p99 (ms) before → now "
        "| API CPU per request (ms) before → now |",
        "|---|---:|---:|---:|---:|",
    ]
    for key, cells in now.items():
        old = before.get(key)
        changes = (_change(old, cells, column) for column in _LOAD_COLUMNS.values())
        lines.append(f"| {key[0]} | {key[1]} | " + " | ".join(changes) + " |")
    lines += _scan_lines(_scan_rows(previous), _scan_rows(current))
    return [*lines, ""]


def _scan_lines(before: dict[str, list[str]], now: dict[str, list[str]]) -> list[str]:
    if not now:
        return []
    lines = ["", "| deadline scan | find and decide before → now | whole job before → now |", "|---|---:|---:|"]
    for case, cells in now.items():
        old = before.get(case)
        changes = (_change(old, cells, column) for column in _SCAN_COLUMNS.values())
        lines.append(f"| {case} | " + " | ".join(changes) + " |")
    return lines


def _change(old: list[str] | None, new: list[str], column: int) -> str:
    return f"{'—' if old is None else old[column]} → {new[column]}"


def _written(text: str) -> str:
    found = _WRITTEN.search(text)
    return found.group(1) if found else "at an unknown time"


def _load_rows(text: str) -> dict[tuple[str, str], list[str]]:
    # A flood line's name ends with what the flood got, which changes with every run.
    return {(cells[0].split("; the flood got")[0], cells[1]): cells for cells in _table_under(text, "## Figures")}


def _scan_rows(text: str) -> dict[str, list[str]]:
    # "10,000 due among 993,320 scheduled": the count scheduled changes with every seed.
    return {cells[0].split(" among ")[0]: cells for cells in _table_under(text, "### Deadline scan")}


def _table_under(text: str, heading: str) -> list[list[str]]:
    """The data rows of the first table after `heading`, as stripped cells."""
    _, found, after = text.partition(heading + "\n")
    if not found:
        return []
    rows = []
    for line in after.splitlines():
        if rows and not line.startswith("|"):
            break
        if line.startswith("|") and not line.startswith("|---"):
            rows.append([cell.strip() for cell in line.strip().strip("|").split(" | ")])
    return rows[1:]  # without the header


def with_comparison(current: str, previous: str) -> str:
    """`current` with the comparison section put before its aims (replacing one it already has)."""
    section = comparison(previous, current)
    if not section:
        return current
    body, _, rest = current.partition(HEADING)
    if rest:  # drop the old section: it runs to the next heading
        rest = rest[rest.index("\n## ") + 1 :] if "\n## " in rest else ""
        current = body + rest
    head, aims, tail = current.partition("## Against the aims")
    return head + "\n".join(section) + "\n" + aims + tail


def add_to(path: Path, previous: str) -> None:
    """Put the comparison with `previous` into the results file at `path`."""
    path.write_text(with_comparison(path.read_text(), previous))


def main(argv: list[str]) -> None:
    if len(argv) != 1:
        sys.exit(__doc__)
    add_to(RESULTS, Path(argv[0]).read_text())


if __name__ == "__main__":
    main(sys.argv[1:])
