"""Data explorer speed and memory: the data layer under the Data tab (frames.*, DataFrameCache.table).

For 1k, 1M and 10M rows x 5 mixed columns (int64, float64, string with NULLs, timestamp, decimal128)
and 1M rows x 29 columns, in one run, with ratios to the 1k-row case:

- to_arrow: the one pandas -> Arrow conversion (done in the background when a step's frame is cached)
- open:     from a cached frame to the first page of cells as the table shows them
            (cache.table once converted, FrameView.of, rows(0, 50), format.styled_cells)
- search:   a substring over every column's displayed text ("text": letters, only text columns can
            match; "digits": every column is read), and a regex
- filter:   a DuckDB condition over the Arrow table
- frequency: value counts of the string column, and of the int column (every value distinct)
- describe: every column's statistics
- sort:     the float column, stable, nulls last

Then the peak memory of exploring the 10M-row frame (filter + sort + three searches + two frequencies), in a fresh
process: Arrow's allocator (sampled every 2 ms) plus Python objects (tracemalloc), and the process's
resident high-water mark, each against the table's own Arrow size.

    .venv/bin/python bench/data_explorer.py [-n 3] [--sizes 1000000 10000000] [--no-memory]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import threading
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from osiris_tui.frames import format as vf  # noqa: E402
from osiris_tui.frames.describe import describe  # noqa: E402
from osiris_tui.frames.export import to_arrow  # noqa: E402
from osiris_tui.frames.frequency import frequency  # noqa: E402
from osiris_tui.frames.search import search  # noqa: E402
from osiris_tui.frames.view import FrameView  # noqa: E402
from osiris_tui.runtime.cache import DataFrameCache  # noqa: E402

BASELINE_ROWS = 1000
WORDS = pa.array([f"customer_{i:04d}" for i in range(2000)])


def _decimals(cents: np.ndarray) -> pa.Array:
    """decimal128(18, 2) from int64 cents, built straight from the 16-byte little-endian buffer."""
    wide = np.empty((len(cents), 2), dtype=np.int64)
    wide[:, 0] = cents
    wide[:, 1] = np.where(cents < 0, -1, 0)
    return pa.Array.from_buffers(pa.decimal128(18, 2), len(cents), [None, pa.py_buffer(wide)])


def column(kind: int, n: int, seed: int) -> pa.Array:
    rng = np.random.default_rng(seed)
    if kind == 0:
        return pa.array(rng.permutation(n).astype(np.int64))
    if kind == 1:
        return pa.array(np.round(rng.standard_normal(n) * 1000, 2))
    if kind == 2:
        words = WORDS.take(pa.array(rng.integers(0, len(WORDS), n)))
        nulls = pa.array(rng.random(n) < 0.05)
        return pc.if_else(nulls, pa.scalar(None, pa.string()), words)
    if kind == 3:
        start = np.datetime64("2024-01-01T00:00:00", "ns").astype(np.int64)
        return pa.array(start + rng.integers(0, 365 * 86_400, n) * 1_000_000_000
                        + rng.integers(0, 1000, n) * 1_000_000, pa.timestamp("ns"))
    return _decimals(rng.integers(-10_000_000, 10_000_000, n))


NAMES = ["id", "amount", "status", "ordered_at", "total"]


def make_table(n: int, width: int = 5) -> pa.Table:
    cols = {}
    for i in range(width):
        name = NAMES[i % 5] if i < 5 else f"{NAMES[i % 5]}_{i // 5}"
        cols[name] = column(i % 5, n, seed=i)
    return pa.table(cols)


def to_pandas(table: pa.Table) -> Any:
    import pandas as pd

    def mapper(t: pa.DataType) -> Any:
        return pd.ArrowDtype(t) if pa.types.is_decimal(t) else None

    return table.to_pandas(types_mapper=mapper)


def timed(fn: Callable[[], Any], n: int) -> float:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def open_page(cache: DataFrameCache, step: str) -> None:
    table = cache.table(step)
    assert table is not None
    page = FrameView.of(table).rows(0, 50)
    for i in range(page.num_columns):
        vf.styled_cells(page.column(i), 0, page.num_rows)


def measure(n: int, width: int, repeat: int) -> dict[str, float]:
    table = make_table(n, width)
    df = to_pandas(table)
    out: dict[str, float] = {}
    out["to_arrow"] = timed(lambda: to_arrow(df), repeat)
    cache = DataFrameCache(convert_in_background=True)  # as the app's
    cache.put("s", df)
    cache.table("s")  # the background conversion is done: what a user opening the step waits for
    out["open"] = timed(lambda: open_page(cache, "s"), repeat)
    view = FrameView.of(table)
    if width == 5:
        out["search text"] = timed(lambda: search(view, "customer_12"), repeat)
        out["search digits"] = timed(lambda: search(view, "4242"), repeat)
        out["search regex"] = timed(lambda: search(view, r"_12\d9$", regex=True), repeat)
        out["filter"] = timed(lambda: view.filtered("amount > 500 AND status = 'customer_0042'"), repeat)
        out["frequency str"] = timed(lambda: frequency(view, "status"), repeat)
        out["frequency int"] = timed(lambda: frequency(view, "id"), repeat)
        out["sort"] = timed(lambda: view.sorted("amount"), max(1, repeat // 2))
    out["describe"] = timed(lambda: describe(table), repeat)
    return out


def memory_probe(n: int) -> dict[str, float]:
    """Run in a fresh process: the peak extra memory of exploring an `n`-row table."""
    table = make_table(n)
    size = table.nbytes
    pool = pa.default_memory_pool()
    base = pa.total_allocated_bytes()
    peak = [base]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], pa.total_allocated_bytes())
            time.sleep(0.002)

    hwm_path = Path("/proc/self/clear_refs")
    try:
        hwm_path.write_text("5")  # reset the resident high-water mark
        rss_base = _status("VmRSS")
    except OSError:
        rss_base = None
    tracemalloc.start()
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    view = FrameView.of(table).filtered("amount > 0 AND status IS NOT NULL")
    view = view.sorted("ordered_at", "descending")
    matches = search(view, "customer_12")
    digits = search(view, "4242")
    search(view, r"_12\d9$", regex=True)
    counts = frequency(view, "status")
    ids = frequency(view, "id")
    done.set()
    sampler.join()
    _, py_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    peak[0] = max(peak[0], pa.total_allocated_bytes())
    result = {
        "table_bytes": size,
        "arrow_peak_extra": peak[0] - base,
        "python_peak": py_peak,
        "pool_max": pool.max_memory(),
        "rows_shown": view.num_rows,
        "matches": len(matches),
        "values": counts.num_rows,
        "digit_matches": len(digits),
        "ids": ids.num_rows,
    }
    if rss_base is not None:
        result["rss_hwm_extra"] = _status("VmHWM") - rss_base
    return result


def _status(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(key)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=3)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--no-memory", action="store_true")
    parser.add_argument("--memory-probe", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_probe:
        print(json.dumps(memory_probe(args.memory_probe)))
        return
    cases = [(BASELINE_ROWS, 5), *((s, 5) for s in args.sizes), (1_000_000, 29)]
    results = {case: measure(*case, args.n) for case in cases}
    base = results[(BASELINE_ROWS, 5)]
    ops = list(base)
    print(f"data explorer, median of {args.n} (ms; ratio to {BASELINE_ROWS:,} rows x 5 in brackets)")
    header = f"{'':>22}" + "".join(f"{op:>20}" for op in ops)
    print(header)
    for (rows, width), out in results.items():
        cells = []
        for op in ops:
            if op not in out:
                cells.append(f"{'':>20}")
                continue
            ms = out[op] * 1000
            ratio = "" if (rows, width) == (BASELINE_ROWS, 5) else f" ({out[op] / base[op]:.0f}x)"
            cells.append(f"{ms:>12.1f}{ratio:>8}")
        print(f"{rows:>12,} x {width:<2} cols" + "".join(cells))
    if args.no_memory:
        return
    big = max(args.sizes)
    probe = subprocess.run([sys.executable, __file__, "--memory-probe", str(big)], capture_output=True,
                           text=True, check=True)
    mem = json.loads(probe.stdout)
    size = mem["table_bytes"]
    extra = mem["arrow_peak_extra"] + mem["python_peak"]
    print(f"\nexploring {big:,} rows (filter -> {mem['rows_shown']:,} rows, sort, search -> {mem['matches']:,} "
          f"cells, digits -> {mem['digit_matches']:,} cells, a regex, frequency -> {mem['values']:,} values, "
          f"of the ids -> {mem['ids']:,}); table {size / 2**20:,.0f} MiB in Arrow")
    print(f"  Arrow allocator peak extra {mem['arrow_peak_extra'] / 2**20:,.0f} MiB + Python objects peak "
          f"{mem['python_peak'] / 2**20:,.0f} MiB -> peak {(size + extra) / size:.2f}x the table")
    if "rss_hwm_extra" in mem:
        rss = mem["rss_hwm_extra"]
        print(f"  resident high-water mark +{rss / 2**20:,.0f} MiB (DuckDB included) -> peak "
              f"{(size + rss) / size:.2f}x the table")


if __name__ == "__main__":
    main()
