"""Data tab open time: from selecting a step to its table being populated (Arrow conversion in a thread
worker, then mounted and painted), for 1M- and 10M-row frames, against a 1k-row frame in the same run.

    .venv/bin/python bench/data_view_open.py [-n 3] [--sizes 1000000 10000000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from osiris_tui.drivers.registry import default_registry  # noqa: E402
from osiris_tui.manifest.model import Pipeline, Step  # noqa: E402
from osiris_tui.runtime.session import DebugSession, RunState  # noqa: E402
from osiris_tui.tui.app import DebuggerApp  # noqa: E402

BASELINE_ROWS = 1000


class Frame:
    """`config.rows` rows: an int id, a float, a low-cardinality string and a timestamp."""

    def run(self, *, step_id: str, config: dict[str, Any], inputs: Any, ctx: Any) -> dict:
        n = int(config["rows"])
        idx = np.arange(n, dtype=np.int64)
        return {"df": pd.DataFrame({
            "id": idx,
            "amount": (idx * 7919 % 100_000) / 100.0,
            "status": pd.Series(np.where(idx % 3 == 0, "paid", "open"), dtype="string"),
            "ts": pd.Timestamp("2024-01-01") + pd.to_timedelta(idx % 86_400, unit="s"),
        })}


async def open_time(app: DebuggerApp, pilot: Any, step_id: str, rows: int) -> float:
    app.data_view.show_step(None)  # forget what is shown (and its cache) so the open is a cold one
    app.data_view._cache.clear()
    app.selected_step_id = None
    await pilot.pause()
    start = time.perf_counter()
    app.step_list.select_step(step_id)
    app._select(step_id)
    deadline = start + 300
    while time.perf_counter() < deadline:
        table = app.data_view.table
        if table is not None and table.row_count == rows and table.is_mounted and not app.data_view.loading_frame:
            break
        await asyncio.sleep(0.002)  # a benchmark may poll; the tests never sleep
    await pilot.pause()  # painted once
    return time.perf_counter() - start


async def main(n: int, sizes: list[int]) -> None:
    registry = default_registry()
    registry.register("bench.frame", Frame)
    all_sizes = [BASELINE_ROWS, *sizes]
    steps = [Step(f"rows_{s}", "bench.frame", {"rows": s}) for s in all_sizes]
    with tempfile.TemporaryDirectory() as tmp:
        session = DebugSession(Pipeline("bench", Path(tmp) / "m.yaml", "seed", steps), registry=registry,
                               run_dir=Path(tmp) / "run")
        app = DebuggerApp(session)
        async with app.run_test(size=(120, 36)) as pilot:
            session.continue_()
            await asyncio.to_thread(session.wait_until, lambda s: s.run_state is RunState.FINISHED, 600)
            app.drain_session_updates(budget=float("inf"))
            results = {}
            for size in all_sizes:
                times = [await open_time(app, pilot, f"rows_{size}", size) for _ in range(n)]
                results[size] = statistics.median(times)
    base = results[BASELINE_ROWS]
    print(f"Data tab open (select step → table populated and painted), median of {n}:")
    for size, t in results.items():
        tag = "(baseline)" if size == BASELINE_ROWS else f"ratio {t / base:6.1f}"
        print(f"  {size:>12,} rows  {t * 1000:9.1f} ms   {tag}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=3)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    args = parser.parse_args()
    asyncio.run(main(args.n, args.sizes))
