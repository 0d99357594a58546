"""SVG snapshots of the debugger (pytest-textual-snapshot). Update with `--snapshot-update`, then look at them.

Deterministic: a private copy of the quickstart (fixed data), durations/elapsed/tracebacks formatted as
fixed strings, no paths on screen.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from osiris_tui.manifest import load_pipeline
from osiris_tui.runtime.session import DebugSession, RunState, StepState
from osiris_tui.tui import format as fmt
from osiris_tui.tui.app import DebuggerApp

try:
    from tests.tui.app_support import quickstart_session, settle, wait_session
    from tests.tui.test_app import write_broken
    from tests.tui.test_widgets import failing_session
except ImportError:  # tests/tui is not a package: pytest put this directory on sys.path
    from app_support import quickstart_session, settle, wait_session  # type: ignore[no-redef]
    from test_app import write_broken  # type: ignore[no-redef]
    from test_widgets import failing_session  # type: ignore[no-redef]

SIZE = (120, 36)

FIXED_TRACEBACK = """\
Traceback (most recent call last):
  File "osiris_tui/runtime/local_adapter.py", line 145, in run_step
    result = driver.run(step_id=step.id, config=config, inputs=inputs, ctx=ctx) or {}
  File "osiris_tui/drivers/duckdb_processor.py", line 30, in run
    raise RuntimeError(f"DuckDB transformation failed: {exc}") from exc
RuntimeError: DuckDB transformation failed: Parser Error: syntax error at or near "SELEKT\""""


@pytest.fixture(autouse=True)
def _fixed_text(fixed_times: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fmt, "traceback", lambda text: FIXED_TRACEBACK if text else "")


def test_first_screen(snap_compare, tmp_path: Path) -> None:
    app = DebuggerApp(quickstart_session(tmp_path))

    async def run_before(pilot) -> None:
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_paused_at_a_breakpoint_on_the_data_tab(snap_compare, tmp_path: Path) -> None:
    app = DebuggerApp(quickstart_session(tmp_path, breakpoints=["save-revenue"]))

    async def run_before(pilot) -> None:
        await settle(pilot)
        await pilot.press("c")
        await wait_session(pilot, lambda s: s.status("save-revenue").state is StepState.PAUSED
                           and s.run_state is RunState.PAUSED)
        await settle(pilot)
        assert app.selected_step_id == "save-revenue"  # the selection moves to the step the run stopped at

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_paused_before_a_duckdb_step_shows_its_input(snap_compare, tmp_path: Path) -> None:
    """At a breakpoint before `revenue` (DuckDB, two inputs), the Data tab shows what goes into it."""
    app = DebuggerApp(quickstart_session(tmp_path, breakpoints=["revenue"]))

    async def run_before(pilot) -> None:
        await settle(pilot)
        await pilot.press("c")
        await wait_session(pilot, lambda s: s.status("revenue").state is StepState.PAUSED
                           and s.run_state is RunState.PAUSED)
        await settle(pilot)
        assert app.selected_step_id == "revenue"
        assert app.data_view.input_header.startswith("not run yet — input df_extract_orders of revenue")

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_error_panel(snap_compare, tmp_path: Path) -> None:
    manifest = write_broken(tmp_path, "SELEKT sum(n) AS total FROM df_numbers")
    session = DebugSession(load_pipeline(manifest), run_dir=tmp_path / "run",
                           reload=lambda: load_pipeline(manifest))
    app = DebuggerApp(session)

    async def run_before(pilot) -> None:
        await settle(pilot)
        await pilot.press("c")
        await wait_session(pilot, lambda s: s.run_state is RunState.FAILED)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_error_panel_scrolls_at_80x24(snap_compare, tmp_path: Path) -> None:
    """80 x 24: the panel keeps to its share of the pane; focused (E), it scrolls down to the traceback."""
    app = DebuggerApp(failing_session(tmp_path))

    async def run_before(pilot) -> None:
        await settle(pilot)
        await pilot.press("c")
        await wait_session(pilot, lambda s: s.run_state is RunState.FAILED)
        await pilot.press("E", "pagedown", "pagedown")
        await settle(pilot)
        assert app.focused is app.error_panel and app.error_panel.scroll_y > 0

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_help_screen(snap_compare, tmp_path: Path) -> None:
    app = DebuggerApp(quickstart_session(tmp_path))

    async def run_before(pilot) -> None:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_small_terminal(snap_compare, tmp_path: Path) -> None:
    """100 x 30, the smallest size we support, after a full run."""
    app = DebuggerApp(quickstart_session(tmp_path), run=True)

    async def run_before(pilot) -> None:
        await wait_session(pilot, lambda s: s.run_state is RunState.FINISHED)

    assert snap_compare(app, terminal_size=(100, 30), run_before=run_before)


