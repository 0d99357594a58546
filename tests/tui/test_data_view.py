"""The Data tab: big frames page from Arrow (no widget per row), sorting, and its states."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pyarrow as pa
from textual.coordinate import Coordinate

from osiris_tui.frames.export import to_arrow
from osiris_tui.frames.view import FrameView
from osiris_tui.manifest.model import Step
from osiris_tui.runtime.session import RunState, StepState
from osiris_tui.tui.app import DebuggerApp
from osiris_tui.tui.widgets.data.table import ViewBackend, date_columns, measure_widths

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

SIZE = (120, 36)
MILLION = 1_000_000


async def test_a_million_rows_page_from_arrow(tmp_path: Path) -> None:
    session = session_for(tmp_path, [Step("big", "test.range", {"rows": MILLION})])
    app = DebuggerApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await wait_session(pilot, lambda s: s.status("big").state is StepState.DONE)
        view = app.data_view
        table = view.table
        assert table is not None
        assert table.row_count == MILLION
        assert table.backend is not None and table.backend.source_row_count == MILLION
        # a lazy backend over a view of the session's own Arrow table: nothing copied for the view
        assert isinstance(table.backend, ViewBackend)
        assert table.backend.view.table is session.output_table("big")
        assert table.backend.view.indices is None
        # one widget for the whole table: nothing is built per DataFrame row (the view's parts, the table
        # and the frequency table's histogram, kept hidden)
        assert len(list(view.query("*"))) < 25
        assert len(table.children) == 0
        # it renders only what fits on screen
        assert table.size.height < 40
        assert table.virtual_size.height == MILLION + 1  # rows + header, virtual
        shape = str(view.query_one("#data-shape").render())
        assert "1,000,000 rows \N{MULTIPLICATION SIGN} 3 columns" in shape
        columns = str(view.query_one("#data-columns").render())
        assert "id int64" in columns and "label" in columns
        # the column widths are capped
        assert all(c.render_width <= 42 for c in table.ordered_columns)


async def test_sort_by_the_cursor_column_and_reverse(tmp_path: Path) -> None:
    session = session_for(tmp_path, [Step("nums", "test.range", {"rows": 1000})])
    app = DebuggerApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await wait_session(pilot, lambda s: s.status("nums").state is StepState.DONE)
        table = app.data_view.table
        assert table is not None
        table.focus()
        await pilot.press("s")  # ascending by `id`
        await settle(pilot)
        table = app.data_view.table
        assert table is not None and table.get_cell_at(Coordinate(0, 0)) == 0
        await pilot.press("s")  # again: descending
        await settle(pilot)
        table = app.data_view.table
        assert table is not None and table.get_cell_at(Coordinate(0, 0)) == 999
        assert table.row_count == 1000
        assert "▼" in str(table.ordered_columns[0].label)
        await pilot.press("right", "s")  # by `value`, ascending
        await settle(pilot)
        table = app.data_view.table
        assert table is not None and table.cursor_column == 1
        assert table.get_cell_at(Coordinate(0, 1)) == 0.0
        # the session's frame itself is untouched
        frame = session.output("nums")
        assert frame is not None and list(frame["id"][:3]) == [0, 1, 2]


async def test_clicking_a_header_sorts(tmp_path: Path) -> None:
    session = session_for(tmp_path, [Step("nums", "test.range", {"rows": 50})])
    app = DebuggerApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await wait_session(pilot, lambda s: s.status("nums").state is StepState.DONE)
        table = app.data_view.table
        assert table is not None
        await pilot.click(table, offset=(1, 0))  # the header row, first column
        await settle(pilot)
        await pilot.click(app.data_view.table, offset=(1, 0))
        await settle(pilot)
        table = app.data_view.table
        assert table is not None and table.get_cell_at(Coordinate(0, 0)) == 49


async def test_states_not_run_running_and_done(tmp_path: Path) -> None:
    gate = Gate()
    steps = [Step("slow", "test.blocking", {}), Step("next", "test.range", {"rows": 2}, needs=["slow"])]
    session = session_for(tmp_path, steps, gate)
    app = DebuggerApp(session)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            assert app.data_view.message.startswith("not run yet")
            await pilot.press("n")
            await wait_running(pilot, gate, "slow")
            assert app.data_view.message == "running…"
            await pilot.press("down")
            assert app.data_view.message.startswith("not run yet")
            gate.release.set()
            await wait_session(pilot, lambda s: s.status("slow").state is StepState.DONE)
            await pilot.press("up")
            await settle(pilot)
            assert app.data_view.table is not None and app.data_view.table.row_count == 3
    finally:
        gate.release.set()


# -- a step that has not run yet (or failed): what goes into it --------------------------------------------
async def test_a_paused_step_shows_its_inputs_and_i_cycles_them(tmp_path: Path) -> None:
    session = quickstart_session(tmp_path, breakpoints=["revenue"])
    app = DebuggerApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("down", "down")  # revenue: its upstream steps have not run, nothing cached
        assert app.selected_step_id == "revenue"
        assert app.data_view.message.startswith("not run yet — press n")
        assert app.data_view.input_header == "" and app.data_view.table is None
        await pilot.press("c")
        await wait_session(pilot, lambda s: s.status("revenue").state is StepState.PAUSED
                           and s.run_state is RunState.PAUSED)
        if app.selected_step_id != "revenue":
            await pilot.press("down")
            await settle(pilot)
        view = app.data_view
        assert view.input_header == ("not run yet — input df_extract_orders of revenue · 5,000 rows"
                                 " · from extract-orders · 1/2")
        assert view.table is not None and view.table.row_count == 5000
        shape = str(view.query_one("#data-shape").render())
        assert "5,000 rows \N{MULTIPLICATION SIGN} 6 columns" in shape and "i next frame" in shape
        await pilot.press("i")
        await settle(pilot)
        assert view.input_header == ("not run yet — input df_extract_customers of revenue · 300 rows"
                                 " · from extract-customers · 2/2")
        assert view.table is not None and view.table.row_count == 300
        await pilot.press("i")  # round again
        await settle(pilot)
        assert view.input_header.startswith("not run yet — input df_extract_orders of revenue")
        # `i` acts on the Data tab only
        await pilot.press("2", "i", "1")
        await settle(pilot)
        assert view.input_header.startswith("not run yet — input df_extract_orders")
        # a step with one input: `i` says there is no other
        await pilot.press("down")
        await settle(pilot)
        assert app.selected_step_id == "save-revenue"
        assert view.message.startswith("not run yet — press n")  # revenue has not run: nothing cached
        await pilot.press("i")
        assert any("no other input" in n.message for n in app._notifications)
        # once the step has run, its output is shown first; `i` goes on to each of its inputs
        await pilot.press("up", "n")
        await wait_session(pilot, lambda s: s.status("revenue").state is StepState.DONE)
        rows = session.status("revenue").rows
        assert view.input_header == f"output of revenue · {rows} rows · 1/3"
        assert view.table is not None and view.table.row_count == rows
        await pilot.press("i")
        await settle(pilot)
        assert view.input_header.startswith("input df_extract_orders of revenue · 5,000 rows · from extract-orders")
        await pilot.press("i", "i")
        await settle(pilot)
        assert view.input_header.startswith("output of revenue")


async def test_a_step_waiting_for_one_of_two_inputs_says_so(tmp_path: Path) -> None:
    steps = [Step("a", "test.range", {"rows": 4}), Step("b", "test.range", {"rows": 2}),
             Step("join", "test.range", {"rows": 1}, needs=["a", "b"])]
    session = session_for(tmp_path, steps)
    app = DebuggerApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await wait_session(pilot, lambda s: s.status("a").state is StepState.DONE)
        await pilot.press("down", "down")
        await settle(pilot)
        assert app.selected_step_id == "join"
        assert app.data_view.input_header == "not run yet — input df_a of join · 4 rows · from a (waiting for b)"
        assert app.data_view.table is not None and app.data_view.table.row_count == 4


def test_frames_arrow_cannot_take_directly_are_shown_as_text() -> None:
    df = pd.DataFrame({"mixed": [1, "a", None], "n": [1, 2, 3]})
    table = to_arrow(df)
    assert table.num_rows == 3 and table.column_names == ["mixed", "n"]
    dup = pd.DataFrame([[1, 2]], columns=["a", "a"])
    assert to_arrow(dup).column_names == ["a", "a_1"]
    indexed = pd.DataFrame({"v": [1, 2]}, index=pd.Index(["x", "y"], name="key"))
    assert to_arrow(indexed).column_names == ["key", "v"]


def test_date_only_timestamps_display_as_dates() -> None:
    """pandas has no date type: a column of midnights shows as dates, in the view only (the data and
    what export writes stay timestamps)."""
    df = pd.DataFrame({"day": pd.to_datetime(["2024-01-01", None, "2024-02-03"]),
                       "at": pd.to_datetime(["2024-01-01 10:00", "2024-01-01 00:00", None])})
    table = to_arrow(df)
    assert table.schema.field("day").type == pa.timestamp("us")
    assert date_columns(table) == {0}
    backend = ViewBackend(FrameView.of(table), measure_widths(table, dates={0}), dates={0})
    assert backend.column_slice(0, 0, 3).to_pylist() == [dt.date(2024, 1, 1), None, dt.date(2024, 2, 3)]
    assert backend.column_slice(1, 0, 1).type == pa.timestamp("us")
    assert measure_widths(table, dates={0})[0] == len("2024-01-01")
