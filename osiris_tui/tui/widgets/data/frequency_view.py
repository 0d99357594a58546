"""The frequency table (`F` on the Data tab): each value of the cursor's column, how often it occurs, its
share of the rows and a bar, most frequent first (NULL is a value of its own). Enter on a value filters
the frame to it; Esc goes back to the rows.

`frames.frequency.frequency` counts (over the view as shown, filtered); this lays its result out: the
bar is drawn with block characters, eighths of a cell, by Arrow kernels over the whole table at once.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from osiris_tui.frames.arrays import one_array

BAR_WIDTH = 24  # cells the most frequent value's bar fills
BLOCKS = ("", "▏", "▎", "▍", "▌", "▋", "▊", "▉")  # one eighth of a cell to seven
FULL = "█"
COUNT_COLUMNS = frozenset({"count"})
FREQUENCY_COLUMNS = ("value", "count", "percent", "bar")


def bars(counts: pa.Array | pa.ChunkedArray, width: int = BAR_WIDTH, top: int | None = None) -> pa.Array:
    """A bar per count, as long against `width` cells as the count is against `top` (the largest)."""
    counts = one_array(counts)
    if len(counts) == 0:
        return pa.array([], pa.string())
    top = (top if top is not None else pc.max(counts).as_py()) or 1
    eighths = pc.cast(pc.round(pc.multiply(pc.divide(pc.cast(counts, pa.float64()), float(top)), width * 8.0)),
                      pa.int64())
    return pc.take(_bar_texts(width), eighths)  # each of the width * 8 + 1 bars made once


def _bar_texts(width: int) -> pa.Array:
    """Every bar up to `width` cells, by its length in eighths."""
    return pa.array([FULL * (e // 8) + BLOCKS[e % 8] for e in range(width * 8 + 1)], pa.string())


def all_once(counted: pa.Table) -> bool:
    """Every value occurs once (an id column): the counts say nothing, the hint says so."""
    counts = counted.column("count")
    return counted.num_rows > 0 and pc.max(counts).as_py() == 1


def _runs(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(the first row of each run of equal counts, each row's run number)."""
    if not len(counts):
        return np.zeros(0, np.intp), np.zeros(0, np.int32)
    starts = np.flatnonzero(np.concatenate(([True], counts[1:] != counts[:-1])))
    lengths = np.diff(np.append(starts, len(counts)))
    return starts, np.repeat(np.arange(len(starts), dtype=np.int32), lengths)


def frequency_table(counted: pa.Table) -> pa.Table:
    """`frames.frequency.frequency`'s (value, count, percent) with a `bar` column; the percent rounded to
    two decimals for reading (the count is exact). Percent and bar depend only on the count, and the
    counts come sorted: they are computed once per run of equal counts and shown through a dictionary
    (10M values each seen once cost one percent and one bar, not ten million)."""
    counts = one_array(counted.column("count"))
    starts, codes = _runs(counts.to_numpy(zero_copy_only=False))
    firsts = pa.array(starts, pa.int64())
    percent = one_array(counted.column("percent")).take(firsts)
    if pa.types.is_floating(percent.type):
        percent = pc.round(percent, 2)
    indices = pa.array(codes, pa.int32())
    return pa.table({
        "value": counted.column("value"),
        "count": counts,
        "percent": pa.DictionaryArray.from_arrays(indices, percent),
        "bar": pa.DictionaryArray.from_arrays(indices, bars(counts.take(firsts), top=pc.max(counts).as_py())),
    })
