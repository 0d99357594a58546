"""duckdb.processor: runs SQL over the step's inputs in a fresh in-memory DuckDB (compat §6).

Every `df_*` input is a table of that name; as improvements over Osiris, the first input is also
`input_df` and `df` (so the stale `FROM input_df` examples run) and seed `inputs:` names are tables too.
"""

from __future__ import annotations

from typing import Any

import duckdb
import pandas as pd

from osiris_tui.drivers.base import StepContext


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
        unhook = ctx.on_cancel(con.interrupt)  # stops a running query
        try:
            for name, df in frames.items():
                con.register(name, df)
            df = con.execute(query).df()
        except duckdb.Error as exc:
            if ctx.cancelled:
                ctx.check_cancelled()
            raise RuntimeError(f"DuckDB transformation failed: {exc}") from exc
        finally:
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
