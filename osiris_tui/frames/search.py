r"""Search: the cells of a view whose displayed text contains a substring or matches a regex.

`search(view, "paid")` looks at every column's text as the table shows it (`frames.text`, which agrees
with `format.plain`), or at one column, and returns the matching cells in display order, row by row
and left to right within a row. NULL cells have no text and never match. Substrings ignore case unless
asked; regexes use RE2 syntax through Arrow (Python's `re` checks them first, so a bad one raises
`re.error`; one RE2 does not support, such as a look-ahead, raises `ValueError`).

A substring that cannot occur in a column's text (letters in a number column) skips the column without
reading it; so does a regex that needs a character the column's text never has (`_12\d9$` needs a `_`).
A substring in a number column (integers, decimals, most floats) is found from the numbers, without
their text (`frames.value_search`). Other columns' text is computed a chunk at a time, so memory stays
bounded by a chunk.
"""

from __future__ import annotations

import importlib
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from osiris_tui.frames import value_search
from osiris_tui.frames.text import array_text
from osiris_tui.frames.view import FrameView

# Python's own regex parser (untyped, private to `re`): only to learn which characters a regex needs
regex_parser: Any = importlib.import_module("re._parser")
CHUNK_ROWS = 1 << 20  # rows cast to text at a time
SAMPLE_BYTES = 1 << 16  # of a string buffer, to learn which bytes of a needle are rare
MAX_BUFFER_HITS = 200_000  # more matches than this in a chunk: Arrow's matcher is the faster way
VALUE_CHUNK_ROWS = 1 << 18  # rows searched from their values at a time (a dozen int64 arrays of this many)
_DIGITS = set("0123456789")
# the characters a column type's text can hold (lower case); None: anything
_ALPHABETS: dict[str, set[str]] = {
    "int": _DIGITS | {"-"},
    "float": _DIGITS | set("-+.einf"),
    "decimal": _DIGITS | set("-+.e"),
    "date": _DIGITS | {"-"},
    "timestamp": _DIGITS | set("-+ :."),
    "bool": set("truefals"),
}


@dataclass(frozen=True)
class Matches:
    """Matching cells: `positions[i]` (display row) and `columns[i]` (column index), row-major."""

    positions: np.ndarray  # display positions (row in the view), int64, ascending, row-major with cols
    columns: np.ndarray  # column index, int32, same length

    def __len__(self) -> int:
        return len(self.positions)

    def _span(self, position: int) -> tuple[int, int]:
        lo = int(np.searchsorted(self.positions, position, side="left"))
        hi = int(np.searchsorted(self.positions, position, side="right"))
        return lo, hi

    def next_after(self, position: int, column: int) -> int | None:
        """The index of the first match after cell (position, column), wrapping to the first."""
        if not len(self):
            return None
        lo, hi = self._span(position)
        i = lo + int(np.searchsorted(self.columns[lo:hi], column, side="right"))
        return i if i < len(self) else 0

    def previous_before(self, position: int, column: int) -> int | None:
        """The index of the last match before cell (position, column), wrapping to the last."""
        if not len(self):
            return None
        lo, hi = self._span(position)
        i = lo + int(np.searchsorted(self.columns[lo:hi], column, side="left")) - 1
        return i if i >= 0 else len(self) - 1


def _alphabet(t: pa.DataType) -> set[str] | None:
    if pa.types.is_dictionary(t):
        t = t.value_type
    if pa.types.is_integer(t):
        return _ALPHABETS["int"]
    if pa.types.is_floating(t):
        return _ALPHABETS["float"]
    if pa.types.is_decimal(t):
        return _ALPHABETS["decimal"]
    if pa.types.is_date(t):
        return _ALPHABETS["date"]
    if pa.types.is_timestamp(t) and t.tz is None:
        return _ALPHABETS["timestamp"]
    if pa.types.is_boolean(t):
        return _ALPHABETS["bool"]
    return None


def _required(items: Any) -> set[str]:
    """The characters every match of a parsed sequence contains (a conservative subset)."""
    found: set[str] = set()
    for op, arg in items:
        if op is regex_parser.LITERAL:
            char = chr(arg)
            if char.isascii():  # a non-ASCII letter may fold to an ASCII one when case is ignored
                found.add(char.lower())
        elif op is regex_parser.SUBPATTERN:
            found |= _required(arg[-1])
        elif op in (regex_parser.MAX_REPEAT, regex_parser.MIN_REPEAT) and arg[0] >= 1:
            found |= _required(arg[2])
    return found


def required_chars(pattern: str) -> set[str]:
    """The characters (lower case) any text a regex matches must hold; empty when unsure."""
    try:
        return _required(regex_parser.parse(pattern))
    except (re.error, RecursionError, TypeError, ValueError):
        return set()


def _check_regex(pattern: str, case_sensitive: bool) -> None:
    re.compile(pattern)  # raises re.error with Python's message and position
    try:
        pc.match_substring_regex(pa.array([""]), pattern, ignore_case=not case_sensitive)
    except pa.ArrowInvalid as exc:
        raise ValueError(f"this regex is not supported (no look-around or back-references): {exc}") from None


