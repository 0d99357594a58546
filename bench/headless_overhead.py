"""Overhead of `osiris-tui run` over a plain pandas + DuckDB script doing the same work.

The quickstart pipeline scaled to N orders (default 1,000,000): read two CSVs, DuckDB join + aggregate,
write a CSV. Both sides run as fresh processes (interpreter start and imports included), alternating,
and the medians are compared. Goal: ratio ≤ 1.05 at 2M rows.

    python bench/headless_overhead.py [--rows 1000000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUICKSTART = ROOT / "sample_manifests" / "quickstart"

BASELINE = '''
import sys, duckdb, pandas as pd, yaml
from pathlib import Path
work = Path(sys.argv[1])
manifest = yaml.safe_load((work / "manifest.yaml").read_text())
query = next(s for s in manifest["steps"] if s["id"] == "revenue")["config"]["query"]
orders = pd.read_csv(work / "data/orders.csv", parse_dates=["order_date"])
customers = pd.read_csv(work / "data/customers.csv")
con = duckdb.connect()
con.register("df_extract_orders", orders)
con.register("df_extract_customers", customers)
df = con.execute(query).df()
out = work / "out/revenue_by_country.csv"
out.parent.mkdir(exist_ok=True)
df[sorted(df.columns)].to_csv(out, index=False)
'''


def make_data(work: Path, rows: int) -> None:
    shutil.copytree(QUICKSTART, work, ignore=shutil.ignore_patterns("out", "orders.csv"))
    rng = random.Random(3)
    statuses = ["paid"] * 7 + ["refunded", "cancelled", "pending"]
    with open(work / "data" / "orders.csv", "w") as fh:
        fh.write("order_id,customer_id,order_date,status,amount,currency\n")
        for i in range(rows):
            fh.write(f"{i},{rng.randint(1, 300)},2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d},"
                     f"{rng.choice(statuses)},{rng.randint(100, 99999) / 100},EUR\n")


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "quickstart"
        make_data(work, args.rows)
        tool = [sys.executable, "-m", "osiris_tui", "run", str(work / "manifest.yaml"), "--run-dir", f"{tmp}/run"]
        base = [sys.executable, "-c", BASELINE, str(work)]
        timed(tool), timed(base)  # warm the page cache
        tool_times, base_times = [], []
        for _ in range(args.repeat):
            tool_times.append(timed(tool))
            base_times.append(timed(base))
    t, b = statistics.median(tool_times), statistics.median(base_times)
    print(f"rows: {args.rows:,}  repeats: {args.repeat}")
    print(f"plain pandas + DuckDB script: {b:.3f} s (median)")
    print(f"osiris-tui run:               {t:.3f} s (median)")
    print(f"ratio: {t / b:.3f}  (goal <= 1.05)")


if __name__ == "__main__":
    main()
