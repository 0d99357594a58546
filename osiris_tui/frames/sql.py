"""Filter conditions: a DuckDB SQL boolean expression evaluated over an Arrow table, in place.

`where_indices(table, "amount > 100 AND status = 'paid'")` returns the row numbers that match, in table
order. DuckDB scans the Arrow table where it lies (no pandas, no copy of the frame): the query projects
the condition as one boolean per row, which comes back as a bitmap, and the row numbers are read off
it. A condition DuckDB rejects raises `FilterError`, with the offset into the condition text DuckDB
points at, and without the wrapping query in the message.
"""

from __future__ import annotations

import threading

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from osiris_tui.frames.sql_errors import condition_error

_PREFIX = "SELECT coalesce(CAST(("
_SUFFIX = ") AS BOOLEAN), false) AS m FROM t"


class FilterError(Exception):
    """A condition DuckDB cannot evaluate. `position` is the 0-based offset into the condition text of
    what DuckDB points at (a parse error, an unknown column, a bad conversion), when it says."""

    def __init__(self, message: str, position: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.position = position

    def __str__(self) -> str:
        return self.message


def connect() -> duckdb.DuckDBPyConnection:
    """A private in-memory connection that cannot read or write files (a condition is only ever an
    expression over the frame)."""
    return duckdb.connect(config={"enable_external_access": False})


_local = threading.local()


def _connection() -> duckdb.DuckDBPyConnection:
    """One connection per thread, reused: connecting costs more than a small query."""
    con = getattr(_local, "con", None)
    if con is None:
        con = _local.con = connect()
    return con


def query(table: pa.Table, sql: str) -> pa.Table:
    """Run `sql` with `table` registered as `t` (scanned in place), the result as Arrow."""
    con = _connection()
    con.register("t", table)
    try:
        return con.sql(sql).to_arrow_table()
    finally:
        con.unregister("t")


def _with_position(table: pa.Table, sql: str, exc: duckdb.Error) -> tuple[duckdb.Error, str]:
    """The same error from the prepared-statement path, which says where it is (`sql()` does not
    always), and the statement that raised it."""
    if "\nLINE " in str(exc):
        return exc, sql
    prepared = f"PREPARE filter_check AS {sql}"
    con = _connection()
    con.register("t", table)
    try:
        con.execute(prepared)
        con.execute("DEALLOCATE filter_check")
    except duckdb.Error as detailed:
        return detailed, prepared
    finally:
        con.unregister("t")
    return exc, sql


def _error(raised: tuple[duckdb.Error, str], sql: str, condition: str) -> FilterError:
    exc, executed = raised
    text, position = condition_error(str(exc), executed, _PREFIX, condition)
    return FilterError(text.replace(sql, condition) or "invalid condition", position)


def mask(table: pa.Table, condition: str) -> pa.Array:
    """One boolean per row of `table`, in table order: where `condition` holds (NULL counts as false)."""
    if not condition.strip():
        raise FilterError("the condition is empty", 0)
    sql = f"{_PREFIX}{condition}{_SUFFIX}"
    try:
        result = query(table, sql)
    except duckdb.Error as exc:
        raise _error(_with_position(table, sql, exc), sql, condition) from None
    if result.num_columns != 1:
        raise FilterError("the condition is not one expression", None)
    if result.num_rows != table.num_rows:
        raise FilterError("the condition must hold row by row (no aggregates such as count(*))", None)
    column = result.column(0)
    return column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)


def where_indices(table: pa.Table, condition: str, within: pa.Array | None = None) -> pa.Array:
    """The row numbers (int64) of `table` where `condition` holds, in table order; with `within` (row
    numbers, e.g. a sorted view's), those of `within` that match, in `within`'s order."""
    flags = mask(table, condition)
    if within is None:
        return pc.indices_nonzero(flags).cast(pa.int64())
    selected = np.asarray(flags.to_numpy(zero_copy_only=False), dtype=bool)[np.asarray(within)]
    return pa.array(np.asarray(within)[selected], pa.int64())
