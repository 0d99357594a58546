"""Peak memory of a 5-step chain of 2M-row frames, with and without a memory budget.

The pipeline: a step makes N rows (default 2,000,000; six 8-byte columns, ~92 MB), then four steps each
read the previous frame and make a new one of the same size. Two kinds of step: `pandas` (a plugin-style
driver: `df + 1`, which holds its input and its output) and `duckdb` (duckdb.processor, which also holds
DuckDB's own copy of the result while it converts it). Each case runs in a fresh process (`osiris-tui`'s
session, checkpoints on, as the app runs it); the figure is the peak resident memory (ru_maxrss) less
the resident memory just before the run (DuckDB and the Parquet writer warmed up by then). Goal:
under a 256 MB budget the peak is at most the budget plus twice the largest frame (without one, every
frame stays).

    python bench/memory_budget.py [--rows 2000000] [--budget 256MB] [--steps pandas|duckdb|both]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COLUMNS = "id, a, b, c, d, e"


class Make:
    """`rows` rows of six 8-byte columns."""

    def run(self, *, step_id, config, inputs, ctx):  # type: ignore[no-untyped-def]
        import numpy as np
        import pandas as pd

        r = np.arange(int(config["rows"]), dtype=np.int64)
        return {"df": pd.DataFrame({"id": r, "a": r * 1.5, "b": r % 7, "c": r * 2, "d": r / 3, "e": r - 1})}


class AddOne:
    def run(self, *, step_id, config, inputs, ctx):  # type: ignore[no-untyped-def]
        return {"df": inputs["df"] + 1}


def pandas_manifest(rows: int) -> str:
    steps = [f"  - {{id: s0, driver: bench.make, config: {{rows: {rows}}}}}"]
    steps += [f"  - {{id: s{i}, driver: bench.add_one, needs: [s{i - 1}], config: {{}}}}" for i in range(1, 5)]
    return "name: memory-budget\nsteps:\n" + "\n".join(steps) + "\n"


def manifest(rows: int) -> str:
    steps = [f"  - {{id: s0, driver: duckdb.processor, config: {{query: \"SELECT range AS id, range * 1.5 AS a, "
             f"range % 7 AS b, range * 2 AS c, range / 3 AS d, range - 1 AS e FROM range({rows})\"}}}}"]
    for i in range(1, 5):
        steps.append(f"  - {{id: s{i}, driver: duckdb.processor, needs: [s{i - 1}], config: {{query: \"SELECT id, "
                     f"a + 1 AS a, b + 1 AS b, c + 1 AS c, d + 1 AS d, e + 1 AS e FROM df_s{i - 1}\"}}}}")
    return "name: memory-budget\nsteps:\n" + "\n".join(steps) + "\n"


def rss() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def warm_up(work: Path) -> None:
    """What the libraries allocate once per process (DuckDB's first connection, the Parquet writer), so
    that the figure is the frames' memory, not theirs."""
    import duckdb
    import pandas as pd

    from osiris_tui.runtime import frame_files

    con = duckdb.connect(":memory:")
    con.register("t", pd.DataFrame({"x": range(1000)}))
    con.execute("SELECT x + 1 AS y FROM t").df()
    con.close()
    frame_files.write_frame(pd.DataFrame({"x": range(1000)}), work / "warm.parquet")
    frame_files.read_frame(work / "warm.parquet")


def child(rows: int, budget: str, kind: str) -> None:
    sys.path.insert(0, str(ROOT))
    from osiris_tui.cache_cli import parse_size
    from osiris_tui.drivers.registry import default_registry
    from osiris_tui.manifest import load_pipeline
    from osiris_tui.runtime.checkpoints import CheckpointStore, SessionCheckpoints
    from osiris_tui.runtime.connections import Connections
    from osiris_tui.runtime.session import DebugSession, RunState

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "m.yaml").write_text(manifest(rows) if kind == "duckdb" else pandas_manifest(rows))
        registry = default_registry()
        registry.register("bench.make", Make)
        registry.register("bench.add_one", AddOne)
        session = DebugSession(load_pipeline(work / "m.yaml", drivers=registry.names()), registry=registry,
                               connections=Connections(None, {}),
                               run_dir=work / "run", memory_budget=None if budget == "none" else
                               parse_size(budget, "--budget"),
                               checkpoints=SessionCheckpoints(CheckpointStore(work / "ck"), reuse=False))
        session.start()
        warm_up(work)
        before = rss()
        started = time.perf_counter()
        session.continue_()
        session.wait_until(lambda s: s.run_state in (RunState.FINISHED, RunState.FAILED) and s.idle, 600)
        assert session.checkpoints is not None
        session.checkpoints.writer.wait(600)
        seconds = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        assert session.run_state is RunState.FINISHED, session.statuses()
        largest = max(session.output_nbytes(f"s{i}") or 0 for i in range(5))
        resident = [f"s{i}" for i in range(5) if not session.prepared.cache.is_spilled(f"s{i}")]
        session.close()
    print(json.dumps({"peak": peak - before, "largest": largest, "seconds": seconds, "resident": resident}))


def measure(rows: int, budget: str, kind: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", "--rows", str(rows), "--budget", budget,
                          "--steps", kind],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def mb(n: float) -> str:
    return f"{n / 1024**2:,.0f} MB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--budget", default="256MB")
    parser.add_argument("--steps", choices=("pandas", "duckdb", "both"), default="both")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.rows, args.budget, args.steps)
        return
    sys.path.insert(0, str(ROOT))
    from osiris_tui.cache_cli import parse_size

    budget = parse_size(args.budget, "--budget")
    for kind in ("pandas", "duckdb") if args.steps == "both" else (args.steps,):
        without = measure(args.rows, "none", kind)
        within = measure(args.rows, args.budget, kind)
        limit = budget + 2 * within["largest"]
        print(f"{kind}: 5 steps x {args.rows:,} rows, largest frame {mb(within['largest'])}")
        for name, case in (("no budget", without), (f"budget {args.budget}", within)):
            print(f"  {name:<16}: peak {mb(case['peak']):>9}  ({case['seconds']:.1f}s; in memory at the end: "
                  f"{', '.join(case['resident']) or 'none'})")
        print(f"  goal: peak <= budget + 2 x largest = {mb(limit)}: {'met' if within['peak'] <= limit else 'NOT met'};"
              f" with/without budget {within['peak'] / without['peak']:.2f}")


if __name__ == "__main__":
    main()