def test_row_view(snap_compare, tmp_path: Path) -> None:
    """Enter on a Data table cell: the row in full, the cursor's column highlighted."""
    app = DebuggerApp(quickstart_session(tmp_path, breakpoints=["revenue"]))

    async def run_before(pilot) -> None:
        await settle(pilot)
        await pilot.press("c")
        await wait_session(pilot, lambda s: s.status("revenue").state is StepState.PAUSED
                           and s.run_state is RunState.PAUSED)
        table = app.data_view.table
        assert table is not None
        table.focus()
        await pilot.press("down", "right", "right", "enter")
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


SMALL = (100, 30)
KEY = {" ": "space", ">": "greater_than_sign", "=": "equals_sign", "'": "apostrophe"}


async def _paused_at_revenue(pilot, app: DebuggerApp) -> None:
    await settle(pilot)
    await pilot.press("c")
    await wait_session(pilot, lambda s: s.status("revenue").state is StepState.PAUSED
                       and s.run_state is RunState.PAUSED)
    await settle(pilot)


def test_row_view_at_100x30(snap_compare, tmp_path: Path) -> None:
    app = DebuggerApp(quickstart_session(tmp_path, breakpoints=["revenue"]))

    async def run_before(pilot) -> None:
        await _paused_at_revenue(pilot, app)
        await pilot.press("enter", "j", "l", "l", "enter")
        await settle(pilot)

    assert snap_compare(app, terminal_size=SMALL, run_before=run_before)


def test_frequency_at_100x30(snap_compare, tmp_path: Path) -> None:
    """F on the orders' status: value, count, percent and a bar, most frequent first."""
    app = DebuggerApp(quickstart_session(tmp_path, breakpoints=["revenue"]))

    async def run_before(pilot) -> None:
        await _paused_at_revenue(pilot, app)
        table = app.data_view.table
        assert table is not None and table.backend is not None
        await pilot.press("enter", *["l"] * list(table.backend.columns).index("status"), "F")
        await settle(pilot)
        assert app.data_view.mode == "frequency"

    assert snap_compare(app, terminal_size=SMALL, run_before=run_before)


def test_filter_banner_at_100x30(snap_compare, tmp_path: Path) -> None:
    """w: the rows that match, how many of how many, the condition; sorted too."""
    app = DebuggerApp(quickstart_session(tmp_path, breakpoints=["revenue"]))

    async def run_before(pilot) -> None:
        await _paused_at_revenue(pilot, app)
        await pilot.press("w", *[KEY.get(c, c) for c in "amount > 100"], "enter")
        await settle(pilot)
        assert app.data_view.where == "amount > 100"

    assert snap_compare(app, terminal_size=SMALL, run_before=run_before)


def test_filter_error_at_100x30(snap_compare, tmp_path: Path) -> None:
    app = DebuggerApp(quickstart_session(tmp_path, breakpoints=["revenue"]))

    async def run_before(pilot) -> None:
        await _paused_at_revenue(pilot, app)
        await pilot.press("w", *[KEY.get(c, c) for c in "amount > 9 AND AND status = 'paid'"], "enter")
        await settle(pilot)
        assert app.data_view.filter_bar.error_message

    assert snap_compare(app, terminal_size=SMALL, run_before=run_before)


def test_describe_at_100x30(snap_compare, tmp_path: Path) -> None:
    app = DebuggerApp(quickstart_session(tmp_path, breakpoints=["revenue"]))

    async def run_before(pilot) -> None:
        await _paused_at_revenue(pilot, app)
        await pilot.press("d")
        await settle(pilot)
        assert app.data_view.describing

    assert snap_compare(app, terminal_size=SMALL, run_before=run_before)
