"""SVG snapshots at 100x30 of the pictures: the Metrics timeline, the histogram, the Graph tab.

Deterministic: durations on screen are fixed strings (`fixed_times`), and the timeline's spans are
fixed ones (a run's real timings vary).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from osiris_tui.manifest import load_pipeline
from osiris_tui.runtime import timeline
from osiris_tui.runtime.session import DebugSession, RunState, StepState
from osiris_tui.tui.app import DebuggerApp
from osiris_tui.tui.widgets.histogram import ColumnHistogram
from tests.support.dag_manifest import write_dag_manifest

try:
    from tests.tui.app_support import quickstart_session, settle, wait_session
except ImportError:  # tests/tui is not a package: pytest put this directory on sys.path
    from app_support import quickstart_session, settle, wait_session  # type: ignore[no-redef]

SIZE = (100, 30)
FIXED_SPANS = {"extract-orders": (0.10, 0.05), "extract-customers": (0.15, 0.02), "revenue": (0.17, 0.30),
               "save-revenue": (0.47, 0.03)}


@pytest.fixture(autouse=True)
def _fixed(fixed_times: None, monkeypatch: pytest.MonkeyPatch) -> None:
    def spans(starts, statuses, now=None):
        return [timeline.Span(s.step_id, *FIXED_SPANS[s.step_id], s.state) for s in statuses
                if s.step_id in FIXED_SPANS and s.state is StepState.DONE]

    monkeypatch.setattr(timeline, "spans", spans)


def test_timeline_after_the_quickstart_at_100x30(snap_compare, tmp_path: Path) -> None:
    app = DebuggerApp(quickstart_session(tmp_path), run=True)

    async def run_before(pilot) -> None:
        await wait_session(pilot, lambda s: s.run_state is RunState.FINISHED)
        await pilot.press("5")
        await settle(pilot)
        assert all(r.span is not None for r in app.metrics_view.timeline.rows)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_histogram_at_100x30(snap_compare, tmp_path: Path) -> None:
    app = DebuggerApp(quickstart_session(tmp_path, breakpoints=["revenue"]))

    async def run_before(pilot) -> None:
        await settle(pilot)
        await pilot.press("c")
        await wait_session(pilot, lambda s: s.status("revenue").state is StepState.PAUSED
                           and s.run_state is RunState.PAUSED)
        table = app.data_view.table
        assert table is not None and table.backend is not None
        await pilot.press("enter", *["l"] * list(table.backend.columns).index("amount"), "F")
        await settle(pilot)
        await settle(pilot)
        assert app.data_view.query_one(ColumnHistogram).histogram is not None

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_graph_after_the_quickstart_at_100x30(snap_compare, tmp_path: Path) -> None:
    app = DebuggerApp(quickstart_session(tmp_path), run=True)

    async def run_before(pilot) -> None:
        await wait_session(pilot, lambda s: s.run_state is RunState.FINISHED)
        await pilot.press("6")
        await settle(pilot)
        await pilot.press("enter", "left")
        await settle(pilot)
        assert app.dag_view.canvas.selected == "revenue"

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_graph_of_200_steps_at_100x30(snap_compare, tmp_path: Path) -> None:
    app = DebuggerApp(DebugSession(load_pipeline(write_dag_manifest(tmp_path)), run_dir=tmp_path / "run"))

    async def run_before(pilot) -> None:
        await settle(pilot)
        await pilot.press("6")
        await settle(pilot)
        await pilot.press("enter", *["right"] * 6)
        await settle(pilot)
        assert app.dag_view.canvas.selected not in (None, "step_000")

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
