"""The frequency table (`F` on the Data tab): each value of the cursor's column, how often it occurs, its
share of the rows and a bar, most frequent first (NULL is a value of its own). Enter on a value filters
the frame to it; Esc goes back to the rows.

`frames.frequency.frequency` counts (over the view as shown, filtered); this lays its result out: the
bar is drawn with block characters, eighths of a cell, by Arrow kernels over the whole table at once.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

BAR_WIDTH = 24  # cells the most frequent value's bar fills
BLOCKS = ("", "▏", "▎", "▍", "▌", "▋", "▊", "▉")  # one eighth of a cell to seven
FULL = "█"
COUNT_COLUMNS = frozenset({"count"})
FREQUENCY_COLUMNS = ("value", "count", "percent", "bar")


def bars(counts: pa.Array | pa.ChunkedArray, width: int = BAR_WIDTH) -> pa.Array:
    """A bar per count, as long against `width` cells as the count is against the largest."""
    counts = counts.combine_chunks() if isinstance(counts, pa.ChunkedArray) else counts
    if len(counts) == 0:
        return pa.array([], pa.string())
    top = pc.max(counts).as_py() or 1
    eighths = pc.cast(pc.round(pc.multiply(pc.divide(pc.cast(counts, pa.float64()), float(top)), width * 8.0)),
                      pa.int64())
    full = pc.divide(eighths, 8)  # integer division of int64
    rest = pc.subtract(eighths, pc.multiply(full, 8))
    whole = pc.binary_repeat(pa.array([FULL] * len(counts), pa.string()), full)
    part = pc.take(pa.array(BLOCKS, pa.string()), rest)
    return pc.binary_join_element_wise(whole, part, "")


def frequency_table(counted: pa.Table) -> pa.Table:
    """`frames.frequency.frequency`'s (value, count, percent) with a `bar` column; the percent rounded to
    two decimals for reading (the count is exact)."""
    percent = counted.column("percent")
    if pa.types.is_floating(percent.type):
        percent = pc.round(percent, 2)
    return pa.table({
        "value": counted.column("value"),
        "count": counted.column("count"),
        "percent": percent,
        "bar": bars(counted.column("count")),
    })
