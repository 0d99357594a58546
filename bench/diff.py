"""`osiris-tui diff` on two 1M-row Parquet outputs with 1% of rows changed, by key.

Goal (issue 10): at most 2 s for the whole command, with exact counts. Prints the whole process's time
(`osiris-tui diff A B --key id`, a new interpreter), the engine's alone (`frames.diff.diff` on tables
already read), and, as the baseline measured in the same run, the time to read both files with pyarrow.
The whole process's CPU time is printed too (user + system of the child, the mean of the runs): on a
busy machine the wall time says more about the others' load than about the command. Twice: B in A's
row order (a re-run of a query that orders by its key: rows are matched by position),
and B shuffled (rows are matched by a hash join on the key).

    PYTHONPATH=. python bench/diff.py [--rows 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import decimal
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parents[1]


def frames(rows: int, changed: float = 0.01, seed: int = 7) -> tuple[pa.Table, pa.Table, int]:
    """A (an output as a step writes it) and B: `changed` of its rows with one value changed."""
    rng = np.random.default_rng(seed)
    ids = np.arange(rows, dtype=np.int64)
    amount = np.round(rng.random(rows) * 1000, 2)
    qty = rng.integers(0, 100, rows)
    names = np.array(["alpha", "beta", "gamma", "delta"])[rng.integers(0, 4, rows)]
    ts = pa.array(1_700_000_000_000_000 + ids * 1_000_003, pa.timestamp("us"))
    price = pa.array([decimal.Decimal(int(v)).scaleb(-2) for v in rng.integers(0, 10**6, 1000)] * (rows // 1000),
                     pa.decimal128(12, 2))
    a = pa.table({"id": ids, "amount": amount, "qty": qty, "name": names, "ts": ts, "price": price})
    hit = rng.choice(rows, int(rows * changed), replace=False)
    amount_b = amount.copy()
    amount_b[hit] += 0.01
    b = a.set_column(1, "amount", pa.array(amount_b))
    return a, b, len(hit)


def child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from osiris_tui.frames.diff import diff

    a, b, expected = frames(args.rows)
    shuffled = b.take(pa.array(np.random.default_rng(3).permutation(b.num_rows)))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    print(f"rows: {args.rows:,} each, {expected:,} changed (by key id), best of {args.repeat}")
    with tempfile.TemporaryDirectory() as tmp:
        pa_path = Path(tmp) / "a.parquet"
        pq.write_table(a, pa_path)
        for label, other in (("B in key order", b), ("B shuffled", shuffled)):
            pb_path = Path(tmp) / "b.parquet"
            pq.write_table(other, pb_path)
            read = best(lambda: (pq.read_table(pa_path), pq.read_table(pb_path)), args.repeat)  # noqa: B023
            result = diff(a, other, ["id"])
            assert (result.changed, result.added, result.removed) == (expected, 0, 0), result.summary()
            assert result.cells["amount"] == expected and sum(result.cells.values()) == expected
            engine = best(lambda: diff(a, other, ["id"]), args.repeat)  # noqa: B023
            command = [sys.executable, "-m", "osiris_tui", "diff", str(pa_path), str(pb_path), "--key", "id"]
            done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
            assert done.returncode == 1, done.stderr
            assert f"{expected:,} changed" in done.stdout, done.stdout
            cpu = child_cpu()
            whole = best(lambda: subprocess.run(command, env=env, capture_output=True, check=False),  # noqa: B023
                         args.repeat)
            cpu = (child_cpu() - cpu) / args.repeat
            print(f"{label}:")
            print(f"  read both files (baseline): {read:.3f} s")
            print(f"  engine (frames.diff.diff on tables in memory): {engine:.3f} s ({engine / read:.1f}x the read)")
            print(f"  osiris-tui diff A B --key id (whole process): {whole:.3f} s ({whole / read:.1f}x the read), "
                  f"goal <= 2 s: {'met' if whole <= 2 else 'NOT met'}; CPU time {cpu:.3f} s per run "
                  f"(user + system, a figure the other load on the machine changes less)")


if __name__ == "__main__":
    main()
