"""Time to first paint of the DebuggerApp (quickstart) vs a bare Textual app painting one static screen.

Both run headless through `run_test` in this process, N times each (interleaved); medians are compared.
Also: import time of the app module vs `textual.app` (fresh interpreters).

    .venv/bin/python bench/tui_startup.py [-n 15]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from textual.app import App, ComposeResult
from textual.widgets import Footer, Header, Static

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from osiris_tui.manifest import load_pipeline  # noqa: E402
from osiris_tui.runtime.session import DebugSession  # noqa: E402
from osiris_tui.tui.app import DebuggerApp  # noqa: E402

MANIFEST = ROOT / "sample_manifests" / "quickstart" / "manifest.yaml"
SIZE = (120, 36)


class BareApp(App[None]):
    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("hello " * 200)
        yield Footer()


async def first_paint(make_app) -> float:
    start = time.perf_counter()
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()  # mounted, laid out and painted once
        elapsed = time.perf_counter() - start
    return elapsed


def make_debugger(run_root: Path, *, with_session: bool):
    def build():
        pipeline = load_pipeline(MANIFEST)
        return DebuggerApp(DebugSession(pipeline, run_dir=run_root / f"run-{time.perf_counter_ns()}"))

    if with_session:
        return build
    app = build()  # session built outside the timed region
    return lambda: app


def import_time(module: str) -> float:
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    runs = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                                 cwd=ROOT).stdout) for _ in range(5)]
    return statistics.median(runs)


async def main(n: int) -> None:
    bare: list[float] = []
    app_only: list[float] = []
    with_load: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        await first_paint(BareApp)  # warm caches (CSS parsing, imports) for both sides
        await first_paint(make_debugger(root, with_session=False))
        for _ in range(n):
            bare.append(await first_paint(BareApp))
            app_only.append(await first_paint(make_debugger(root, with_session=False)))
            with_load.append(await first_paint(make_debugger(root, with_session=True)))
    b, a, w = (statistics.median(x) for x in (bare, app_only, with_load))
    print(f"first paint, median of {n} (headless, {SIZE[0]}x{SIZE[1]}):")
    print(f"  bare Textual app (baseline)          {b * 1000:8.1f} ms")
    print(f"  DebuggerApp (session prebuilt)       {a * 1000:8.1f} ms   ratio {a / b:.2f}  (goal <= 1.5)")
    print(f"  DebuggerApp + load manifest/session  {w * 1000:8.1f} ms   ratio {w / b:.2f}")
    ti_textual = import_time("textual.app")
    ti_app = import_time("osiris_tui.tui.app")
    print("import time, median of 5 fresh interpreters:")
    print(f"  textual.app (baseline)               {ti_textual * 1000:8.1f} ms")
    print(f"  osiris_tui.tui.app                   {ti_app * 1000:8.1f} ms   ratio {ti_app / ti_textual:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=15)
    asyncio.run(main(parser.parse_args().n))
