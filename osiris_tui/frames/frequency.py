"""Frequency: how often each value of a column occurs in a view (VisiData's Shift+F sheet).

`frequency(view, "status")` counts the shown rows (the filter applies; the sort does not matter) with
one DuckDB GROUP BY over the Arrow table, where it lies: the filter's condition is the query's WHERE,
so nothing is copied. An integer column whose values span a range not much wider than its rows (ids,
codes, small counts) is counted with `np.bincount` instead, several times faster; an all-distinct one
(an id column) is recognised with a bit per value and needs neither counts nor a sort. NULL is a value of its own.
`value_condition` turns one value back into the SQL condition that selects its rows, so Enter on a
value filters the frame to it.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from osiris_tui.frames.arrays import one_array
from osiris_tui.frames.sql import query
from osiris_tui.frames.view import FrameView

RANGE_FACTOR = 4  # integers spanning at most this many values per row are counted by bincount
CHUNK_ROWS = 1 << 20


def quote_identifier(name: str) -> str:
    """A column name as a DuckDB identifier, double quotes doubled."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _finish(values: pa.Array | pa.ChunkedArray, counts: pa.Array | pa.ChunkedArray, total: int,
            kind: pa.DataType) -> pa.Table:
    if values.type != kind:
        try:
            values = values.cast(kind)
        except (pa.ArrowException, NotImplementedError):
            pass
    counts = counts.cast(pa.int64())
    if isinstance(counts, pa.ChunkedArray):
        counts = one_array(counts)
    # count * 100 / total, as Arrow's multiply and divide would round it, in place
    share = counts.to_numpy(zero_copy_only=False).astype(np.float64)
    share *= 100.0
    share /= float(total or 1)
    percent = pa.array(share)
    return pa.table({"value": values, "count": counts, "percent": percent})


def _sorted(result: pa.Table) -> pa.Table:
    order = pc.sort_indices(result, sort_keys=[("count", "descending", "at_end"),
                                               ("value", "ascending", "at_end")])
    return result.take(order)


def _arrow(column: pa.ChunkedArray, kind: pa.DataType) -> pa.Table:
    """The counts with Arrow's own hash aggregation (types DuckDB does not take)."""
    grouped = pa.table({"value": column}).group_by("value").aggregate([([], "count_all")])
    result = _finish(grouped.column("value"), grouped.column("count_all"), len(column), kind)
    try:
        return _sorted(result)
    except (pa.ArrowException, NotImplementedError):
        return result.take(pc.array_sort_indices(result.column("count"), order="descending"))


def _integer_counts(values: pa.ChunkedArray | pa.Array, total: int, kind: pa.DataType) -> pa.Table | None:
    """The counts of an integer column over its value range, sorted as `frequency` sorts (None: the
    range is too wide). All-distinct values (an id column) are found with one bit per value of the
    range and need no count nor sort; others are counted with `np.bincount`."""
    values = one_array(values)
    nulls = values.null_count
    valid = pc.drop_null(values) if nulls else values
    if len(valid) == 0:
        return None
    lo_hi = pc.min_max(valid)
    lo, hi = lo_hi["min"].as_py(), lo_hi["max"].as_py()
    span = hi - lo + 1
    if span > max(RANGE_FACTOR * len(valid), 1 << 16):
        return None
    keys = valid.to_numpy(zero_copy_only=False)
    start = keys.dtype.type(lo)
    seen = np.zeros(span, dtype=bool)
    for at in range(0, len(keys), CHUNK_ROWS):  # offsets a chunk at a time: bounded memory
        part = keys[at: at + CHUNK_ROWS]
        seen[(part - start) if lo else part] = True
    present = np.flatnonzero(seen)
    del seen
    if len(present) == len(keys):  # each value once: in value order already
        found = np.ones(len(present), dtype=np.int64)
    else:
        counts = np.bincount(((keys - start) if lo else keys).astype(np.intp, copy=False), minlength=span)
        found = counts[present]
        del counts
        # count descending, ties in value order (stable); small counts sort as int16, by radix sort
        key = (-found).astype(np.int16) if found.max() < 2**15 else -found
        order = np.argsort(key, kind="stable")
        present, found = present[order], found[order]
        del key, order
    numbers = present.astype(keys.dtype, copy=False)
    if lo:
        numbers += start
    result_values: pa.Array = pa.array(numbers, type=kind)
    result_counts = pa.array(found, pa.int64())
    if nulls:  # NULL after the values counted as often or more
        at = int(np.searchsorted(-found, -nulls, side="right"))
        result_values = pa.concat_arrays([result_values[:at], pa.array([None], kind), result_values[at:]])
        result_counts = pa.concat_arrays([result_counts[:at], pa.array([nulls], pa.int64()), result_counts[at:]])
    return _finish(result_values, result_counts, total, kind)


