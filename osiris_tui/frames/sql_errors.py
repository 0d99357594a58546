"""Where DuckDB's error points in a SQL condition: shared by the Data tab's filter and breakpoints.

A condition runs inside a wrapping query (`prefix + condition + suffix`), and DuckDB's message quotes
the line with a caret under the place. `condition_error` maps that caret back to an offset into the
condition and takes the wrapper out of the message. Pure text: it imports no DuckDB.
"""

from __future__ import annotations

import re

_CONTEXT = re.compile(r"\n*LINE (\d+): (.*)\n( *)(\^+)\s*$", re.DOTALL)
_KINDS = ("Parser Error: ", "Binder Error: ", "Conversion Error: ", "Catalog Error: ")
_UNKNOWN_COLUMN = re.compile(r'Referenced column "((?:[^"]|"")+)" not found')


def condition_error(message: str, executed: str, prefix: str, condition: str) -> tuple[str, int | None]:
    """(the message as it reads for `condition`, the 0-based offset into it DuckDB points at or None).
    `executed` is the query that ran; `prefix` is what it put before the condition."""
    text, position = message, None
    match = _CONTEXT.search(text)
    if match:
        shown, caret = match.group(2), len(match.group(3)) - len("LINE 1: ")
        offset = 0
        if shown.startswith("..."):  # DuckDB shows a window of a long statement
            shown, caret = shown[3:], caret - 3
            offset = max(executed.find(shown.removesuffix("...")), 0)
        at = offset + caret - (executed.find(prefix) + len(prefix))
        position = min(max(at, 0), len(condition))
        text = text[: match.start()]
    text = text.strip()
    if position is None:  # an unknown column: point at its first mention
        named = _UNKNOWN_COLUMN.search(text)
        found = named and re.search(r"(?<![\w.])\"?" + re.escape(named.group(1)) + r"\"?(?!\w)", condition)
        position = found.start() if found else None
    for kind in _KINDS:
        text = text.removeprefix(kind)
    if position == len(condition):  # what DuckDB quotes there is the wrapper's, not the user's
        text = re.sub(r'at or near "[^"]*"', "at the end of the condition", text)
    return text.replace(executed, condition), position
