"""Describe: one summary per column of a frame (like VisiData's Describe sheet), from its Arrow table.

`describe(table)` returns a `ColumnStats` per column: count (non-null), nulls, distinct (non-null),
min and max (numbers, dates and times, strings, exact: a Decimal stays a Decimal), and mean, median and
stdev (numbers only). A statistic a column's type does not support is None.

Each column is read once or twice, never sorted twice: number-like columns (integers, floats, dates and
times, decimals of up to 18 digits, booleans) are sorted once as numbers (numpy's sort releases the GIL
and is several times faster than hashing) and distinct, mode, min, max and median come from that order;
other columns (text) are dictionary-encoded once and distinct, mode, empty strings, min and max come
from the counts of the codes and the (small) dictionary. A value taken from the sorted numbers is rebuilt
as an Arrow value of the column's type and the median is Arrow's `quantile` of the middle values, so
every result is what Arrow's kernels give over the whole column. Pure data code: the Data tab lays the
result out (`tui/widgets/describe.py`).
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
BINCOUNT_BLOCK = 1 << 20  # codes counted at a time (numpy holds the GIL while it counts)
MODE_TIES = 64  # of a type with no order, the mode is the first of at most this many equally frequent values

_FAILED = (pa.ArrowException, TypeError, ValueError, NotImplementedError, IndexError)


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


def _is_text(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t)


def _has_order(t: pa.DataType) -> bool:
    return _is_numeric(t) or pa.types.is_temporal(t) or _is_text(t) or pa.types.is_boolean(t)


def _scalar(value: pa.Scalar) -> Any:
    return value.as_py() if value.is_valid else None


def _float(value: pa.Scalar) -> float | None:
    v = _scalar(value)
    return None if v is None else float(v)


def _is_short_decimal(t: pa.DataType) -> bool:
    return pa.types.is_decimal(t) and t.bit_width == 128 and t.precision <= 18  # fits the low 8 bytes


def _keys(valid: pa.Array) -> np.ndarray | None:
    """The values of a null-free column as numbers that compare (and sort) as the values do (None: no
    such view of this type)."""
    t = valid.type
    if pa.types.is_integer(t) or pa.types.is_floating(t):
        return valid.to_numpy(zero_copy_only=False)
    if pa.types.is_temporal(t) and t.bit_width in (32, 64):
        width = np.int64 if t.bit_width == 64 else np.int32
        return np.frombuffer(valid.buffers()[1], dtype=width)[valid.offset: valid.offset + len(valid)]
    if _is_short_decimal(t):
        words = np.frombuffer(valid.buffers()[1], dtype=np.int64)
        return words[2 * valid.offset: 2 * (valid.offset + len(valid)): 2]
    if pa.types.is_boolean(t):  # Arrow's cast releases the GIL, a conversion to numpy booleans does not
        return pc.cast(valid, pa.int8()).to_numpy()
    return None


def _from_keys(keys: np.ndarray, t: pa.DataType) -> pa.Array:
    """The values of type `t` whose keys (`_keys`) are `keys`."""
    if pa.types.is_integer(t) or pa.types.is_floating(t):
        return pa.array(keys, t)
    if pa.types.is_boolean(t):
        return pa.array(keys.astype(bool), t)
    if pa.types.is_decimal(t):
        wide = np.empty((len(keys), 2), dtype=np.int64)
        wide[:, 0] = keys
        wide[:, 1] = np.where(keys < 0, -1, 0)  # the high word: the sign
        data = wide
    else:
        data = np.ascontiguousarray(keys)
    return pa.Array.from_buffers(t, len(keys), [None, pa.py_buffer(data)])


def _runs(ordered: np.ndarray) -> tuple[int, int, int]:
    """(distinct, the index in `ordered` of the first longest run of equal values, its length) of
    sorted numbers with no NaN. Only the values that repeat are looked at: for a column of (nearly)
    distinct values this is one comparison pass."""
    n = len(ordered)
    if n == 0:
        return 0, 0, 0
    repeats = np.flatnonzero(ordered[1:] == ordered[:-1])  # i: ordered[i] == ordered[i + 1]
    if not len(repeats):
        return n, 0, 1
    # consecutive positions in `repeats` are one run of equal values
    breaks = np.flatnonzero(np.diff(repeats) != 1)
    firsts = repeats[np.concatenate(([0], breaks + 1))]
    lasts = repeats[np.append(breaks, len(repeats) - 1)]
    lengths = lasts - firsts + 2
    at = int(np.argmax(lengths))  # the first longest run: the smallest of the most frequent values
    return n - len(repeats), int(firsts[at]), int(lengths[at])


def _sorted_stats(valid: pa.Array, keys: np.ndarray) -> dict[str, Any]:
    """Distinct, mode, min, max and median of a null-free number-like column, from one sort of its keys.
    NaNs (sorted last) are one value, which wins a tie for the mode; min, max and median skip them, as
    Arrow does."""
    t = valid.type
    ordered = np.sort(keys)
    nans = 0
    if ordered.dtype.kind == "f" and len(ordered) and np.isnan(ordered[-1]):
        nans = int(np.count_nonzero(np.isnan(ordered)))
        ordered = ordered[: len(ordered) - nans]
    distinct, start, top = _runs(ordered)
    stats: dict[str, Any] = {"distinct": distinct + (1 if nans else 0)}
    n = len(ordered)
    if nans and nans >= top:
        stats["mode"] = None if nans == 1 else float("nan")
    elif top > 1:
        if pa.types.is_floating(t):  # -0.0 and 0.0 are one value: the mode is the first met in the column
            stats["mode"] = valid[int(np.argmax(keys == ordered[start]))].as_py()
        else:
            stats["mode"] = _from_keys(ordered[start: start + 1], t)[0].as_py()
    # where floats have a zero, it may be -0.0 or 0.0 as the sort put them: Arrow's kernels decide then
    signed = pa.types.is_floating(t)
    ends = ordered[[0, n - 1]] if n else ordered
    if n and not (signed and not ends.all()):
        lo_hi = _from_keys(ends, t)
        stats["min"], stats["max"] = lo_hi[0].as_py(), lo_hi[1].as_py()
    middle = ordered[(n - 1) // 2: n // 2 + 1]
    if n and _is_numeric(t) and not (signed and not middle.all()):
        stats["median"] = _float(pc.quantile(_from_keys(middle, t), q=0.5)[0])
    return stats


def _encoded_stats(column: pa.Array) -> dict[str, Any]:
    """Distinct, mode, and for text empty strings, min and max, of a column from its dictionary encoding:
    counts of the codes, and the order of the dictionary (one entry per distinct value)."""
    encoded = pc.dictionary_encode(column)  # NULLs get NULL codes, not a dictionary entry
    dictionary = encoded.dictionary
    codes = encoded.indices
    if codes.null_count:
        codes = pc.drop_null(codes)
    counts = _bincount(codes.to_numpy(zero_copy_only=False), len(dictionary))
    t = column.type
    stats: dict[str, Any] = {"distinct": len(dictionary)}
    if _is_text(t):
        at = pc.index(dictionary, "").as_py()
        stats["empty"] = int(counts[at]) if at >= 0 else 0
    try:
        stats["mode"] = _mode(dictionary, counts)
        if _has_order(t) and len(dictionary):
            lo_hi = pc.min_max(dictionary)
            stats["min"], stats["max"] = _scalar(lo_hi["min"]), _scalar(lo_hi["max"])
    except _FAILED:
        pass
    return stats


def _bincount(codes: np.ndarray, size: int) -> np.ndarray:
    """`np.bincount` a block at a time: it holds the GIL, and the app's other threads (its keys) should
    not wait for ten million codes."""
    block = max(BINCOUNT_BLOCK, size)  # each block adds `size` counts: at most twice the work of one pass
    counts = np.zeros(size, dtype=np.int64)
    for start in range(0, len(codes), block):
        counts += np.bincount(codes[start: start + block], minlength=size)
    return counts


def _mode(dictionary: pa.Array, counts: np.ndarray) -> Any:
    """The most frequent of the dictionary's values (ties: the smallest; None when none repeats)."""
    top = int(counts.max()) if len(counts) else 0
    if top <= 1:
        return None
    tied = np.flatnonzero(counts == top)
    if len(tied) == 1:
        return dictionary[int(tied[0])].as_py()
    if _has_order(dictionary.type):
        return _scalar(pc.min(dictionary.take(pa.array(tied))))
    candidates = dictionary.take(pa.array(tied[:MODE_TIES]))  # in the order first met
    return candidates.take(pc.array_sort_indices(candidates))[0].as_py()


