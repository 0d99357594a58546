"""A whole column as the text the table shows (`format.plain`), computed with Arrow kernels.

Search matches what a cell reads as and CSV export writes what it shows, so both need the exact
display text of every value, which calling `format.plain` per value would give at a few hundred
thousand values a second. Here Arrow's casts do the bulk and a few regex rewrites make them agree with
`format`: a float as its repr (`1.0`, `1e-05`, `1e+16`; DuckDB's cast writes exactly that), a
timestamp with only the digits it holds (`2024-01-02 03:04:05`, `…05.123000`, `…05.123456789`,
`+01:00`), `True`/`False`. A type without a fast path, or a column whose head does not agree with
`format.plain`, goes through `format.plain` entirely. NULL (and NaN, which reads as NULL) stays NULL:
it has no text to match.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from osiris_tui.frames import format as vf
from osiris_tui.frames.sql import query

CHECK_ROWS = 64  # the head of each column checked against format.plain


def _float(column: pa.Array) -> pa.Array:
    # DuckDB writes a double exactly as Python's repr does (checked over a million values of every
    # magnitude, subnormals and ±0 included) and does it in parallel, several times faster than
    # Arrow's cast plus the rewrites that would make Arrow's text agree.
    text = query(pa.table({"x": column}), "SELECT CAST(x AS VARCHAR) AS text FROM t").column("text")
    text = text.combine_chunks() if text.num_chunks != 1 else text.chunk(0)
    return pc.if_else(pc.is_nan(column), pa.scalar(None, pa.string()), text)


# Timezone-naive timestamps with only the digits they hold, written by DuckDB in parallel (the same
# text as the Arrow path below, several times faster).
_NAIVE = {
    "us": "SELECT CASE WHEN epoch_us(x) % 1000000 = 0 THEN strftime(x, '%Y-%m-%d %H:%M:%S') "
          "ELSE strftime(x, '%Y-%m-%d %H:%M:%S.%f') END AS text FROM t",
    "ns": "SELECT CASE WHEN epoch_ns(x) % 1000000000 = 0 THEN strftime(x, '%Y-%m-%d %H:%M:%S') "
          "WHEN epoch_ns(x) % 1000 = 0 THEN strftime(x, '%Y-%m-%d %H:%M:%S.%f') "
          "ELSE strftime(x, '%Y-%m-%d %H:%M:%S.%n') END AS text FROM t",
}


def _timestamp(column: pa.Array) -> pa.Array:
    t = column.type
    if t.tz is None and t.unit in _NAIVE:
        text = query(pa.table({"x": column}), _NAIVE[t.unit]).column("text")
        return text.combine_chunks() if text.num_chunks != 1 else text.chunk(0)
    if t.unit in ("s", "ms"):
        column = column.cast(pa.timestamp("us", t.tz))
    text = pc.cast(column, pa.string())
    if t.unit == "ns":
        text = pc.replace_substring_regex(text, r"\.000000000(\D|$)", r"\1")
        text = pc.replace_substring_regex(text, r"(\.\d{6})000(\D|$)", r"\1\2")
    else:
        text = pc.replace_substring_regex(text, r"\.000000(\D|$)", r"\1")
    if t.tz is not None:
        text = pc.replace_substring_regex(text, r"([+-]\d\d)(\d\d)$", r"\1:\2")
        text = pc.replace_substring_regex(text, r"Z$", "+00:00")
    return text


def _fast(column: pa.Array) -> pa.Array | None:
    t = column.type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return column
    if pa.types.is_string_view(t):
        return column.cast(pa.large_string())
    if pa.types.is_integer(t) or pa.types.is_decimal(t) or pa.types.is_date(t):
        return pc.cast(column, pa.string())
    if pa.types.is_boolean(t):
        return pc.if_else(column, "True", "False")
    if pa.types.is_floating(t):
        return _float(column)
    if pa.types.is_timestamp(t):
        return _timestamp(column)
    return None


def _slow(column: pa.Array) -> pa.Array:
    return pa.array([None if vf.is_null(v) else vf.plain(v) for v in vf.values(column)], pa.string())


def _agrees(column: pa.Array, text: pa.Array) -> bool:
    head = min(len(column), CHECK_ROWS)
    want = [None if vf.is_null(v) else vf.plain(v) for v in vf.values(column, 0, head)]
    return want == text.slice(0, head).to_pylist()


def array_text(column: pa.Array) -> pa.Array:
    """The display text of each value of `column` (an Array), NULL for NULL."""
    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    try:
        text = _fast(column)
    except (pa.ArrowException, NotImplementedError):
        text = None
    if text is not None and (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)
                             or _agrees(column, text)):
        return text
    return _slow(column)


def column_text(column: pa.Array | pa.ChunkedArray) -> pa.ChunkedArray:
    """`array_text` of each chunk of `column`."""
    if isinstance(column, pa.Array):
        column = pa.chunked_array([column])
    chunks = [array_text(chunk) for chunk in column.chunks]
    if not chunks:
        return pa.chunked_array([], pa.string())
    kind = chunks[0].type
    return pa.chunked_array([c if c.type == kind else c.cast(kind) for c in chunks], kind)
