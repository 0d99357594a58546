"""A whole column as the text the table shows (`format.plain`), computed with Arrow kernels.

Search matches what a cell reads as and CSV export writes what it shows, so both need the exact
display text of every value, which calling `format.plain` per value would give at a few hundred
thousand values a second. Here Arrow's casts do the bulk and a few regex rewrites make them agree with
`format`: a float as its repr (`1.0`, `1e-05`, `1e+16`), a timestamp with only the digits it holds
(`2024-01-02 03:04:05`, `…05.123000`, `…05.123456789`, `+01:00`), `True`/`False`. The few values whose
repr Arrow spells differently (floats from 1e10 to 1e16 and below 1e-4) are formatted by Python, and
a type without a fast path, or a column whose head does not agree with `format.plain`, goes through
`format.plain` entirely. NULL (and NaN, which reads as NULL) stays NULL: it has no text to match.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from osiris_tui.frames import format as vf

CHECK_ROWS = 64  # the head of each column checked against format.plain


def _float(column: pa.Array) -> pa.Array:
    text = pc.cast(column, pa.string())
    text = pc.replace_substring_regex(text, r"^(-?\d+)$", r"\1.0")  # 3 -> 3.0, -0 -> -0.0
    text = pc.replace_substring_regex(text, r"e([+-])(\d)$", r"e\1" + "0" + r"\2")  # e-7 -> e-07
    odd = pc.match_substring_regex(text, r"e\+1[0-5]$|^-?0\.0000")  # Python writes these otherwise
    if pc.any(odd).as_py():
        where = pc.indices_nonzero(odd)
        fixed = pa.array([float.__repr__(v) for v in column.take(where).to_pylist()], pa.string())
        text = pc.replace_with_mask(text, odd, fixed)
    return pc.if_else(pc.is_nan(column), pa.scalar(None, pa.string()), text)


def _timestamp(column: pa.Array) -> pa.Array:
    t = column.type
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
