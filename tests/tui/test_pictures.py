"""The pictures, driven by their keys: the Graph tab (6), the Metrics timeline (5), the histogram (F)."""

from __future__ import annotations

import sys
from pathlib import Path

from osiris_tui.manifest import load_pipeline
from osiris_tui.manifest.model import Step
from osiris_tui.runtime.session import DebugSession, RunState, StepState
from osiris_tui.tui.app import DebuggerApp
from osiris_tui.tui.commands import KEYS
from osiris_tui.tui.widgets.histogram import ColumnHistogram
from tests.support.dag_manifest import write_dag_manifest

try:
    from tests.tui.app_support import Gate, quickstart_session, session_for, settle, wait_running, wait_session
except ImportError:  # tests/tui is not a package: pytest put this directory on sys.path
    from app_support import (  # type: ignore[no-redef]
        Gate,
        quickstart_session,
        session_for,
        settle,
        wait_running,
        wait_session,
    )

SIZE = (100, 30)


async def until(pilot, predicate, what: str, tries: int = 400) -> None:
    """Let the app run until `predicate()` holds (a state, never a time)."""
    for _ in range(tries):
        if predicate():
            return
        await pilot.pause(0.01)
    raise AssertionError(f"timed out waiting for {what}")


# -- the Graph tab ------------------------------------------------------------------------------------
def test_the_graph_key_is_in_the_keys_table() -> None:
    graph = [k for k in KEYS if k.id == "osiris.tab.graph"]
    assert graph and graph[0].keys == "6" and graph[0].action == "switch_tab('graph')"
    assert len({k.keys for k in KEYS if k.keys == "6"}) == 1


