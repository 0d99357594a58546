"""Time to first paint of the DebuggerApp (quickstart) vs a bare Textual app painting one static screen.

Three figures:

* whole process, in a real terminal (tmux): from the command to the step list on screen
  (`osiris-tui sample_manifests/quickstart/manifest.yaml`, polled with `tmux capture-pane` until its last
  step is there) against a bare Textual app that paints one line, fresh processes alternating, median of
  `--whole` (default 5). Goal: ratio <= 1.3. Skipped when tmux is not installed.
* in process, headless through `run_test`, N times each (interleaved); medians are compared.
* import time of the app module vs `textual.app` (fresh interpreters).

    .venv/bin/python bench/tui_startup.py [-n 15] [--whole 5]
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import os
import shutil
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


BARE_SCRIPT = """
from textual.app import App, ComposeResult
from textual.widgets import Static

class Bare(App):
    def compose(self) -> ComposeResult:
        yield Static("bare app ready")

Bare().run()
"""
TMUX = ["tmux", "-L", "osiris-tui-bench"]


def _tmux(*args: str) -> str:
    return subprocess.run([*TMUX, *args], capture_output=True, text=True, check=False).stdout


def painted_in_tmux(command: list[str], marker: str, cwd: Path, timeout: float = 60.0) -> float:
    """Seconds from starting `command` in a new tmux session until `marker` is on its screen."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    shell = " ".join(f"{k}={v!r}" for k, v in env.items() if k == "PYTHONPATH") + " exec " + " ".join(
        f"'{part}'" for part in command)
    start = time.perf_counter()
    subprocess.run([*TMUX, "new-session", "-d", "-s", "run", "-x", str(SIZE[0]), "-y", str(SIZE[1]),
                    "-c", str(cwd), shell], check=True)
    try:
        while time.perf_counter() - start < timeout:
            if marker in _tmux("capture-pane", "-p", "-t", "run"):
                return time.perf_counter() - start
            time.sleep(0.005)
        raise TimeoutError(f"{marker!r} never appeared: {_tmux('capture-pane', '-p', '-t', 'run')}")
    finally:
        _tmux("kill-session", "-t", "run")


def whole_process(n: int) -> None:
    if shutil.which("tmux") is None:
        print("whole process in tmux: skipped (tmux is not installed)")
        return
    # Byte-compiled as `pip install` leaves it (a checkout run with PYTHONDONTWRITEBYTECODE would compile
    # every module on every start, which Textual, installed, never does).
    compileall.compile_dir(ROOT / "osiris_tui", quiet=1)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "bare.py").write_text(BARE_SCRIPT)
        _tmux("kill-server")
        subprocess.run([*TMUX, "new-session", "-d", "-s", "keep"], check=True)  # the server stays up
        try:
            bare_cmd = [sys.executable, str(work / "bare.py")]
            tool_cmd = [sys.executable, "-m", "osiris_tui", str(MANIFEST), "--run-dir", str(work / "run")]
            painted_in_tmux(bare_cmd, "bare app ready", work)  # warm the page cache for both
            painted_in_tmux(tool_cmd, "save-revenue", work)
            bare, tool = [], []
            for _ in range(n):
                bare.append(painted_in_tmux(bare_cmd, "bare app ready", work))
                tool.append(painted_in_tmux(tool_cmd, "save-revenue", work))
        finally:
            _tmux("kill-server")
    b, t = statistics.median(bare), statistics.median(tool)
    print(f"whole process in tmux ({SIZE[0]}x{SIZE[1]}), command to screen, median of {n}:")
    print(f"  bare Textual app painting one line   {b * 1000:8.1f} ms")
    print(f"  osiris-tui quickstart: step list     {t * 1000:8.1f} ms   ratio {t / b:.2f}  (goal <= 1.3)")


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
    parser.add_argument("--whole", type=int, default=5, help="whole-process runs in tmux (0: skip)")
    options = parser.parse_args()
    if options.whole:
        whole_process(options.whole)
    if options.n:
        asyncio.run(main(options.n))
