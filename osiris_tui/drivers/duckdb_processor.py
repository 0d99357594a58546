"""duckdb.processor: runs SQL over the step's inputs in a fresh in-memory DuckDB (compat §6).

Every `df_*` input is a table of that name; as improvements over Osiris, the first input is also
`input_df` and `df` (so the stale `FROM input_df` examples run) and seed `inputs:` names are tables too.
"""

from __future__ import annotations

import threading
from typing import Any

import duckdb
import pandas as pd

from osiris_tui.drivers.base import StepContext


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
        self._con = con = duckdb.connect(":memory:")
        finished = threading.Event()
        unhook = ctx.on_cancel(lambda: _interrupt_until(con, finished))
        try:
            for name, df in frames.items():
                con.register(name, df)
            ctx.check_cancelled()
            df = con.execute(query).df()
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
