"""Benchmark: 100k events/metrics through EventLog in batches, against building the same line strings.

    .venv/bin/python bench/event_log_flood.py [--records 100000] [--batch 1000]

Runs a headless Textual app hosting an EventLog. Each batch goes through `add_records` (what the app's
100 ms drain calls) and the screen is let to repaint after every batch, so the figure covers ingest,
incremental filtering and rendering. Times are CPU time (the wall time also includes
idling until the next frame). The baseline, in the same process, only formats the same records
into their line strings (the work no UI can skip). Also times one filter change (a full re-scan).
"""

from __future__ import annotations

import argparse
import asyncio
import time

from textual.app import App, ComposeResult

from osiris_tui.runtime.records import EventRecord, LogRecord, MetricRecord
from osiris_tui.tui.widgets.event_log import EventLog, LineFormatter


def records(n: int) -> list[LogRecord]:
    names = ["step_start", "inputs_resolved", "connection_resolve_start", "write.progress", "step_complete"]
    out: list[LogRecord] = []
    for i in range(n):
        ts = f"2025-11-01T10:{(i // 60000) % 60:02d}:{(i // 1000) % 60:02d}.{i % 1000:03d}Z"
        step = f"step_{i % 7}"
        if i % 4 == 3:
            out.append(MetricRecord(i + 1, "rows_read", i, {"ts": ts, "session": "bench", "metric": "rows_read",
                                                            "value": i, "step_id": step}))
        elif i % 997 == 0:
            out.append(EventRecord(i + 1, "step_error", {"ts": ts, "session": "bench", "event": "step_error",
                                                         "step_id": step, "error": f"Execution failed: boom {i}",
                                                         "duration": 0.5}))
        else:
            out.append(EventRecord(i + 1, names[i % 5], {"ts": ts, "session": "bench", "event": names[i % 5],
                                                         "step_id": step, "rows": i, "batch": i // 1000}))
    return out


class Host(App[None]):
    def compose(self) -> ComposeResult:
        yield EventLog(None, load_history=False)


def baseline(data: list[LogRecord]) -> float:
    formatter = LineFormatter()
    start = time.process_time()
    lines = [formatter.line(i, r) for i, r in enumerate(data)]
    elapsed = time.process_time() - start
    assert len(lines) == len(data)
    return elapsed


async def through_widget(data: list[LogRecord], batch: int) -> tuple[float, float, float, int, int]:
    app = Host()
    async with app.run_test(size=(120, 36)) as pilot:
        log = app.query_one(EventLog)
        await pilot.pause()
        start, cpu = time.perf_counter(), time.process_time()
        for i in range(0, len(data), batch):
            log.add_records(data[i:i + batch])
            await pilot.pause()  # let the screen repaint, as between two of the app's drains
        ingest, ingest_cpu = time.perf_counter() - start, time.process_time() - cpu
        start = time.perf_counter()
        log.query_one("#event-filter").value = "step_3 rows_read"  # type: ignore[attr-defined]
        log.refilter()
        await pilot.pause()
        refilter = time.perf_counter() - start
        return ingest, ingest_cpu, refilter, log.lines.line_count, len(log.records)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1_000)
    args = parser.parse_args()
    data = records(args.records)
    base = min(baseline(data) for _ in range(3))
    ingest, ingest_cpu, refilter, shown, stored = asyncio.run(through_widget(data, args.batch))
    batches = -(-args.records // args.batch)
    print(f"records: {args.records:,} in {batches} batches of {args.batch:,}")
    print(f"baseline (format line strings only, CPU): {base:.3f} s")
    print(f"EventLog ingest + repaint after each batch: CPU {ingest_cpu:.3f} s "
          f"({ingest_cpu / batches * 1000:.1f} ms per batch); wall {ingest:.3f} s incl. waiting for frames")
    print(f"ratio widget / baseline (CPU):             {ingest_cpu / base:.2f}x")
    print(f"filter change (re-scan {stored:,} records): {refilter * 1000:.0f} ms")
    print(f"lines held by the view: {shown:,} (bounded); records kept: {stored:,}")


if __name__ == "__main__":
    main()
