"""Where in a query a database error points: DuckDB's `LINE n:` context with its caret, MySQL's `at line n`."""

from __future__ import annotations

import re
from dataclasses import dataclass

_DUCKDB = re.compile(r"^LINE (\d+): (.*)\n( *)(\^+)", re.MULTILINE)
_MYSQL = re.compile(r"near '.*?' at line (\d+)", re.DOTALL)
_ELLIPSIS = "..."


@dataclass(frozen=True)
class SqlPlace:
    """1-based line, and column and width when known, of the error in the query."""

    line: int
    column: int | None = None
    width: int = 1


def error_place(error: str, query: str) -> SqlPlace | None:
    """The place `error` points at in `query` (None when the message does not say, or not in this query)."""
    lines = query.split("\n")
    m = _DUCKDB.search(error)
    if m:
        line = int(m.group(1))
        if not 1 <= line <= len(lines):
            return None
        shown, caret = m.group(2), len(m.group(3)) - len(f"LINE {line}: ")
        # DuckDB shows a window of a long line, cut with "..." on either side.
        start = 0
        if shown.startswith(_ELLIPSIS):
            shown, caret = shown[len(_ELLIPSIS):], caret - len(_ELLIPSIS)
            found = lines[line - 1].find(shown.removesuffix(_ELLIPSIS))
            start = max(found, 0)
        column = start + caret + 1
        if caret < 0 or column > len(lines[line - 1]) + 1:
            return SqlPlace(line)
        return SqlPlace(line, column, len(m.group(4)))
    m = _MYSQL.search(error)
    if m and 1 <= int(m.group(1)) <= len(lines):
        return SqlPlace(int(m.group(1)))
    return None
