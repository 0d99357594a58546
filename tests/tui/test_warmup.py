"""Paint first, import later: the app opens without pandas, pyarrow or DuckDB, loads them after the first
paint, and keys pressed before they are there are queued, never lost (the warm-up is made slow here)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

from osiris_tui.runtime.session import StepState
from osiris_tui.tui.app import DebuggerApp
from osiris_tui.tui.warmup import PendingView, Warmup
from tests.tui.app_support import QUICKSTART, copy_quickstart, quickstart_session, settle, wait_loaded, wait_session

SIZE = (100, 30)
ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("pandas", "pyarrow", "duckdb", "numpy", "textual_fastdatatable")


class GatedWarmup(Warmup):
    """A warm-up that has work to do and does it only once the test opens its gate."""

    gate: threading.Event

    def pending(self) -> bool:
        return True

    def load(self) -> None:
        assert self.gate.wait(60), "the test never opened the gate"
        super().load()


def gated_app(session, gate: threading.Event) -> DebuggerApp:
    class Warmup_(GatedWarmup):
        pass

    Warmup_.gate = gate

    class App_(DebuggerApp):
        WARMUP = Warmup_

    return App_(session)


def fresh_python(code: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=120)


def test_importing_the_app_imports_no_pandas_pyarrow_or_duckdb(tmp_path: Path) -> None:
    result = fresh_python(f"""
        import sys
        from pathlib import Path
        import osiris_tui.tui.app
        from osiris_tui.manifest import load_pipeline
        from osiris_tui.runtime.session import DebugSession
        pipeline = load_pipeline({str(QUICKSTART / "manifest.yaml")!r})
        session = DebugSession(pipeline, run_dir=Path({str(tmp_path / "run")!r}))
        app = osiris_tui.tui.app.DebuggerApp(session)
        print(",".join(m for m in {HEAVY!r} if m in sys.modules))
    """, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""  # none of them imported by the app, the manifest or the session


def test_a_headless_run_imports_only_the_drivers_its_steps_use(tmp_path: Path) -> None:
    manifest = copy_quickstart(tmp_path)
    result = fresh_python(f"""
        import sys
        from osiris_tui.cli import main
        code = main(["run", {str(manifest)!r}, "--run-dir", {str(tmp_path / "run")!r}])
        print("exit", code, file=sys.stderr)
        print(",".join(sorted(m for m in sys.modules if m.startswith("osiris_tui.drivers.")
                              or m.split(".")[0] in ("textual", "pymysql", "connectorx", "supabase", "psycopg"))))
    """, tmp_path)
    assert "exit 0" in result.stderr, result.stderr
    loaded = set(result.stdout.strip().split(","))
    assert {"osiris_tui.drivers.filesystem", "osiris_tui.drivers.duckdb_processor"} <= loaded
    assert not {m for m in loaded if "mysql" in m or "supabase" in m or m.split(".")[0] == "textual"}, loaded


def test_the_warmup_and_a_step_importing_at_once(tmp_path: Path) -> None:
    """A fresh interpreter, thread switches as often as possible: the warm-up and the first step import
    pandas, DuckDB and the drivers at the same time, and both end well."""
    result = fresh_python(f"""
        import sys, threading
        from pathlib import Path
        sys.setswitchinterval(1e-6)
        from osiris_tui.manifest import load_pipeline
        from osiris_tui.runtime.session import DebugSession, StepState
        from osiris_tui.tui.warmup import Warmup
        pipeline = load_pipeline({str(copy_quickstart(tmp_path))!r})
        session = DebugSession(pipeline, run_dir=Path({str(tmp_path / "run")!r}))
        warmup = Warmup(session.registry, [s.driver for s in session.pipeline.steps])
        done = threading.Event()
        session.start().continue_()
        warmup.start(lambda errors: (print("errors", errors), done.set()))
        assert done.wait(120) and warmup.ready
        assert session.wait_until(lambda s: s.idle and s.next_step_id() is None, 120), session.statuses()
        sys.setswitchinterval(0.005)
        print("states", sorted({{str(s.state) for s in session.statuses()}}))
        session.close()
    """, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "errors []" in result.stdout and "states ['done']" in result.stdout, result.stdout


async def test_c_pressed_before_the_libraries_load_runs_once_they_have(tmp_path: Path) -> None:
    gate = threading.Event()
    app = gated_app(quickstart_session(tmp_path), gate)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            assert not app.warmup.ready and isinstance(app.tabs.views["data"], PendingView)
            assert app.step_list.is_mounted  # the first screen is up
            await pilot.press("c")
            # The first step starts and waits for the warm-up's imports (it never runs alongside them).
            assert await asyncio.to_thread(app.session.wait_until,
                                           lambda s: s.status("extract-orders").state is StepState.RUNNING, 30)
            assert app.session.status("extract-orders").state is StepState.RUNNING
            gate.set()
            await wait_loaded(pilot)
            await wait_session(pilot, lambda s: s.next_step_id() is None)
            assert {str(s.state) for s in app.session.statuses()} == {"done"}
            assert not isinstance(app.tabs.views["data"], PendingView) and app.data_view.is_mounted
    finally:
        gate.set()


async def test_data_keys_pressed_while_loading_are_queued_and_run_in_order(tmp_path: Path) -> None:
    session = quickstart_session(tmp_path)
    session.start().continue_()
    assert session.wait_until(lambda s: s.idle and s.next_step_id() is None, 60)
    gate = threading.Event()
    app = gated_app(session, gate)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            assert app.selected_step_id == "extract-orders"
            await pilot.press("d")  # describe: needs the Data tab's view, which is still loading
            await pilot.press("4")  # the Events tab: shown now, its view mounted once loaded
            await pilot.pause()
            assert "data_view" not in app.__dict__ and isinstance(app.tabs.views["data"], PendingView)
            assert app.tabs.active == "events" and "event_log" not in app.__dict__
            gate.set()
            await settle(pilot)
            assert app.event_log.is_mounted and app.event_log.display
            assert app.data_view.is_mounted and app.data_view.mode == "describe"  # d, as pressed on the Data tab
            await pilot.press("1")
            await settle(pilot)
            assert app.data_view.display and app.data_view.mode == "describe"
    finally:
        gate.set()


async def test_keys_that_need_nothing_loading_work_at_once(tmp_path: Path) -> None:
    gate = threading.Event()
    app = gated_app(quickstart_session(tmp_path), gate)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await pilot.press("down", "b")  # move, toggle a breakpoint
            await pilot.pause()
            assert app.selected_step_id == "extract-customers"
            assert app.session.breakpoints == {"extract-customers"}
            await pilot.press("question_mark")
            await pilot.pause()
            assert type(app.screen).__name__ == "HelpScreen"
            assert not app.warmup.ready
    finally:
        gate.set()
