"""FrameView: what the Data tab shows of a frame, without copying it.

A view is the step's Arrow table (shared, never modified) plus the row numbers it shows, in display
order: `indices` is None for every row in table order; a filter (`filtered`) keeps the rows a DuckDB
condition selects, a sort (`sorted`) orders them. Filter and sort stack in either order: filtering a
sorted view keeps the sort, sorting a filtered view keeps the filter. Pages of rows are taken on demand
(`rows`); only `materialize` (export, frequency) builds a table of the shown rows.

Data flows one way: the table comes from the step's cache (`DataFrameCache.table`), a view derives
new views from it, and nothing is written back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from osiris_tui.frames.sql import where_indices

ORDERS = ("ascending", "descending")


@dataclass(frozen=True)
class FrameView:
    """A frame as shown: the Arrow table and, instead of a copy, the rows in display order."""

    table: pa.Table
    indices: pa.Array | None = None  # int64 row numbers into `table`, display order; None = all, in order
    where: str | None = None  # the filter condition in force
    sort: tuple[str, str] | None = None  # (column, "ascending" | "descending")
    # the filtered rows in table order (what a new sort starts from); derived when not given
    matched: pa.Array | None = field(default=None, repr=False, compare=False)
    # per-view caches shared by the views derived from this one (same table): search text, etc.
    memo: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def of(cls, table: pa.Table) -> FrameView:
        return cls(table)

    @property
    def num_rows(self) -> int:
        return self.table.num_rows if self.indices is None else len(self.indices)

    def rows(self, start: int, stop: int) -> pa.Table:
        """The display rows `start:stop` (clamped) as a table: a slice, or a take of just those rows."""
        size = self.num_rows
        start = max(0, min(start, size))
        stop = max(start, min(stop, size))
        if self.indices is None:
            return self.table.slice(start, stop - start)
        return self.table.take(self.indices.slice(start, stop - start))

    def row_number(self, position: int) -> int:
        """The row number in `table` of display position `position`."""
        if not 0 <= position < self.num_rows:
            raise IndexError(f"position {position} is outside the view's {self.num_rows} rows")
        return position if self.indices is None else int(self.indices[position].as_py())

    def materialize(self) -> pa.Table:
        """The shown rows, filtered and sorted, as a table (a copy unless the view is the whole table)."""
        return self.table if self.indices is None else self.table.take(self.indices)

    def _matched(self) -> pa.Array | None:
        """The filtered rows in table order (None: no filter)."""
        if self.where is None:
            return None
        if self.matched is not None:
            return self.matched
        assert self.indices is not None
        return self.indices if self.sort is None else pa.array(np.sort(np.asarray(self.indices)), pa.int64())

    def filtered(self, condition: str) -> FrameView:
        """The rows where `condition` (DuckDB SQL over the table's columns) holds, replacing any filter
        in force and keeping the sort. Raises `FilterError`."""
        matched = where_indices(self.table, condition)
        indices = matched if self.sort is None else _order(self.table, matched, *self.sort)
        return FrameView(self.table, indices, condition, self.sort, matched, self.memo)

    def unfiltered(self) -> FrameView:
        """Every row again, keeping the sort."""
        if self.sort is None:
            return FrameView(self.table, None, None, None, None, self.memo)
        return FrameView(self.table, _order(self.table, None, *self.sort), None, self.sort, None, self.memo)

    def sorted(self, column: str, order: str = "ascending") -> FrameView:
        """The rows ordered by `column` (stable: ties keep table order; nulls last), replacing any sort
        and keeping the filter."""
        if order not in ORDERS:
            raise ValueError(f"order must be 'ascending' or 'descending', not {order!r}")
        if column not in self.table.column_names:
            raise KeyError(f"no column {column!r}")
        matched = self._matched()
        indices = _order(self.table, matched, column, order)
        return FrameView(self.table, indices, self.where, (column, order), matched, self.memo)


def _order(table: pa.Table, rows: pa.Array | None, column: str, order: str) -> pa.Array:
    """`rows` (table order; None = all) ordered by `column`, stable, nulls last."""
    values = table.column(column)
    if pa.types.is_dictionary(values.type):
        values = values.cast(values.type.value_type)
    if rows is not None:
        values = values.take(rows)
    ranks = pc.array_sort_indices(values, order=order, null_placement="at_end")
    if rows is None:
        return ranks.cast(pa.int64())
    return rows.take(ranks)
