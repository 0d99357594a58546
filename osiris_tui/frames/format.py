"""The one place a data value becomes text on screen: table cells, the row view, Describe, copies.

What a value reads as:

- float: its shortest round-trip form, as `repr` and pandas print it: `10038.96`, `1234567.891`,
  `1.2345e-05`, `inf`, `-0.0`. A float32 in its own shortest form (`0.1`, not `0.10000000149011612`).
- int (any size) and Decimal: exact, `9876543210`, `123456789012345678901234567.891`.
- timestamp: every digit it holds (microseconds, nanoseconds) and its timezone,
  `2024-01-02 03:04:05.123456789+01:00`; a date `2024-01-02`; a time `03:04:05.000001`.
- timedelta: as pandas prints one, `1 days 02:03:04.000005`.
- bytes: their repr, `b'\\x00ab'`; bool: `True` / `False`.
- list, struct (dict), map entry (tuple): `[1, 2, null]`, `{"a": 1, "b": "x"}`; strings inside are
  quoted and a null inside is `null`.
- NULL (None, NaN, NaT, pd.NA, a Decimal NaN): the marker `∅` (`NULL_MARK`), dim when styled. A string
  never reads as the marker: the empty string is `""` (dim) and the strings "None" and "nan" read as
  themselves.
- No thousands separators inside values (they would change what a copy pastes as); `count()` and
  `plural()` put them in counts, such as "1,204 rows".

`plain()` is the text for copying, JSON and tooltips; `styled()` the `rich.text.Text` for a cell
(numbers and times right-justified, the null and empty-string marks dim, a line break in a one-line
cell as a dim `⏎`). `styled_cells()` formats a slice of an Arrow column: the table calls it for the
page of rows on screen, never for the whole column, and `measure()` sizes a column from a sample.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any, Literal, TypeAlias

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from rich.text import Text

NULL_MARK = "∅"
NULL_STYLE = "dim"
EMPTY_MARK = '""'
EMPTY_STYLE = "dim"
MARK_STYLE = "dim"  # a line break or tab inside a one-line cell
ELLIPSIS = "…"
SAMPLE_ROWS = 512  # rows measured from the head of a column, and as many spread over the rest

Justify = Literal["left", "right", "center"]
_BREAKS = re.compile(r"(\r\n|\r|\n|\t)")
_MARKS = {"\r\n": "⏎", "\r": "⏎", "\n": "⏎", "\t": "⇥"}


# -- one value ----------------------------------------------------------------------------------------
def is_null(value: Any) -> bool:
    """None, NaN, NaT, pd.NA or a Decimal NaN (never a string, whatever it says)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float | np.floating):
        return bool(value != value)
    if isinstance(value, Decimal):
        return value.is_nan()
    if isinstance(value, np.datetime64 | np.timedelta64):
        return bool(np.isnat(value))
    return False


def plain(value: Any) -> str:
    """The exact text of `value` (NULL is `NULL_MARK`, the empty string is empty)."""
    if isinstance(value, str):
        return value
    if is_null(value):
        return NULL_MARK
    if isinstance(value, bool | np.bool_):
        return "True" if value else "False"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float):
        return float.__repr__(value)  # np.float64 too, without its `np.float64(…)` repr
    if isinstance(value, np.floating):
        return str(value)  # numpy's shortest form for the type's own precision
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, pd.Timestamp):
        return str(value)  # nanoseconds and timezone kept
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, np.datetime64):
        return str(pd.Timestamp(value))
    if isinstance(value, pd.Timedelta | dt.timedelta | np.timedelta64):
        return str(pd.Timedelta(value))
    if isinstance(value, bytes | bytearray | memoryview):
        return repr(bytes(value))
    if isinstance(value, list | tuple | np.ndarray):
        return "[" + ", ".join(_nested(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_nested(k)}: {_nested(v)}" for k, v in value.items()) + "}"
    return str(value)


