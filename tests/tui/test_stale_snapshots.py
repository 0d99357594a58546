"""SVG snapshots at 100x30: stale steps in the step list, and the breakpoint dialog with a condition error."""

from __future__ import annotations

from pathlib import Path

import pytest

from osiris_tui.runtime.session import RunState
from osiris_tui.tui.app import DebuggerApp

try:
    from tests.tui.app_support import quickstart_session, settle, wait_session
except ImportError:  # tests/tui is not a package: pytest put this directory on sys.path
    from app_support import quickstart_session, settle, wait_session  # type: ignore[no-redef]

SIZE = (100, 30)


@pytest.fixture(autouse=True)
def _fixed(fixed_times: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def test_stale_steps_in_the_step_list(snap_compare, tmp_path: Path) -> None:
    session = quickstart_session(tmp_path)
    app = DebuggerApp(session)
    orders = tmp_path / "quickstart" / "data" / "orders.csv"  # the session's own copy

    async def run_before(pilot) -> None:
        await settle(pilot)
        await pilot.press("c")
        await wait_session(pilot, lambda s: s.run_state is RunState.FINISHED)
        assert session.files_changed([orders]) == ["extract-orders", "revenue", "save-revenue"]
        await pilot.press("home")
        await settle(pilot)
        app.clear_notifications()
        await settle(pilot)
        assert "stale: data/orders.csv changed" in app.sub_title

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_the_breakpoint_dialog_with_a_condition_error(snap_compare, tmp_path: Path) -> None:
    session = quickstart_session(tmp_path)
    app = DebuggerApp(session)

    async def run_before(pilot) -> None:
        await settle(pilot)
        await pilot.press("c")
        await wait_session(pilot, lambda s: s.run_state is RunState.FINISHED)
        await pilot.press("home", "down", "down", "B")
        await settle(pilot)
        await pilot.click("#bp-after")
        app.screen.query_one("#bp-condition").focus()
        await pilot.press(*"max(revnue) > 1e6")
        await app.workers.wait_for_complete()
        await settle(pilot)
        app.clear_notifications()
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
