"""Describe: one summary per column of a frame (like VisiData's Describe sheet), from its Arrow table.

`describe(table)` returns a `ColumnStats` per column: count (non-null), nulls, distinct (non-null),
min and max (numbers, dates and times, strings, exact: a Decimal stays a Decimal), and mean, median and
stdev (numbers only). Everything is computed with `pyarrow.compute` kernels over the Arrow table the
Data tab already has, so a million-row frame takes a fraction of a second; a statistic a column's type
does not support is None. Pure data code: the Data tab lays the result out (`tui/widgets/describe.py`).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from osiris_tui.frames.arrays import one_array

PARALLEL_CELLS = 1_000_000  # from this many values on, columns are described in parallel
MODE_TIES = 64  # the mode is the smallest of at most this many equally frequent values


@dataclass(frozen=True)
class ColumnStats:
    name: str
    dtype: str
    count: int  # non-null values
    nulls: int
    distinct: int | None  # distinct non-null values
    min: Any = None
    max: Any = None
    mean: float | None = None
    median: float | None = None
    stdev: float | None = None  # sample standard deviation (ddof=1, as pandas)
    mode: Any = None  # the most frequent non-null value (ties: the smallest), exact; None if none repeats
    empty: int | None = None  # empty strings (text columns only)


def _is_numeric(t: pa.DataType) -> bool:
    return pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t)


def _has_order(t: pa.DataType) -> bool:
    return (_is_numeric(t) or pa.types.is_temporal(t) or pa.types.is_string(t)
            or pa.types.is_large_string(t) or pa.types.is_boolean(t))


def _scalar(value: pa.Scalar) -> Any:
    return value.as_py() if value.is_valid else None


def _float(value: pa.Scalar) -> float | None:
    v = _scalar(value)
    return None if v is None else float(v)


def _keys(valid: pa.Array) -> np.ndarray | None:
    """The values of a null-free column as numbers that compare equal exactly when the values do
    (None: no such view of this type)."""
    t = valid.type
    if pa.types.is_integer(t) or pa.types.is_floating(t):
        return valid.to_numpy(zero_copy_only=False)
    if pa.types.is_temporal(t) and valid.type.bit_width in (32, 64):
        width = np.int64 if t.bit_width == 64 else np.int32
        return np.frombuffer(valid.buffers()[1], dtype=width)[valid.offset: valid.offset + len(valid)]
    if pa.types.is_decimal(t) and t.bit_width == 128 and t.precision <= 18:  # fits the low 8 bytes
        words = np.frombuffer(valid.buffers()[1], dtype=np.int64)
        return words[2 * valid.offset: 2 * (valid.offset + len(valid)): 2]
    if pa.types.is_boolean(t):
        return valid.to_numpy(zero_copy_only=False).astype(np.int8)
    return None


def _sorted_distinct_and_mode(keys: np.ndarray) -> tuple[int, Any, int]:
    """(distinct, the key of the mode, its count) of number keys, from one sort (numpy's sort releases
    the GIL and is several times faster than hashing). NaNs are one value, which wins ties as
    `np.argmin` would pick it."""
    ordered = np.sort(keys)
    nans = 0
    if ordered.dtype.kind == "f" and len(ordered) and np.isnan(ordered[-1]):  # sorted last
        nans = int(np.count_nonzero(np.isnan(ordered)))
        ordered = ordered[: len(ordered) - nans]
    top, best, distinct = 0, None, 0
    if len(ordered):
        starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
        runs = np.diff(np.append(starts, len(ordered)))
        at = int(np.argmax(runs))  # the first longest run: the smallest of the most frequent
        top, best, distinct = int(runs[at]), ordered[starts[at]], len(starts)
    if nans:
        distinct += 1
        if nans >= top:
            top, best = nans, np.nan
    return distinct, best, top


def _distinct_and_mode(column: pa.ChunkedArray | pa.Array) -> tuple[int, Any]:
    """The number of distinct non-null values and the most frequent one (ties: the smallest; None
    when no value repeats): number-like values from a sort of their keys, others from Arrow's
    dictionary encoding."""
    valid = pc.drop_null(column)
    if isinstance(valid, pa.ChunkedArray):
        valid = one_array(valid)
    keys = _keys(valid)
    if keys is not None:
        if pa.types.is_floating(valid.type):
            keys = np.where(keys == 0, 0.0, keys)  # -0.0 and 0.0 are one value
        distinct, best, top = _sorted_distinct_and_mode(keys)
        if top <= 1:
            return distinct, None
        at = np.isnan(keys) if isinstance(best, float) and np.isnan(best) else keys == best
        return distinct, valid[int(np.argmax(at))].as_py()
    encoded = pc.dictionary_encode(valid)
    codes = encoded.indices.to_numpy(zero_copy_only=False)
    counts = np.bincount(codes)
    top = int(counts.max())
    if top == 1:
        return len(counts), None
    tied = np.flatnonzero(counts == top)
    first = [int(np.argmax(codes == code)) for code in tied[:MODE_TIES]]
    candidates = valid.take(pa.array(first, pa.int64()))
    if len(first) > 1:
        candidates = candidates.take(pc.array_sort_indices(candidates))
    return len(counts), candidates[0].as_py()


def describe_column(name: str, column: pa.ChunkedArray | pa.Array, dtype: str | None = None) -> ColumnStats:
    """The summary of one column (a failing statistic is None, never an error)."""
    if pa.types.is_dictionary(column.type):  # a pandas category: its values, not its codes
        column = column.cast(column.type.value_type)
    t = column.type
    nulls = column.null_count
    count = len(column) - nulls
    stats: dict[str, Any] = {}
    if count:
        try:
            stats["distinct"], stats["mode"] = _distinct_and_mode(column)
        except (pa.ArrowException, TypeError, ValueError, NotImplementedError):
            stats["distinct"] = None
    else:
        stats["distinct"] = 0
    if count and _has_order(t):
        try:
            lo_hi = pc.min_max(column)
            stats["min"], stats["max"] = _scalar(lo_hi["min"]), _scalar(lo_hi["max"])
        except (pa.ArrowException, TypeError):
            pass
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        stats["empty"] = int(pc.sum(pc.equal(column, "")).as_py() or 0) if count else 0
    if count and _is_numeric(t):
        for key, compute in (("mean", lambda c: pc.mean(c)),
                             ("median", lambda c: pc.quantile(c, q=0.5)[0]),
                             ("stdev", lambda c: pc.stddev(c, ddof=1))):
            try:
                stats[key] = _float(compute(column))
            except (pa.ArrowException, TypeError, IndexError):
                pass
    return ColumnStats(name, dtype or str(t), count, nulls, **stats)


def describe(table: pa.Table, dtypes: Sequence[str] | None = None) -> list[ColumnStats]:
    """One `ColumnStats` per column of `table`; `dtypes` (the pandas dtypes, when known) name the types."""
    names = table.column_names
    types = list(dtypes) if dtypes is not None and len(dtypes) == len(names) else [None] * len(names)
    if table.num_rows * len(names) < PARALLEL_CELLS:
        return [describe_column(name, table.column(i), types[i]) for i, name in enumerate(names)]
    # Arrow's kernels release the GIL: big frames are described a few columns at a time
    with ThreadPoolExecutor(max_workers=min(4, len(names)), thread_name_prefix="osiris-describe") as pool:
        return list(pool.map(describe_column, names, table.columns, types))
