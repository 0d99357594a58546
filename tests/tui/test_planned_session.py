"""The command paints before it builds the session: the app is given a `SessionPlan` (pipeline, registry,
how to build the rest), paints the step list, then builds the session in the background. Keys pressed
before it is built wait and run once it is; quitting meanwhile closes the session that comes; a build
that fails ends the app with exit 2 and the error."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from osiris_tui.drivers.registry import default_registry
from osiris_tui.errors import InputError
from osiris_tui.manifest import load_pipeline
from osiris_tui.runtime.plan import SessionPlan
from osiris_tui.runtime.session import DebugSession, RunState, StepState
from osiris_tui.tui.app import DebuggerApp
from tests.tui.app_support import QUICKSTART, copy_quickstart, wait_loaded, wait_session
from tests.tui.test_warmup import fresh_python

SIZE = (100, 30)


def gated_plan(root: Path, gate: threading.Event, built: list[DebugSession]) -> SessionPlan:
    manifest = copy_quickstart(root)
    pipeline = load_pipeline(manifest)
    registry = default_registry()

    def build() -> DebugSession:
        assert gate.wait(60), "the test never opened the gate"
        session = DebugSession(pipeline, registry=registry, run_dir=root / "run",
                               reload=lambda: load_pipeline(manifest))
        built.append(session)
        return session

    return SessionPlan(pipeline, registry, build)


def gated_app(root: Path, app_class: type[DebuggerApp] = DebuggerApp
              ) -> tuple[DebuggerApp, threading.Event, list[DebugSession]]:
    """An app given a plan whose session is built only once the gate opens (and, built, listed)."""
    gate = threading.Event()
    built: list[DebugSession] = []
    return app_class(gated_plan(root, gate, built)), gate, built


def test_the_first_screen_needs_none_of_the_runtime(tmp_path: Path) -> None:
    """What the command imports before the app paints: no session, executor, checkpoints or cache."""
    result = fresh_python(f"""
        import sys
        from osiris_tui.cli import _session_plan, app_parser
        from osiris_tui.tui.app import DebuggerApp
        args = app_parser().parse_args([{str(QUICKSTART / "manifest.yaml")!r}, "--run-dir", {str(tmp_path)!r}])
        app = DebuggerApp(_session_plan(args))
        runtime = ("session", "local_adapter", "checkpoints", "cache", "context", "executor", "worker",
                   "staleness")
        print(",".join(m for m in runtime if "osiris_tui.runtime." + m in sys.modules))
    """, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


async def test_keys_pressed_before_the_session_is_built_run_once_it_is(tmp_path: Path) -> None:
    app, gate, built = gated_app(tmp_path)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            assert not app.session_ready and app.step_list.is_mounted  # painted, the session still to come
            assert "extract-orders" in app.step_list.render_line(0).text
            await pilot.press("down", "b", "4")  # select, toggle a breakpoint, the Events tab
            await pilot.pause()
            assert app.tabs.active == "events"  # (a tab switch needs no session)
            assert not app.session_ready and not built
            gate.set()
            await wait_loaded(pilot)
            assert app.session_ready and app.selected_step_id == "extract-customers"
            assert app.session.breakpoints == {"extract-customers"}  # b, on the step selected then
            await pilot.press("c")
            await wait_session(pilot, lambda s: s.run_state is RunState.PAUSED)
            assert app.session.next_step_id() == "extract-customers"
            assert app.session.status("extract-orders").state is StepState.DONE
    finally:
        gate.set()


async def test_quitting_before_the_session_is_built_closes_it_when_it_comes(tmp_path: Path) -> None:
    app, gate, built = gated_app(tmp_path)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await pilot.press("q")  # nothing runs: quits at once, the session still being built
            assert not built
            gate.set()  # quitting waits for it (a moment), and it is closed as soon as it comes
        assert app.return_code == 0
    finally:
        gate.set()
    assert len(built) == 1 and built[0].run_state is RunState.CLOSED
    events = (tmp_path / "run" / "events.jsonl").read_text()
    assert '"run_start"' in events and '"run_end"' in events  # the run ends as any other


async def test_a_session_that_cannot_be_built_ends_the_app_with_exit_2(tmp_path: Path) -> None:
    pipeline = load_pipeline(copy_quickstart(tmp_path))

    def build() -> DebugSession:
        raise InputError("cannot create the run directory /nope", hint="pass --run-dir a directory you can write to")

    app = DebuggerApp(SessionPlan(pipeline, default_registry(), build))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        thread = app.warmup._thread
        assert thread is not None
        await asyncio.to_thread(thread.join, 30)
        await pilot.pause()
    assert app.return_code == 2
    assert isinstance(app.load_error, InputError) and "/nope" in app.load_error.render()


async def test_keys_pressed_before_the_tabs_are_there_wait_for_them(tmp_path: Path) -> None:
    """The first screen is the header, the steps and the keys; the tabs come just after it is painted."""
    class HeldApp(DebuggerApp):
        def _start_warmup(self, refreshes: int = 0) -> None:  # the test starts it
            pass

    app, gate, _ = gated_app(tmp_path, HeldApp)
    app.WARMUP_FALLBACK_SECONDS = 3600
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            assert not app.pane_ready and not app.query("#right-pane")
            assert "extract-orders" in app.step_list.render_line(0).text  # the steps are painted
            await pilot.press("4", "b")
            await pilot.pause()
            assert not app.pane_ready
            app._begin_warmup()
            gate.set()
            await wait_loaded(pilot)
            assert app.pane_ready and app.tabs.active == "events"
            # styled by views.tcss, read when the tabs were built
            assert str(app.query_one("#right-pane").styles.width) == "1fr"
            assert app.query_one("#right-pane").region.x == app.step_list.region.right
            assert app.session.breakpoints == {"extract-orders"}
    finally:
        gate.set()
