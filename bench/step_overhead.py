"""Per-step overhead: a chain of N trivial DuckDB steps through `osiris-tui run`, against plain scripts.

The pipeline is N duckdb.processor steps, each reading the one before (`SELECT x + 1 AS x FROM df_s<i-1>`).
Three fresh processes each (interpreter start and imports included), alternating, medians compared:

* `osiris-tui run` (whole process: load, events, metrics, artifacts, status.json — all of it);
* a plain script running the same N queries on one reused DuckDB connection (the goal's baseline:
  ratio <= 1.5);
* a plain script opening a fresh in-memory DuckDB connection per step, as Osiris does.

    python bench/step_overhead.py [--steps 200] [--repeat 3]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PLAIN = '''
import sys, duckdb
n, fresh = int(sys.argv[1]), sys.argv[2] == "fresh"
con = None if fresh else duckdb.connect()
df = None
for i in range(n):
    c = duckdb.connect() if fresh else con
    if df is None:
        df = c.execute("SELECT 0 AS x").df()
    else:
        c.register(f"df_s{i - 1}", df)
        df = c.execute(f"SELECT x + 1 AS x FROM df_s{i - 1}").df()
        c.unregister(f"df_s{i - 1}")
    if fresh:
        c.close()
assert int(df["x"].iloc[0]) == n - 1
'''


def write_manifest(path: Path, n: int) -> None:
    lines = ["name: step-overhead", "steps:"]
    for i in range(n):
        lines.append(f"  - id: s{i}")
        lines.append("    driver: duckdb.processor")
        if i == 0:
            lines.append("    config: {query: 'SELECT 0 AS x'}")
        else:
            lines.append(f"    needs: [s{i - 1}]")
            lines.append(f"    config: {{query: 'SELECT x + 1 AS x FROM df_s{i - 1}'}}")
    path.write_text("\n".join(lines) + "\n")


def timed(cmd: list[str], cwd: Path) -> float:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, cwd=cwd, env=env)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        manifest = work / "manifest.yaml"
        write_manifest(manifest, args.steps)
        commands = {
            "tool": [sys.executable, "-m", "osiris_tui", "run", str(manifest), "--run-dir", str(work / "run")],
            "reused": [sys.executable, "-c", PLAIN, str(args.steps), "reused"],
            "fresh": [sys.executable, "-c", PLAIN, str(args.steps), "fresh"],
        }
        for cmd in commands.values():  # warm the page cache
            timed(cmd, work)
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.repeat):
            for name, cmd in commands.items():
                times[name].append(timed(cmd, work))
        early, late = step_intervals(work / "run" / "events.jsonl")
    tool, reused, fresh = (statistics.median(times[n]) for n in ("tool", "reused", "fresh"))
    print(f"{args.steps} trivial duckdb.processor steps, whole processes, median of {args.repeat}:")
    print(f"  plain script, one reused connection (baseline)  {reused:7.3f} s")
    print(f"  plain script, a fresh connection per step       {fresh:7.3f} s   ratio {fresh / reused:.2f}")
    print(f"  osiris-tui run                                  {tool:7.3f} s   ratio {tool / reused:.2f}  (goal <= 1.5)")
    print(f"  per step: osiris-tui {(tool - reused) / args.steps * 1000:.1f} ms over the baseline, "
          f"a fresh connection {(fresh - reused) / args.steps * 1000:.1f} ms")
    print(f"  step_start to step_start in the last run: first fifth {early * 1000:.1f} ms, "
          f"last fifth {late * 1000:.1f} ms (equal when no step's cost grows with the steps before it)")


def step_intervals(events: Path) -> tuple[float, float]:
    """Median time between consecutive `step_start` events in the first and the last fifth of the run."""
    starts = [datetime.fromisoformat(e["ts"].replace("Z", "+00:00")).timestamp()
              for e in map(json.loads, events.read_text().splitlines()) if e["event"] == "step_start"]
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    fifth = max(1, len(gaps) // 5)
    return statistics.median(gaps[:fifth]), statistics.median(gaps[-fifth:])


if __name__ == "__main__":
    main()