async def test_graph_tab_selection_moves_along_the_edges_and_highlights_the_lineage(tmp_path: Path) -> None:
    app = DebuggerApp(quickstart_session(tmp_path), run=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_session(pilot, lambda s: s.run_state is RunState.FINISHED)
        await pilot.press("6")
        await settle(pilot)
        assert app.tabs.active == "graph"
        canvas = app.dag_view.canvas
        assert canvas.ready and len(canvas.graph.nodes) == 4
        assert {s.state for s in canvas.statuses.values()} == {StepState.DONE}  # states follow the run
        assert canvas.selected == app.selected_step_id == "save-revenue"
        await pilot.press("enter")  # into the graph
        assert app.focused is canvas
        await pilot.press("left")  # upstream of save-revenue
        await settle(pilot)
        assert canvas.selected == app.selected_step_id == app.step_list.selected_step_id == "revenue"
        assert canvas.lineage_up == {"extract-orders", "extract-customers"}
        assert canvas.lineage_down == {"save-revenue"}
        roles = {canvas.graph.edges[i]: canvas.edge_role(i) for i in range(len(canvas.graph.edges))}
        assert roles == {("extract-orders", "revenue"): "ancestor", ("extract-customers", "revenue"): "ancestor",
                         ("revenue", "save-revenue"): "descendant"}
        assert "extract-orders" in str(app.dag_view.info.render())
        await pilot.press("left")
        await settle(pilot)
        assert canvas.selected in ("extract-orders", "extract-customers")
        first = canvas.selected
        await pilot.press("down" if first == "extract-orders" else "up")
        await settle(pilot)
        assert {first, canvas.selected} == {"extract-orders", "extract-customers"}
        assert canvas.lineage_up == set() and canvas.lineage_down == {"revenue", "save-revenue"}
        assert app.data_view.step_id == canvas.selected  # the other tabs follow
        # the step list's selection drives the graph too
        app.step_list.focus()
        await pilot.press("end")
        await settle(pilot)
        assert canvas.selected == "save-revenue" and canvas.lineage_up == {"revenue", "extract-orders",
                                                                           "extract-customers"}


async def test_graph_of_200_steps_stays_navigable(tmp_path: Path) -> None:
    pipeline = load_pipeline(write_dag_manifest(tmp_path))
    app = DebuggerApp(DebugSession(pipeline, run_dir=tmp_path / "run"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("6")
        await settle(pilot)
        canvas = app.dag_view.canvas
        assert canvas.ready and len(canvas.graph.nodes) == 200
        assert canvas.virtual_size.width > canvas.size.width  # it scrolls
        await pilot.press("enter", *["right"] * 6)
        await settle(pilot)
        selected = canvas.selected
        assert selected is not None and selected != "step_000"
        assert app.step_list.selected_step_id == selected
        node = canvas.graph.nodes[selected]
        view = canvas.scroll_offset
        assert view.x <= node.x and node.x + node.width <= view.x + canvas.scrollable_content_region.width
        assert view.y <= node.y < view.y + canvas.scrollable_content_region.height  # kept in view
        step = pipeline.step(selected)
        assert set(step.upstream) <= canvas.lineage_up
        assert canvas.lineage_down == set(pipeline.downstream(selected))


async def test_graph_follows_a_running_step(tmp_path: Path) -> None:
    gate = Gate()
    session = session_for(tmp_path, [Step("slow", "test.blocking", {}),
                                     Step("after", "test.range", {"rows": 5}, needs=["slow"])], gate)
    app = DebuggerApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("6")
        await settle(pilot)
        await pilot.press("c")
        await wait_running(pilot, gate, "slow")
        canvas = app.dag_view.canvas
        assert canvas.statuses["slow"].state is StepState.RUNNING
        gate.release.set()
        await wait_session(pilot, lambda s: s.run_state is RunState.FINISHED)
        assert canvas.statuses["after"].state is StepState.DONE


async def test_graph_after_a_restart_that_reloads_the_manifest(tmp_path: Path) -> None:
    session = quickstart_session(tmp_path)
    manifest = session.pipeline.path
    app = DebuggerApp(session, run=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_session(pilot, lambda s: s.run_state is RunState.FINISHED)
        await pilot.press("6")
        await settle(pilot)
        text = manifest.read_text(encoding="utf-8")
        manifest.write_text(text + """
  - id: save-copy
    driver: filesystem.csv_writer
    inputs:
      df: "${revenue.df}"
    config:
      connection: "@filesystem.local"
      path: out/copy.csv
""", encoding="utf-8")
        await pilot.press("R")
        await wait_session(pilot, lambda s: len(s.pipeline.steps) == 5 and s.run_state is RunState.READY)
        await settle(pilot)
        canvas = app.dag_view.canvas
        assert canvas.pipeline is app.session.pipeline and canvas.ready
        assert set(canvas.graph.nodes) >= {"save-copy"} and ("revenue", "save-copy") in canvas.graph.edges
        assert {s.state for s in canvas.statuses.values()} == {StepState.PENDING, StepState.PAUSED}


# -- the Metrics timeline -----------------------------------------------------------------------------
async def test_the_running_steps_bar_grows_without_blocking_keys(tmp_path: Path) -> None:
    gate = Gate()
    session = session_for(tmp_path, [Step("first", "test.range", {"rows": 7}),
                                     Step("slow", "test.blocking", {}, needs=["first"])], gate)
    app = DebuggerApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("5", "c")
        await wait_running(pilot, gate, "slow")
        timeline = app.metrics_view.timeline

        def span(step: str):
            return next(r.span for r in timeline.rows if r.step_id == step)

        await until(pilot, lambda: span("slow") is not None, "the running step's bar")
        first, slow = span("first"), span("slow")
        assert first.state is StepState.DONE and slow.state is StepState.RUNNING
        assert slow.start >= first.start
        grown = slow.duration
        await until(pilot, lambda: span("slow").duration > grown, "the bar to grow")
        await pilot.press("1")  # keys still answer while it runs
        assert app.tabs.active == "data"
        gate.release.set()
        await wait_session(pilot, lambda s: s.run_state is RunState.FINISHED)
        await pilot.press("5")
        await settle(pilot)
        done = span("slow")
        assert done.state is StepState.DONE and done.duration == session.status("slow").duration
        row = next(r for r in timeline.rows if r.step_id == "first")
        assert row.read == 7 and row.memory is not None
        assert app.metrics_view.rows_sparkline.data == [7.0, 3.0]
        text = timeline.text(80).plain
        assert "first" in text and "7 → —" in text


async def test_timeline_after_the_quickstart(tmp_path: Path) -> None:
    app = DebuggerApp(quickstart_session(tmp_path), run=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_session(pilot, lambda s: s.run_state is RunState.FINISHED)
        await pilot.press("5")
        await settle(pilot)
        rows = app.metrics_view.timeline.rows
        assert [r.step_id for r in rows] == ["extract-orders", "extract-customers", "revenue", "save-revenue"]
        spans = [r.span for r in rows]
        assert all(s is not None and s.state is StepState.DONE for s in spans)
        starts = [s.start for s in spans if s is not None]
        assert starts == sorted(starts)  # in the order they ran
        ends = [s.start + s.duration for s in spans if s is not None]
        assert all(end <= nxt + 0.002 for end, nxt in zip(ends, starts[1:], strict=False))  # one at a time
        assert (rows[2].read, rows[2].written, rows[3].written) == (5300, 24, 24)


# -- the histogram --------------------------------------------------------------------------------------
async def _paused_at_revenue(pilot, app: DebuggerApp) -> None:
    await settle(pilot)
    await pilot.press("c")
    await wait_session(pilot, lambda s: s.status("revenue").state is StepState.PAUSED
                       and s.run_state is RunState.PAUSED)


async def _frequency_of(pilot, app: DebuggerApp, column: str) -> ColumnHistogram:
    table = app.data_view.table
    assert table is not None and table.backend is not None
    if app.focused is not table:
        await pilot.press("enter")
    await pilot.press(*["h"] * len(table.backend.columns))  # to the first column
    await pilot.press(*["l"] * list(table.backend.columns).index(column), "F")
    await settle(pilot)
    histograms = list(app.data_view.query(ColumnHistogram))
    assert len(histograms) == 1
    await until(pilot, lambda: histograms[0].histogram is not None, "the bins")
    return histograms[0]


async def test_f_shows_the_histogram_of_the_cursor_column(tmp_path: Path) -> None:
    app = DebuggerApp(quickstart_session(tmp_path, breakpoints=["revenue"]))
    async with app.run_test(size=SIZE) as pilot:
        await _paused_at_revenue(pilot, app)
        hist = await _frequency_of(pilot, app, "amount")
        assert app.data_view.mode == "frequency" and hist.column == "amount"
        assert hist.histogram is not None and hist.histogram.kind == "number"
        assert hist.histogram.counted + hist.histogram.nulls == 5000
        assert hist.bins.histogram is hist.histogram
        await pilot.press("escape")  # back to the rows: the histogram goes with the frequency table
        await settle(pilot)
        assert app.data_view.mode == "rows" and not [h for h in app.data_view.query(ColumnHistogram) if h.display]
        kept = hist
        hist = await _frequency_of(pilot, app, "order_date")
        assert hist is kept  # the same widget, shown again for another column
        assert hist.histogram is not None and hist.histogram.period == "month"
        await pilot.press("escape")
        await settle(pilot)
        hist = await _frequency_of(pilot, app, "status")
        assert hist.histogram is not None and hist.histogram.kind == "none"
        assert "not applicable" in str(hist.bins.render())


async def test_histogram_workers_under_thread_stress(tmp_path: Path) -> None:
    """Rapid F / Esc with the GIL switching all the time: one histogram at the end, of the last column."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        app = DebuggerApp(quickstart_session(tmp_path, breakpoints=["revenue"]))
        async with app.run_test(size=SIZE) as pilot:
            await _paused_at_revenue(pilot, app)
            table = app.data_view.table
            assert table is not None and table.backend is not None
            await pilot.press("enter")
            for _ in range(5):
                await pilot.press("F", "escape")
            await pilot.press(*["l"] * list(table.backend.columns).index("amount"), "F")
            await settle(pilot)
            histograms = list(app.data_view.query(ColumnHistogram))
            assert len(histograms) == 1 and histograms[0].column == "amount"
            await until(pilot, lambda: histograms[0].histogram is not None, "the bins")
            assert histograms[0].histogram.counted == 5000
    finally:
        sys.setswitchinterval(old)