def _bytes_mask(text: pa.Array, pattern: str, lower: bool) -> np.ndarray | None:
    """The rows of a string array holding `pattern`, found in its data buffer at once, in place, by
    numpy (where Arrow's matcher walks row by row, and Python's scans hold the GIL); None when that is
    not the faster way: a pattern found too often, or a case-blind search over text that is not ASCII
    (whose lower case may change length)."""
    if not (pa.types.is_string(text.type) or pa.types.is_large_string(text.type)) or not len(text) \
            or not pattern:
        return None
    validity, offsets_buffer, data_buffer = text.buffers()
    width = np.int64 if pa.types.is_large_string(text.type) else np.int32
    offsets = np.frombuffer(offsets_buffer, dtype=width)[text.offset: text.offset + len(text) + 1]
    first, end = int(offsets[0]), int(offsets[-1])
    # read in place (no copy), and in numpy (the GIL released): the buffer's bytes of this slice
    codes = np.frombuffer(data_buffer, dtype=np.uint8)[first:end] if data_buffer is not None else \
        np.zeros(0, dtype=np.uint8)
    if lower and len(codes):
        if int(codes.max()) >= 0x80:
            return None
        codes = codes + ((codes >= 0x41) & (codes <= 0x5A)).view(np.uint8) * np.uint8(0x20)  # A-Z: a-z
    needle = pattern.encode("utf-8")
    # the places the needle's rarest byte (in a sample) is at, narrowed to those its other bytes are
    # at too, rarest first: every match, overlapping ones too (one may straddle two values)
    places = max(len(codes) - len(needle) + 1, 0)
    sample = np.bincount(codes[:SAMPLE_BYTES], minlength=256)
    order = sorted(range(len(needle)), key=lambda j: int(sample[needle[j]]))
    found = np.flatnonzero(codes[order[0]: order[0] + places] == needle[order[0]])
    for j in order[1:]:
        found = found[codes[found + j] == needle[j]]
    if len(found) > MAX_BUFFER_HITS:
        return None
    out = np.zeros(len(text), dtype=bool)
    if len(found):
        starts = found.astype(np.int64) + first
        rows = np.searchsorted(offsets, starts, side="right") - 1
        last = np.searchsorted(offsets, starts + len(needle) - 1, side="right") - 1
        out[rows[rows == last]] = True  # (a match across two values is no match)
    if validity is not None and text.null_count:
        out &= text.is_valid().to_numpy(zero_copy_only=False)
    return out


def _column_mask(column: pa.ChunkedArray, pattern: str, regex: bool, case_sensitive: bool) -> np.ndarray:
    """One bool per row (table order): the row's text matches."""
    out = np.zeros(len(column), dtype=bool)
    lower = False
    if not regex and not case_sensitive:
        # Arrow's case-blind substring search goes through RE2; lower-casing first is twice as fast,
        # and a pattern without letters needs neither
        lower = pattern.lower() != pattern.upper()
        pattern, case_sensitive = pattern.lower(), True

    def match(text: pa.Array) -> np.ndarray:
        if not regex and (fast := _bytes_mask(text, pattern, lower)) is not None:
            return fast
        if lower:
            text = pc.utf8_lower(text)
        if regex:
            hits = pc.match_substring_regex(text, pattern, ignore_case=not case_sensitive)
        else:
            hits = pc.match_substring(text, pattern)
        return hits.fill_null(False).to_numpy(zero_copy_only=False)

    numbers = not regex and value_search.applies(column.type)
    step = VALUE_CHUNK_ROWS if numbers else CHUNK_ROWS
    start = 0
    for chunk in column.chunks:
        for at in range(0, len(chunk), step):
            part = chunk.slice(at, step)
            hits = value_search.number_mask(part, pattern, match) if numbers else match(array_text(part))
            out[start + at: start + at + len(part)] = hits
        start += len(chunk)
    return out


def search(view: FrameView, pattern: str, *, regex: bool = False, column: str | None = None,
           case_sensitive: bool = False) -> Matches:
    """The cells of `view` whose displayed text contains `pattern` (or matches it, with `regex`), in
    display order; all columns, or only `column`."""
    table = view.table
    empty = Matches(np.zeros(0, np.int64), np.zeros(0, np.int32))
    if not pattern:
        return empty
    if regex:
        _check_regex(pattern, case_sensitive)
    if column is None:
        wanted = list(range(table.num_columns))
    else:
        if column not in table.column_names:
            raise KeyError(f"no column {column!r}")
        wanted = [table.column_names.index(column)]
    # the alphabets are lower case: a conservative test either way
    letters = required_chars(pattern) if regex else set(pattern.lower())
    wanted = [i for i in wanted if (a := _alphabet(table.schema.field(i).type)) is None or letters <= a]
    if not wanted or view.num_rows == 0:
        return empty

    def one(i: int) -> np.ndarray:
        return _column_mask(table.column(i), pattern, regex, case_sensitive)

    if len(wanted) > 1 and table.num_rows >= CHUNK_ROWS:
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="osiris-search") as pool:
            masks = list(pool.map(one, wanted))
    else:
        masks = [one(i) for i in wanted]
    order = None if view.indices is None else np.asarray(view.indices)
    width = table.num_columns
    keys = []
    for i, mask in zip(wanted, masks, strict=True):
        shown = mask if order is None else mask[order]
        keys.append(np.flatnonzero(shown).astype(np.int64) * width + i)
    merged = np.sort(np.concatenate(keys)) if len(keys) > 1 else keys[0]
    return Matches(merged // width, (merged % width).astype(np.int32))
