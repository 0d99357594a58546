"""DebuggerApp driven by its keys (Pilot), waiting on session state — never on time."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console
from textual.command import CommandPalette
from textual.widgets import Input

from osiris_tui.manifest import load_pipeline
from osiris_tui.manifest.model import Step
from osiris_tui.runtime.session import DebugSession, RunState, StepState
from osiris_tui.tui.app import DebuggerApp
from osiris_tui.tui.commands import KEYS
from osiris_tui.tui.screens.confirm_stop import ConfirmQuit
from osiris_tui.tui.screens.help import HelpScreen, help_table
from osiris_tui.tui.widgets.error_panel import HINT
from osiris_tui.tui.widgets.tabs import TabView

try:
    from tests.tui.app_support import (
        Gate,
        quickstart_session,
        session_for,
        settle,
        states,
        wait_running,
        wait_session,
    )
except ImportError:  # tests/tui is not a package: pytest put this directory on sys.path
    from app_support import (  # type: ignore[no-redef]
        Gate,
        quickstart_session,
        session_for,
        settle,
        states,
        wait_running,
        wait_session,
    )

SIZE = (120, 36)
QUICKSTART_IDS = ["extract-orders", "extract-customers", "revenue", "save-revenue"]


def done(*ids: str):
    return lambda s: all(s.status(i).state is StepState.DONE for i in ids)


# -- first screen ------------------------------------------------------------------------------------
async def test_first_screen_lists_steps_and_selects_the_first(tmp_path: Path) -> None:
    session = quickstart_session(tmp_path)
    app = DebuggerApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.step_list.step_ids == QUICKSTART_IDS
        assert app.selected_step_id == "extract-orders"
        assert session.status("extract-orders").state is StepState.PAUSED
        assert app.title == "quickstart-orders"
        assert "ready before extract-orders" in app.sub_title
        assert app.data_view.message.startswith("not run yet")
        assert app.query_one("#tabs", TabView).active == "data"
        assert not app.error_panel.display
    assert session.run_state is RunState.CLOSED  # the app closed the session on exit


async def test_run_flag_continues_on_mount(tmp_path: Path) -> None:
    session = quickstart_session(tmp_path)
    app = DebuggerApp(session, run=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_session(pilot, lambda s: s.run_state is RunState.FINISHED)
        assert "finished" in app.sub_title
        assert app.selected_step_id == "save-revenue"  # the selection followed the run
        # a writer shows what it wrote (its input)
        assert app.data_view.table is not None
        assert app.data_view.table.row_count == session.status("revenue").rows


# -- stepping ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("key", ["n", "f10"])
async def test_step_runs_one_step_and_shows_its_data(tmp_path: Path, key: str) -> None:
    session = quickstart_session(tmp_path)
    app = DebuggerApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press(key)
        await wait_session(pilot, done("extract-orders"))
        assert states(session)["extract-customers"] == "paused"
        assert app.selected_step_id == "extract-orders"
        table = app.data_view.table
        assert table is not None and table.row_count == 5000
        await pilot.press(key)
        await wait_session(pilot, done("extract-customers"))
        assert app.selected_step_id == "extract-customers"
        assert app.data_view.table is not None and app.data_view.table.row_count == 300


@pytest.mark.parametrize("key", ["c", "f5"])
async def test_breakpoint_then_continue(tmp_path: Path, key: str) -> None:
    session = quickstart_session(tmp_path)
    app = DebuggerApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("down", "down")
        assert app.selected_step_id == "revenue"
        await pilot.press("b")
        assert session.breakpoints == {"revenue"}
        await pilot.press(key)
        await wait_session(pilot, lambda s: s.status("revenue").state is StepState.PAUSED
                           and s.run_state is RunState.PAUSED)
        assert states(session) == {"extract-orders": "done", "extract-customers": "done",
                                   "revenue": "paused", "save-revenue": "pending"}
        assert "paused before revenue" in app.sub_title
        await pilot.press(key)
        await wait_session(pilot, lambda s: s.run_state is RunState.FINISHED)
        assert all(v == "done" for v in states(session).values())


async def test_f9_toggles_a_breakpoint_on_and_off(tmp_path: Path) -> None:
    session = quickstart_session(tmp_path)
    app = DebuggerApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("down", "f9")
        assert session.breakpoints == {"extract-customers"}
        assert "1 breakpoint" in app.sub_title
        await pilot.press("f9")
        assert session.breakpoints == set()


async def test_run_to_selected_step(tmp_path: Path) -> None:
    session = quickstart_session(tmp_path)
    app = DebuggerApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("end")  # OptionList: last step
        assert app.selected_step_id == "save-revenue"
        await pilot.press("t")
        await wait_session(pilot, done("revenue"))
        assert states(session)["save-revenue"] == "paused"
        assert session.run_state is RunState.PAUSED


async def test_mouse_selects_a_step(tmp_path: Path) -> None:
    session = quickstart_session(tmp_path)
    app = DebuggerApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        # each step takes 2 lines, plus its needs and what needs it: both extracts take 3 (→ revenue),
        # so the third step starts on line 6, under the border's line
        await pilot.click("#steps", offset=(6, 1 + 6))
        await settle(pilot)
        assert app.selected_step_id == "revenue"


# -- while a step runs -------------------------------------------------------------------------------
def slow_steps() -> list[Step]:
    return [
        Step("slow", "test.blocking", {}),
        Step("after", "test.range", {"rows": 5}, needs=["slow"]),
        Step("last", "test.range", {"rows": 3}, needs=["after"]),
    ]


async def test_keys_keep_working_during_a_long_step(tmp_path: Path) -> None:
    gate = Gate()
    session = session_for(tmp_path, slow_steps(), gate)
    app = DebuggerApp(session)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("c")
            await wait_running(pilot, gate, "slow")
            assert app.selected_step_id == "slow"
            assert app.data_view.message == "running…"
            assert "running slow" in app.sub_title
            tabs = app.query_one("#tabs", TabView)
            for key, tab in zip("23451", ["config", "connection", "events", "metrics", "data"], strict=True):
                await pilot.press(key)
                assert tabs.active == tab
            start, _ = tabs.strip.span("metrics")
            await pilot.click(tabs.strip, offset=(start + 2, 0))  # the mouse selects tabs too
            assert tabs.active == "metrics"
            await pilot.press("1", "escape", "down")  # escape: back to the step list
            assert app.selected_step_id == "after"
            await pilot.press("b")
            assert session.breakpoints == {"after"}
            await pilot.press("question_mark")
            assert isinstance(app.screen, HelpScreen)
            await pilot.press("escape")
            assert not isinstance(app.screen, HelpScreen)
            assert session.status("slow").state is StepState.RUNNING  # all of that while it ran
            gate.release.set()
            await wait_session(pilot, lambda s: s.status("after").state is StepState.PAUSED)
            assert states(session) == {"slow": "done", "after": "paused", "last": "pending"}
    finally:
        gate.release.set()


async def test_pause_stops_after_the_running_step(tmp_path: Path) -> None:
    gate = Gate()
    session = session_for(tmp_path, slow_steps(), gate)
    app = DebuggerApp(session)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("c")
            await wait_running(pilot, gate, "slow")
            await pilot.press("p")
            gate.release.set()
            await wait_session(pilot, done("slow"))
            assert session.run_state is RunState.PAUSED
            assert states(session) == {"slow": "done", "after": "paused", "last": "pending"}
    finally:
        gate.release.set()


async def test_quit_while_a_step_runs_asks_first(tmp_path: Path) -> None:
    gate = Gate()
    session = session_for(tmp_path, slow_steps(), gate)
    app = DebuggerApp(session)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("n")
            await wait_running(pilot, gate, "slow")
            await pilot.press("q")
            assert isinstance(app.screen, ConfirmQuit)
            assert app.screen.running_step == "slow"
            await pilot.press("n")  # stay
            assert not isinstance(app.screen, ConfirmQuit)
            assert app.is_running
            await pilot.press("n")  # the debugger's n (step) is not taken by the dialog
            await pilot.press("q")
            assert isinstance(app.screen, ConfirmQuit)
            await pilot.press("y")
            await pilot.pause()
            assert not app.is_running
    finally:
        gate.release.set()
    assert session.run_state is RunState.CLOSED


async def test_quit_when_idle_does_not_ask(tmp_path: Path) -> None:
    session = quickstart_session(tmp_path)
    app = DebuggerApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running
    assert session.run_state is RunState.CLOSED


# -- failure → fix on disk → re-run → continue -------------------------------------------------------
BAD_SQL_MANIFEST = """\
name: broken
steps:
  - id: numbers
    driver: filesystem.csv_extractor
    config:
      path: {csv}
  - id: total
    driver: duckdb.processor
    needs: [numbers]
    config:
      query: {query}
  - id: after
    driver: duckdb.processor
    needs: [total]
    config:
      query: SELECT * FROM df_total
