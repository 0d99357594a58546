"""The Data tab as the user meets it, at any size: the time to open a step's frame (select the step → its
table populated and painted) for 1k, 1M and 10M rows, as ratios to 1k (goal: 10M ≤ 1.5x 1k), and the time
the app takes to answer a key press (switching tab and back) while a search, filter, frequency, describe
or sort over the 10M-row frame runs in its thread worker (goal ≤ 100 ms). The data operations themselves are
timed by `bench/data_explorer.py`.

    .venv/bin/python bench/data_explorer_app.py [-n 3] [--sizes 1000000 10000000]

Frames: `rows` x 5 mixed columns (int id, float amount, low-cardinality string, timestamp, bool). The Arrow
conversion runs once per frame in the background after the step; the bench waits for it before timing,
as a user does by reading the step list.
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
from textual import events

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from osiris_tui.drivers.registry import default_registry  # noqa: E402
from osiris_tui.manifest.model import Pipeline, Step  # noqa: E402
from osiris_tui.runtime.session import DebugSession, RunState  # noqa: E402
from osiris_tui.tui.app import DebuggerApp  # noqa: E402
from osiris_tui.tui.widgets.data.search_bar import SearchQuery  # noqa: E402

BASELINE_ROWS = 1000
TIMEOUT = 600


class Frame:
    def run(self, *, step_id: str, config: dict[str, Any], inputs: Any, ctx: Any) -> dict:
        n = int(config["rows"])
        idx = np.arange(n, dtype=np.int64)
        return {"df": pd.DataFrame({
            "id": idx,
            "amount": (idx * 7919 % 100_000) / 100.0,
            "status": pd.Series(np.where(idx % 3 == 0, "paid", np.where(idx % 3 == 1, "open", "void")),
                                dtype=object),
            "ts": pd.Timestamp("2024-01-01") + pd.to_timedelta(idx % 86_400, unit="s"),
            "flag": idx % 7 == 0,
        })}


async def until(predicate: Any, timeout: float = TIMEOUT) -> None:
    deadline = time.perf_counter() + timeout
    while not predicate():
        if time.perf_counter() > deadline:
            raise TimeoutError
        await asyncio.sleep(0.001)  # a benchmark may poll; the tests never sleep


async def open_time(app: DebuggerApp, pilot: Any, step_id: str, rows: int) -> float:
    view = app.data_view
    view.show_step(None)
    view.forget_frames()  # a cold open: nothing measured kept
    app.selected_step_id = None
    await pilot.pause()
    start = time.perf_counter()
    app.step_list.select_step(step_id)
    app._select(step_id)
    await until(lambda: view.table is not None and view.table.row_count == rows and view.table.is_mounted
                and not view.loading_frame)
    await pilot.pause()  # painted once
    return time.perf_counter() - start


async def key_latency(app: DebuggerApp, pilot: Any, start_op: Any) -> tuple[float, float, int]:
    """(max key answer time, the operation's time, presses) while the operation runs."""
    view = app.data_view
    t0 = time.perf_counter()
    start_op()
    answers = []
    while view.running is not None:
        for key, tab in (("2", "config"), ("1", "data")):
            # the key goes in as the terminal's driver sends it; answered when the tab has switched.
            # (Not `pilot.press`: it also waits for the process to be idle, which it is not while a worker runs.)
            t = time.perf_counter()
            app.post_message(events.Key(key, key))
            await until(lambda tab=tab: app.tabs.active == tab)
            answers.append(time.perf_counter() - t)
        if time.perf_counter() - t0 > TIMEOUT:
            raise TimeoutError
    took = time.perf_counter() - t0
    await pilot.press("1")
    await app.workers.wait_for_complete()
    await pilot.pause()
    return (max(answers) if answers else float("nan")), took, len(answers)


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
            await asyncio.to_thread(session.wait_until, lambda s: s.run_state is RunState.FINISHED, TIMEOUT)
            for s in all_sizes:  # the background conversions to Arrow, done
                await asyncio.to_thread(session.output_table, f"rows_{s}")
            app.drain_session_updates(budget=float("inf"))
            opens = {}
            for size in all_sizes:
                times = [await open_time(app, pilot, f"rows_{size}", size) for _ in range(n)]
                opens[size] = statistics.median(times)
            big = max(all_sizes)
            await open_time(app, pilot, f"rows_{big}", big)
            view = app.data_view
            table = view.table
            assert table is not None
            table.focus()
            ops = {
                "search 'void'": lambda: view.run_search(SearchQuery("void")),
                "filter amount > 500": lambda: view.apply_filter("amount > 500"),
                "frequency status": lambda: (view.table.move_cursor(column=2), view.show_frequency()),
                "describe": view.toggle_describe,
                "sort amount": lambda: view.sort_by_column(1),
            }
            latency = {}
            for name, op in ops.items():
                if view.mode != "rows" or view.where:
                    await pilot.press("escape")  # back to the whole frame's rows
                    await app.workers.wait_for_complete()
                    await pilot.pause()
                latency[name] = await key_latency(app, pilot, op)
    base = opens[BASELINE_ROWS]
    print(f"Data tab open (select step → table populated and painted), median of {n}:")
    for size, t in opens.items():
        tag = "(baseline)" if size == BASELINE_ROWS else f"ratio {t / base:5.2f}  (goal ≤ 1.5)"
        print(f"  {size:>12,} rows  {t * 1000:8.1f} ms   {tag}")
    print(f"Key press answered (tab switch) while an operation over {big:,} rows runs (goal ≤ 100 ms):")
    for name, (worst, took, presses) in latency.items():
        print(f"  {name:<22} worst {worst * 1000:6.1f} ms over {presses:3d} presses; "
              f"the operation took {took:6.2f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=3)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    args = parser.parse_args()
    asyncio.run(main(args.n, args.sizes))