def frequency(view: FrameView, column: str) -> pa.Table:
    """value (the column's type), count (int64), percent (float64) for each distinct value of
    `column` among the view's rows, most frequent first, ties by value; NULL is its own row."""
    table = view.table
    if column not in table.column_names:
        raise KeyError(f"no column {column!r}")
    kind = table.schema.field(column).type
    if pa.types.is_integer(kind):
        rows = table.column(column) if view.indices is None else table.column(column).take(view.indices)
        counted = _integer_counts(rows, view.num_rows, kind)
        if counted is not None:
            return counted
    if view.indices is not None and view.where is None:  # rows chosen without a condition
        return _arrow(table.column(column).take(view.indices), kind)
    where = "" if view.where is None else f"WHERE coalesce(CAST(({view.where}) AS BOOLEAN), false)"
    ident = quote_identifier(column)
    sql = (f"SELECT {ident} AS value, count(*) AS count FROM t {where} GROUP BY ALL "
           "ORDER BY count DESC, value ASC NULLS LAST")
    try:
        result = query(table, sql)
    except (duckdb.Error, pa.ArrowException):
        rows = table.column(column) if view.indices is None else table.column(column).take(view.indices)
        return _arrow(rows, kind)
    return _finish(result.column("value"), result.column("count"), view.num_rows, kind)


def _decimal_literal(value: Decimal) -> str:
    _, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    scale = max(-exponent, 0)
    precision = max(len(digits) + max(exponent, 0), scale + 1)
    if precision > 38:
        return quote_literal(format(value, "f"))
    return f"CAST({quote_literal(format(value, 'f'))} AS DECIMAL({precision}, {scale}))"


def _timestamp_literal(value: dt.datetime) -> str:
    nanos = value.nanosecond if isinstance(value, pd.Timestamp) else 0
    if value.tzinfo is not None:
        text = value.isoformat(sep=" ")
        return f"CAST({quote_literal(text)} AS TIMESTAMPTZ)"
    if nanos:
        return f"CAST({quote_literal(value.isoformat(sep=' '))} AS TIMESTAMP_NS)"
    return f"CAST({quote_literal(value.isoformat(sep=' '))} AS TIMESTAMP)"


def literal(value: Any) -> str:
    """`value` as an exact DuckDB literal."""
    if isinstance(value, str):
        return quote_literal(value)
    if isinstance(value, bool | np.bool_):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        number = float(value)
        if math.isinf(number):
            return "CAST('inf' AS DOUBLE)" if number > 0 else "CAST('-inf' AS DOUBLE)"
        return f"CAST({quote_literal(repr(number))} AS DOUBLE)"
    if isinstance(value, Decimal):
        return _decimal_literal(value)
    if isinstance(value, np.datetime64):
        value = pd.Timestamp(value)
    if isinstance(value, dt.datetime):
        return _timestamp_literal(value)
    if isinstance(value, dt.date):
        return f"DATE {quote_literal(value.isoformat())}"
    if isinstance(value, dt.time):
        return f"TIME {quote_literal(value.isoformat())}"
    if isinstance(value, pd.Timedelta | dt.timedelta):
        micros = pd.Timedelta(value).value // 1000
        return f"to_microseconds({micros})"
    if isinstance(value, bytes | bytearray | memoryview):
        return "from_hex(" + quote_literal(bytes(value).hex()) + ")"
    return quote_literal(str(value))


def value_condition(column: str, value: Any) -> str:
    """The SQL condition selecting the rows where `column` equals `value` (`IS NULL` for NULL)."""
    ident = quote_identifier(column)
    if value is None or value is pd.NA or value is pd.NaT:
        return f"{ident} IS NULL"
    if isinstance(value, float | np.floating) and math.isnan(value):
        return f"isnan({ident})"
    if isinstance(value, Decimal) and value.is_nan():
        return f"{ident} IS NULL"
    return f"{ident} = {literal(value)}"