"""


def write_broken(root: Path, query: str) -> Path:
    csv = root / "numbers.csv"
    csv.write_text("n\n1\n2\n3\n")
    manifest = root / "manifest.yaml"
    manifest.write_text(BAD_SQL_MANIFEST.format(csv=csv, query=query))
    return manifest


async def test_failure_edit_rerun_continue(tmp_path: Path) -> None:
    manifest = write_broken(tmp_path, "SELEKT sum(n) AS total FROM df_numbers")
    session = DebugSession(load_pipeline(manifest), run_dir=tmp_path / "run",
                           reload=lambda: load_pipeline(manifest))
    app = DebuggerApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await wait_session(pilot, lambda s: s.run_state is RunState.FAILED)
        assert states(session)["total"] == "failed"
        assert states(session)["after"] == "pending"
        assert app.selected_step_id == "total"
        panel = app.error_panel
        assert panel.display and panel.step_id == "total"
        assert "SELEKT" in panel.message_text or "syntax" in panel.message_text.lower()
        assert HINT == "edit the config, press r to re-run, then c to continue"
        # the Data tab shows what went into the failed step
        assert app.data_view.input_header == "failed — input df_numbers of total · 3 rows · from numbers"
        assert app.data_view.table is not None and app.data_view.table.row_count == 3
        assert "failed at total" in app.sub_title
        # move away; e jumps back to the failed step
        await pilot.press("home")
        assert app.selected_step_id == "numbers"
        assert not panel.display
        await pilot.press("e")
        await settle(pilot)
        assert app.selected_step_id == "total"
        assert panel.display
        # fix the file, re-run the step, continue
        write_broken(tmp_path, "SELECT sum(n) AS total FROM df_numbers")
        await pilot.press("r")
        await wait_session(pilot, done("total"))
        assert not panel.display
        assert app.data_view.table is not None and app.data_view.table.row_count == 1
        await pilot.press("c")
        await wait_session(pilot, lambda s: s.run_state is RunState.FINISHED)
        assert all(v == "done" for v in states(session).values())


async def test_rerun_is_refused_before_upstream_ran(tmp_path: Path) -> None:
    session = quickstart_session(tmp_path)
    app = DebuggerApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("down", "down", "r")
        await settle(pilot)
        assert session.status("revenue").runs == 0
        assert any("Cannot re-run revenue" in n.message for n in app._notifications)


async def test_rerun_a_done_step_resets_downstream(tmp_path: Path) -> None:
    session = quickstart_session(tmp_path)
    app = DebuggerApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await wait_session(pilot, lambda s: s.run_state is RunState.FINISHED)
        await pilot.press("home", "down", "down", "r")
        await wait_session(pilot, lambda s: s.status("revenue").runs == 2)
        assert states(session)["save-revenue"] == "paused"
        assert app.selected_step_id == "revenue"


async def test_restart(tmp_path: Path) -> None:
    session = quickstart_session(tmp_path, breakpoints=["revenue"])
    app = DebuggerApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await wait_session(pilot, lambda s: s.status("revenue").state is StepState.PAUSED)
        await pilot.press("R")
        await wait_session(pilot, lambda s: s.status("extract-orders").state is StepState.PAUSED
                           and s.run_state is RunState.READY)
        assert states(session) == {"extract-orders": "paused", "extract-customers": "pending",
                                   "revenue": "pending", "save-revenue": "pending"}
        assert session.breakpoints == {"revenue"}
        assert app.selected_step_id == "extract-orders"
        assert app.data_view.message.startswith("not run yet")


async def test_restart_starts_the_event_log_and_metrics_over(tmp_path: Path) -> None:
    session = quickstart_session(tmp_path)
    app = DebuggerApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("5", "4")  # both views mounted before the run
        await pilot.press("c")
        await wait_session(pilot, lambda s: s.run_state is RunState.FINISHED)
        log = app.event_log
        first_run = session.context
        assert len(log.records) == len(first_run.events) + len(first_run.metrics)
        assert any("step_complete" in e.text for e in log.records)
        assert app.metrics_view.counts.read or app.metrics_view.counts.written
        await pilot.press("R")
        await wait_session(pilot, lambda s: s.context is not first_run and s.run_state is RunState.READY
                           and any(e.get("event") == "run_restarted" for e in s.events))
        texts = [e.text for e in log.records]
        assert len(texts) == len(session.events) + len(session.metrics)  # the new run's, once each
        assert not any("step_complete" in t for t in texts)  # nothing of the first run
        assert any("run_restarted" in t for t in texts)
        assert log.shown_count == len(texts)
        assert not app.metrics_view.counts.read and not app.metrics_view.counts.written
        assert app.query_one("#tabs", TabView).active == "events"
        # the new run logs into the emptied views
        await pilot.press("n")
        await wait_session(pilot, done("extract-orders"))
        assert sum("step_complete" in e.text for e in log.records) == 1


async def test_e_without_a_failure_says_so(tmp_path: Path) -> None:
    session = quickstart_session(tmp_path)
    app = DebuggerApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("down", "e")
        assert app.selected_step_id == "extract-customers"
        assert any("No step has failed" in n.message for n in app._notifications)


# -- tabs, filter, help, palette ---------------------------------------------------------------------
async def test_slash_focuses_the_event_filter(tmp_path: Path) -> None:
    session = quickstart_session(tmp_path)
    app = DebuggerApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        await pilot.pause()
        assert app.query_one("#tabs", TabView).active == "events"
        assert isinstance(app.focused, Input) and app.focused.id == "event-filter"
        await pilot.press("n")  # typed into the filter, not a step
        assert app.focused.value == "n"
        assert session.status("extract-orders").state is StepState.PAUSED
        await pilot.press("escape", "escape")  # out of the filter (the event log's), then back to the steps
        assert app.focused is app.step_list


@pytest.mark.parametrize("key", ["question_mark", "f1"])
async def test_help_screen_lists_every_key(tmp_path: Path, key: str) -> None:
    session = quickstart_session(tmp_path)
    app = DebuggerApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press(key)
        assert isinstance(app.screen, HelpScreen)
        console = Console(width=200, record=True, file=io.StringIO())
        console.print(help_table())
        text = console.export_text()
        for k in KEYS:
            if not k.action.startswith("switch_tab"):
                assert k.description in text, k.description
        await pilot.press("n")  # no stepping from behind the help screen
        assert session.status("extract-orders").state is StepState.PAUSED
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_command_palette_runs_debugger_actions(tmp_path: Path) -> None:
    session = quickstart_session(tmp_path)
    app = DebuggerApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"toggle a breakpoint")
        await app.screen.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("enter")
        await settle(pilot)
        assert session.breakpoints == {"extract-orders"}


def test_every_key_has_an_action_and_an_id() -> None:
    ids = [k.id for k in KEYS]
    assert len(ids) == len(set(ids))
    for k in KEYS:
        name = k.action.split("(")[0]
        assert hasattr(DebuggerApp, f"action_{name}"), name
    bound = {b.id for b in DebuggerApp.BINDINGS}  # type: ignore[union-attr]
    assert set(ids) <= bound


# -- data view states and floods ---------------------------------------------------------------------
async def test_a_step_without_a_dataframe_says_so(tmp_path: Path) -> None:
    session = session_for(tmp_path, [Step("side", "test.noframe", {})])
    app = DebuggerApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await wait_session(pilot, done("side"))
        assert app.data_view.message == "this step produced no DataFrame"
        assert app.data_view.table is None


async def test_an_event_flood_is_applied_in_batches(tmp_path: Path) -> None:
    session = session_for(tmp_path, [Step("flood", "test.flood", {"events": 100_000})])
    app = DebuggerApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        calls: list[int] = []
        original = app.event_log.add_records

        def counting(records: list[dict]) -> None:
            calls.append(len(records))
            original(records)

        await pilot.press("4")  # the event log is mounted when its tab is first shown
        await settle(pilot)
        app.event_log.add_records = counting  # type: ignore[method-assign]
        await pilot.press("n")
        await wait_session(pilot, done("flood"))
        assert sum(calls) >= 100_000
        assert len(calls) < 1000  # batches, not one call per event
        assert app.pending_records == 0

