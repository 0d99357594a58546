"""duckdb.processor: runs SQL over the step's inputs in DuckDB, as if in a fresh in-memory database (compat §6).

Every `df_*` input is a table of that name; as improvements over Osiris, the first input is also
`input_df` and `df` (so the stale `FROM input_df` examples run) and seed `inputs:` names are tables too.

Osiris opens a new in-memory database per step, which costs ~40 ms before the step does anything. Here a
query made only of SELECT statements runs on its own cursor (a connection of its own: its registered
inputs, settings and temporary objects are its alone and go when it closes) over one empty in-memory
database shared by the process; a SELECT cannot add anything to that database, so it stays empty and
no step sees another's tables. A query with any other statement (CREATE, SET/PRAGMA, ATTACH, LOAD,
COPY…) gets a fresh database of its own, exactly as in Osiris.

Inputs are registered, never copied; on the shared database only those the query names (registering a
DataFrame costs a few milliseconds each, and every input has up to three names), all of them again if
the query still finds a table missing (a name built at run time, e.g. `query_table('df')`).
"""

from __future__ import annotations

import threading
from typing import Any

import duckdb
import pandas as pd

from osiris_tui.drivers.base import StepContext

_shared: duckdb.DuckDBPyConnection | None = None
_shared_lock = threading.Lock()


def _database() -> duckdb.DuckDBPyConnection:
    global _shared
    if _shared is None:
        _shared = duckdb.connect(":memory:")
    return _shared


def shared_database() -> duckdb.DuckDBPyConnection:
    """The process's empty in-memory database (made on first use; `prewarm` makes it ahead of time)."""
    with _shared_lock:
        return _database()


def prewarm() -> None:
    """Make the shared database now (in a background thread), so the first step does not wait for it."""
    shared_database()


def read_only(query: str) -> bool:
    """Whether every statement of `query` is a SELECT (a parse error: False, the query fails on its own)."""
    # Parsed by the shared database (duckdb's module functions would make a second database to parse with).
    try:
        with _shared_lock:
            statements = _database().extract_statements(query)
    except duckdb.Error:
        return False
    return bool(statements) and all(s.type == duckdb.StatementType.SELECT for s in statements)


def referenced(query: str) -> set[str] | None:
    """The table names `query` mentions, lower-cased (DuckDB's names are case-insensitive); None: unknown."""
    try:
        with _shared_lock:
            names = _database().get_table_names(query)
    except duckdb.Error:
        return None
    return {name.lower() for name in names}


def open_connection(shared: bool) -> duckdb.DuckDBPyConnection:
    """A connection for one step: a cursor of the shared database (`shared`, for a `read_only` query), or a
    fresh database."""
    if shared:
        with _shared_lock:  # a connection is not thread-safe, creating its cursors included
            return _database().cursor()
    return duckdb.connect(":memory:")


def _execute(con: duckdb.DuckDBPyConnection, query: str, frames: dict[str, pd.DataFrame], shared: bool,
             ctx: StepContext) -> pd.DataFrame:
    names = referenced(query) if shared else None
    wanted = frames if names is None else {k: v for k, v in frames.items() if k.lower() in names}
    for name, df in wanted.items():
        con.register(name, df)
    ctx.check_cancelled()
    try:
        return con.execute(query).df()
    except duckdb.CatalogException:
        rest = {k: v for k, v in frames.items() if k not in wanted}
        if not rest:
            raise
    for name, df in rest.items():  # a SELECT has no side effects: running it again is safe
        con.register(name, df)
    ctx.check_cancelled()
    return con.execute(query).df()


def _interrupt_until(con: duckdb.DuckDBPyConnection, finished: threading.Event) -> None:
    """Interrupt `con`'s query, again every 50 ms until the step has finished (for up to 2 s): a cancel
    that lands just before the query starts would otherwise be lost, since `interrupt()` only stops a
    query that is running."""

    def keep_interrupting() -> None:
        for _ in range(40):
            try:
                con.interrupt()
            except Exception:  # closed: the step is over
                return
            if finished.wait(0.05):
                return

    threading.Thread(target=keep_interrupting, name="osiris-tui-duckdb-interrupt", daemon=True).start()


class DuckDBProcessor:
    def __init__(self) -> None:
        self._con: duckdb.DuckDBPyConnection | None = None

    def run(self, *, step_id: str, config: dict[str, Any], inputs: dict | None, ctx: StepContext) -> dict:
        query = config.get("query")
        if not query or not isinstance(query, str):
            raise ValueError(f"Step '{step_id}': 'query' is required for duckdb.processor")
        frames = {k: v for k, v in (inputs or {}).items()
                  if isinstance(v, pd.DataFrame) and k.isidentifier()}
        shared = read_only(query)
        self._con = con = open_connection(shared)
        finished = threading.Event()
        unhook = ctx.on_cancel(lambda: _interrupt_until(con, finished))
        try:
            df = _execute(con, query, frames, shared, ctx)
        except duckdb.Error as exc:
            if ctx.cancelled:
                ctx.check_cancelled()
            raise RuntimeError(f"DuckDB transformation failed: {exc}") from exc
        finally:
            finished.set()
            unhook()
            self.close()
        seen: set[int] = set()
        rows_in = 0
        for name, frame in frames.items():
            if name.startswith("df_") and id(frame) not in seen:
                seen.add(id(frame))
                rows_in += len(frame)
        ctx.log_metric("rows_read", rows_in)
        ctx.log_metric("rows_written", len(df))
        return {"df": df}

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None
