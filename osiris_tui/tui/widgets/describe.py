"""The Describe view's layout (`d` on the Data tab): one row per column of the frame.

The statistics come from `osiris_tui.frames.describe`; this lays them out as an Arrow table for the
Data tab's table widget. Min, max and mode are text made by `frames.format.plain` (a column's values may
be numbers, dates or strings), so they read exactly as the cells of the rows do; mean, median and stdev
are floats, shown by the table in their shortest exact form; count, nulls, empty (empty strings, text
columns only) and distinct are shown with thousands separators (`COUNT_COLUMNS`). Every column of this
table is shown at its content's full width (the view scrolls sideways), so no statistic is cut.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import replace
from typing import Any

import pyarrow as pa

from osiris_tui.frames import format as vf
from osiris_tui.frames.describe import ColumnStats, describe

__all__ = ["COUNT_COLUMNS", "RIGHT_COLUMNS", "STATS_COLUMNS", "describe", "format_value", "stats_table"]

STATS_COLUMNS = ("column", "dtype", "count", "nulls", "empty", "distinct", "min", "max", "mode", "mean", "median",
                 "stdev")
COUNT_COLUMNS = frozenset({"count", "nulls", "empty", "distinct"})  # shown with thousands separators
RIGHT_COLUMNS = frozenset({"min", "max", "mode"})  # text columns of values, aligned like numbers


def format_value(value: Any) -> str | None:
    """A min, max or mode as text, exactly as a cell shows it (None stays None: the table's null mark)."""
    return None if value is None else vf.plain(value)


def _as_dates(stats: ColumnStats) -> ColumnStats:
    def day(value: Any) -> Any:
        return value.date() if isinstance(value, dt.datetime) else value

    return replace(stats, min=day(stats.min), max=day(stats.max), mode=day(stats.mode))


def stats_table(stats: Sequence[ColumnStats], dates: Collection[str] = ()) -> pa.Table:
    """The summaries as an Arrow table, one row per column (min, max and mode as text; in the `dates`
    columns, timestamps that are all midnights, as dates, the way the table shows them)."""
    if dates:
        stats = [_as_dates(s) if s.name in dates else s for s in stats]
    return pa.table({
        "column": pa.array([s.name for s in stats], pa.string()),
        "dtype": pa.array([s.dtype for s in stats], pa.string()),
        "count": pa.array([s.count for s in stats], pa.int64()),
        "nulls": pa.array([s.nulls for s in stats], pa.int64()),
        "empty": pa.array([s.empty for s in stats], pa.int64()),
        "distinct": pa.array([s.distinct for s in stats], pa.int64()),
        "min": pa.array([format_value(s.min) for s in stats], pa.string()),
        "max": pa.array([format_value(s.max) for s in stats], pa.string()),
        "mode": pa.array([format_value(s.mode) for s in stats], pa.string()),
        "mean": pa.array([s.mean for s in stats], pa.float64()),
        "median": pa.array([s.median for s in stats], pa.float64()),
        "stdev": pa.array([s.stdev for s in stats], pa.float64()),
    })