def _keys_type(t: pa.DataType) -> bool:
    """Whether `_keys` has a view of the values of type `t`."""
    return (pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t) or _is_short_decimal(t)
            or (pa.types.is_temporal(t) and t.bit_width in (32, 64)))


def _value_stats(column: pa.ChunkedArray | pa.Array) -> dict[str, Any]:
    """Distinct and mode (and what else comes with them: min, max, median, empty) of a column with at
    least one value."""
    if _keys_type(column.type):
        valid = one_array(pc.drop_null(column) if column.null_count else column)
        keys = _keys(valid)
        if keys is not None:
            return _sorted_stats(valid, keys)
    return _encoded_stats(one_array(column))


def _distinct_and_mode(column: pa.ChunkedArray | pa.Array) -> tuple[int, Any]:
    """The number of distinct non-null values and the most frequent one (ties: the smallest; None
    when no value repeats)."""
    stats = _value_stats(column)
    return stats["distinct"], stats.get("mode")


def describe_column(name: str, column: pa.ChunkedArray | pa.Array, dtype: str | None = None) -> ColumnStats:
    """The summary of one column (a failing statistic is None, never an error)."""
    if pa.types.is_dictionary(column.type):  # a pandas category: its values, not its codes
        column = column.cast(column.type.value_type)
    t = column.type
    nulls = column.null_count
    count = len(column) - nulls
    stats: dict[str, Any] = {"distinct": 0}
    if _is_text(t):
        stats["empty"] = 0
    if count:
        try:
            stats.update(_value_stats(column))
        except _FAILED:
            stats["distinct"] = None
    if count and _has_order(t) and "min" not in stats:
        try:
            lo_hi = pc.min_max(column)
            stats["min"], stats["max"] = _scalar(lo_hi["min"]), _scalar(lo_hi["max"])
        except _FAILED:
            pass
    if count and _is_numeric(t):
        for key, compute in (("mean", lambda c: pc.mean(c)),
                             ("median", lambda c: pc.quantile(c, q=0.5)[0]),
                             ("stdev", lambda c: pc.stddev(c, ddof=1))):
            if key in stats:
                continue
            try:
                stats[key] = _float(compute(column))
            except _FAILED:
                pass
    return ColumnStats(name, dtype or str(t), count, nulls, **stats)


def describe(table: pa.Table, dtypes: Sequence[str] | None = None) -> list[ColumnStats]:
    """One `ColumnStats` per column of `table`; `dtypes` (the pandas dtypes, when known) name the types."""
    names = table.column_names
    types = list(dtypes) if dtypes is not None and len(dtypes) == len(names) else [None] * len(names)
    if table.num_rows * len(names) < PARALLEL_CELLS:
        return [describe_column(name, table.column(i), types[i]) for i, name in enumerate(names)]
    # numpy's sort and Arrow's kernels release the GIL: big frames are described a few columns at a time
    with ThreadPoolExecutor(max_workers=min(4, len(names)), thread_name_prefix="osiris-describe") as pool:
        return list(pool.map(describe_column, names, table.columns, types))