def _nested(value: Any) -> str:
    """A value inside a list or struct: strings quoted, NULL as `null`."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if is_null(value):
        return "null"
    return plain(value)


def is_number(value: Any) -> bool:
    numeric = isinstance(value, int | float | Decimal | np.integer | np.floating)
    return numeric and not isinstance(value, bool | np.bool_)


def _is_temporal(value: Any) -> bool:
    return isinstance(value, dt.date | dt.time | dt.timedelta | np.datetime64 | np.timedelta64)


def styled(value: Any, *, justify: Justify | None = None, one_line: bool = True, limit: int | None = None,
           thousands: bool = False) -> Text:
    """`value` as a styled `Text` for a cell.

    justify: the column's alignment (by default numbers and times right, the rest left, NULL centred).
    one_line: line breaks and tabs read as dim `⏎` / `⇥` (the row view passes False to show them).
    limit: keep at most this many characters, ending with `…` when cut (cells never need more than
        their column's width; this bounds the cost of a megabyte string).
    thousands: an int with separators (counts in Describe), never a data value.
    """
    if isinstance(value, str):
        if not value:
            return Text(EMPTY_MARK, style=EMPTY_STYLE, justify=justify or "left")
        return _string(value, justify or "left", one_line, limit)
    if is_null(value):
        return Text(NULL_MARK, style=NULL_STYLE, justify=justify or "center")
    if thousands and isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_):
        text = f"{int(value):,}"
    else:
        text = plain(value)
    if justify is None:
        justify = "right" if is_number(value) or _is_temporal(value) else "left"
    if one_line and not is_number(value) and _BREAKS.search(text):
        return _string(text, justify, one_line, limit)
    if limit is not None and len(text) > limit:
        text = text[: max(limit - 1, 0)] + ELLIPSIS
    return Text(text, justify=justify)


def _string(value: str, justify: Justify, one_line: bool, limit: int | None) -> Text:
    cut = limit is not None and len(value) > limit
    if cut and limit is not None:
        value = value[: max(limit - 1, 0)]
    if not one_line or not _BREAKS.search(value):
        text = Text(value, justify=justify)
    else:
        text = Text(justify=justify)
        for part in _BREAKS.split(value):
            if part in _MARKS:
                text.append(_MARKS[part], style=MARK_STYLE)
            elif part:
                text.append(part)
    if cut:
        text.append(ELLIPSIS, style=MARK_STYLE)
    return text


def json_value(value: Any) -> Any:
    """`value` as JSON keeps it exactly: Decimals as strings, timestamps ISO 8601 with every digit,
    NULL as null, a non-finite float as its text."""
    if isinstance(value, str):
        return value
    if is_null(value):
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        if not math.isfinite(value):
            return plain(value)  # JSON has no inf
        return float(value) if isinstance(value, float) else float(plain(value))  # float32: its own digits
    if isinstance(value, pd.Timestamp | dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, np.datetime64):
        return pd.Timestamp(value).isoformat()
    if isinstance(value, list | tuple | np.ndarray):
        return [json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    return plain(value)


def row_json(names: Sequence[str], values: Sequence[Any]) -> str:
    """One row as a JSON object, column order kept (see `json_value`)."""
    return json.dumps({str(n): json_value(v) for n, v in zip(names, values, strict=True)},
                      ensure_ascii=False, indent=2)


def count(n: int) -> str:
    """A count with thousands separators: `1,204`."""
    return f"{n:,}"


def plural(n: int, word: str, many: str | None = None) -> str:
    """`1 row`, `1,204 rows`, `1 column`."""
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


# -- Arrow columns ------------------------------------------------------------------------------------
ArrowColumn: TypeAlias = "pa.Array | pa.ChunkedArray"


def justify_for(dtype: pa.DataType) -> Justify:
    """Numbers and times right, everything else left."""
    if pa.types.is_dictionary(dtype):
        dtype = dtype.value_type
    if (pa.types.is_integer(dtype) or pa.types.is_floating(dtype) or pa.types.is_decimal(dtype)
            or pa.types.is_temporal(dtype)):
        return "right"
    return "left"


def values(column: ArrowColumn, start: int = 0, stop: int | None = None) -> list[Any]:
    """The exact Python values of `column[start:stop]` (nanoseconds kept, float32 as float32)."""
    size = len(column)
    stop = size if stop is None else max(0, min(stop, size))
    start = max(0, min(start, stop))
    part = column.slice(start, stop - start)
    return _python(part)


def _python(part: ArrowColumn) -> list[Any]:
    t = part.type
    if pa.types.is_dictionary(t):
        part = part.cast(t.value_type)
        t = t.value_type
    try:
        if pa.types.is_float32(t) or pa.types.is_float16(t):
            kind = np.float32 if pa.types.is_float32(t) else np.float16
            return [None if v is None else kind(v) for v in part.to_pylist()]
        if pa.types.is_time64(t) and t.unit == "ns":  # Python's time stops at microseconds
            return part.cast(pa.string()).to_pylist()
        return part.to_pylist()
    except (OverflowError, ValueError, pa.ArrowException):  # e.g. a timestamp past what Python holds
        try:
            return part.cast(pa.string()).to_pylist()
        except (pa.ArrowException, NotImplementedError):
            return [str(v) if v.is_valid else None for v in part]


def plain_cells(column: ArrowColumn, start: int = 0, stop: int | None = None) -> list[str]:
    """`plain()` of each value in `column[start:stop]`."""
    return [plain(v) for v in values(column, start, stop)]


def styled_cells(column: ArrowColumn, start: int, stop: int, *, limit: int | None = None,
                 thousands: bool = False, justify: Justify | None = None) -> list[Text]:
    """`styled()` of each value in `column[start:stop]`, one line each, aligned by the column's type.
    Only this slice is converted: call it for the rows on screen, not for the column."""
    align = justify or justify_for(column.type)
    return [styled(v, justify=align, limit=limit, thousands=thousands) for v in values(column, start, stop)]


def sample_rows(size: int, rows: int = SAMPLE_ROWS) -> list[int]:
    """The rows `measure` looks at: the head, and as many again spread evenly over the rest."""
    if size <= 2 * rows:
        return list(range(size))
    step = (size - rows) / rows
    return list(range(rows)) + [rows + int(i * step) for i in range(rows)] + [size - 1]


def date_only(column: ArrowColumn) -> bool:
    """A timezone-naive timestamp column whose every value is a midnight: it shows as dates
    (`2024-01-06`), since pandas has no date type and a DATE column arrives as datetime64."""
    t = column.type
    if not pa.types.is_timestamp(t) or t.tz is not None:
        return False
    valid = pc.drop_null(column)
    return bool(len(valid)) and bool(pc.all(pc.equal(pc.floor_temporal(valid, unit="day"), valid)).as_py())


def measure(column: ArrowColumn, *, limit: int | None = None, thousands: bool = False) -> int:
    """The width, in cells, of the widest formatted value in a sample of `column` (its head, rows spread
    over the rest and, for integers and decimals, its min and max). Used for column widths, so a value wider than its
    column is cut with `…` rather than the whole column being read."""
    size = len(column)
    if size == 0:
        return 0
    rows = sample_rows(size)
    sample = column.slice(0, size) if len(rows) == size else column.take(pa.array(rows, pa.int64()))
    found: list[Any] = _python(sample)
    t = column.type
    if pa.types.is_integer(t) or pa.types.is_decimal(t):  # (a float's extremes say nothing of its width)
        try:
            lo_hi = pc.min_max(column)
            found += _python(pa.array([lo_hi["min"].as_py(), lo_hi["max"].as_py()], t))
        except (pa.ArrowException, OverflowError, TypeError):
            pass
    return _widest(found, limit, thousands)


def _widest(found: Iterable[Any], limit: int | None, thousands: bool) -> int:
    return max((_width(v, limit, thousands) for v in found), default=0)


def _width(value: Any, limit: int | None, thousands: bool) -> int:
    """`styled(value, …).cell_len`, without building the Text for the common case: printable ASCII,
    one cell per character."""
    if isinstance(value, str):
        text = value
    elif value is None:
        return len(NULL_MARK)
    elif thousands or is_null(value):
        return styled(value, limit=limit, thousands=thousands).cell_len
    else:
        text = plain(value)
    if text and text.isascii() and text.isprintable():
        return len(text) if limit is None else min(len(text), limit)
    return styled(value, limit=limit, thousands=thousands).cell_len
