"""How fast a YAML alias bomb ("billion laughs") is refused, next to loading ordinary manifests.

The bomb is nine levels of nine aliases (9**9 ≈ 387 million strings once expanded) in about 500 bytes,
used as a step's config. Unbounded, building and walking it takes minutes and gigabytes; the loader's event
scan refuses it as soon as the aliases would add more than `MAX_ALIAS_NODES` nodes. Each load runs in this
process, repeated, and the median is printed.

    python bench/alias_bomb.py [--repeat 20]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from osiris_tui.errors import InputError  # noqa: E402
from osiris_tui.manifest import load_pipeline, yamlio  # noqa: E402

DRIVERS = ["duckdb.processor", "filesystem.csv_extractor", "filesystem.csv_writer", "mysql.extractor",
           "mysql.writer", "supabase.extractor", "supabase.writer"]
NORMAL = [ROOT / "sample_manifests" / "quickstart" / "manifest.yaml",
          ROOT / "sample_manifests" / "osiris_compiled" / "manifest.yaml",
          ROOT / "sample_manifests" / "oml_params" / "orders_report.yaml"]


def alias_bomb() -> str:
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for prev, cur in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{cur}: &{cur} [" + ", ".join([f"*{prev}"] * 9) + "]")
    lines += ["steps:", "  - id: a", "    driver: duckdb.processor", "    config: {query: *i}"]
    return "\n".join(lines) + "\n"


def median_ms(call: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        bomb = Path(tmp) / "bomb.yaml"
        bomb.write_text(alias_bomb())

        def refuse() -> None:
            try:
                load_pipeline(bomb, drivers=DRIVERS, env={})
            except InputError as exc:
                refuse.message = exc.render()  # type: ignore[attr-defined]
            else:
                raise SystemExit("the alias bomb was loaded")

        refuse_ms = median_ms(refuse, args.repeat)
        print(f"alias bomb: {bomb.stat().st_size} bytes, 9**9 = {9**9:,} strings if expanded")
        print(f"  refused in {refuse_ms:.2f} ms (median of {args.repeat})")
        print(f"  limits: {yamlio.MAX_ALIAS_NODES:,} alias-expanded nodes, {yamlio.MAX_ALIASES:,} alias uses,"
              f" {yamlio.MAX_NODES:,} nodes, depth {yamlio.MAX_DEPTH}")
        print(f"  message: {refuse.message}")  # type: ignore[attr-defined]
    for path in NORMAL:
        ms = median_ms(partial(load_pipeline, path, drivers=DRIVERS, env={}), args.repeat)
        print(f"normal manifest {path.relative_to(ROOT)} ({path.stat().st_size} bytes): loaded in {ms:.2f} ms")


if __name__ == "__main__":
    main()
