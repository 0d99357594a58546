"""The Data tab as a data explorer, driven by its keys: search, filter, frequency, export, orientation,
on a finished step's output and on a paused step's input."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from textual.widgets import Input

from osiris_tui.frames.view import FrameView
from osiris_tui.manifest.model import Step
from osiris_tui.runtime.session import DebugSession, RunState, StepState
from osiris_tui.tui.app import DebuggerApp
from osiris_tui.tui.widgets.data.export_screen import ExportScreen
from osiris_tui.tui.widgets.data.table import MAX_COLUMN_WIDTH, ViewBackend

try:
    from tests.tui.app_support import pipeline, quickstart_session, registry, session_for, settle, wait_session
except ImportError:  # tests/tui is not a package: pytest put this directory on sys.path
    from app_support import (  # type: ignore[no-redef]
        pipeline,
        quickstart_session,
        registry,
        session_for,
        settle,
        wait_session,
    )

SIZE = (120, 36)


class PeopleDriver:
    """Six people: a NULL city twice, a long note, a Decimal-free mix of types."""

    def run(self, *, step_id: str, config: dict[str, Any], inputs: dict | None, ctx: Any) -> dict:
        return {"df": pd.DataFrame({
            "id": np.arange(1, 7, dtype=np.int64),
            "city": pd.Series(["Oslo", None, "Rome", "Oslo", None, "Oslo"], dtype=object),
            "amount": [10.5, 200.0, 33.25, 150.0, 7.0, 99.0],
            "note": pd.Series(["x" * 80, "short", "", "Roman holiday", "n/a", "oslo again"], dtype=object),
        })}


def people_session(root: Path) -> DebugSession:
    reg = registry()
    reg.register("test.people", PeopleDriver)
    steps = [Step("people", "test.people", {})]
    return DebugSession(pipeline(root, steps), registry=reg, run_dir=root / "run")


async def run_first(pilot: Any, step_id: str) -> None:
    await settle(pilot)
    await pilot.press("n")
    await wait_session(pilot, lambda s: s.status(step_id).state is StepState.DONE)


async def type_in(pilot: Any, text: str) -> None:
    await pilot.press(*[{" ": "space"}.get(c, c) for c in text])


def status(app: DebuggerApp) -> str:
    return app.data_view.status_text().plain


def cursor(app: DebuggerApp) -> tuple[int, int]:
    table = app.data_view.table
    assert table is not None
    return table.cursor_row, table.cursor_column


# -- search ----------------------------------------------------------------------------------------------
async def test_search_jumps_to_each_match_and_wraps(tmp_path: Path) -> None:
    app = DebuggerApp(people_session(tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        await run_first(pilot, "people")
        view = app.data_view
        assert "row 1 of 6 · col id (1/4)" in status(app)
        await pilot.press("slash")
        assert isinstance(app.focused, Input) and app.focused.id == "data-search-input"
        await type_in(pilot, "oslo")
        await pilot.press("enter")
        await settle(pilot)
        # city Oslo (rows 0, 3, 5) and the note "oslo again" (row 5): row-major, case ignored
        assert view.matches is not None and len(view.matches) == 4
        assert cursor(app) == (0, 1)
        assert "match 1 of 4" in status(app)
        await pilot.press("enter")  # Enter again in the bar: the next match
        assert cursor(app) == (3, 1) and "match 2 of 4" in status(app)
        await pilot.press("shift+enter")
        assert cursor(app) == (0, 1)
        await pilot.press("escape")  # closes the bar; F3 goes on from the table
        assert app.focused is view.table and not view.search_bar.display
        await pilot.press("f3", "f3", "f3")
        assert cursor(app) == (5, 3) and "match 4 of 4" in status(app)
        await pilot.press("f3")  # past the last: round to the first
        assert cursor(app) == (0, 1) and "match 1 of 4" in status(app)
        assert any("wrapped" in n.message for n in app._notifications)
        await pilot.press("shift+f3")  # before the first: the last
        assert cursor(app) == (5, 3)
        # `n` is still the debugger's Step, not a search key
        assert app.session.status("people").runs == 1


async def test_search_a_regex_in_the_cursor_column_only(tmp_path: Path) -> None:
    app = DebuggerApp(people_session(tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        await run_first(pilot, "people")
        view = app.data_view
        assert view.table is not None
        view.table.focus()
        await pilot.press("l", "l", "l")  # the note column
        await pilot.press("slash")
        await type_in(pilot, "@re:^ro")
        await pilot.press("enter")
        await settle(pilot)
        # "Roman holiday" only: not the city Rome (another column)
        assert view.matches is not None and len(view.matches) == 1
        assert cursor(app) == (3, 3)
        assert "in note" in status(app)
        view.search_bar.input.value = ""  # a new pattern: no match says so
        await type_in(pilot, "zzz")
        await pilot.press("enter")
        await settle(pilot)
        assert "no match" in status(app)


async def test_slash_on_the_events_tab_still_filters_events(tmp_path: Path) -> None:
    app = DebuggerApp(people_session(tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        await run_first(pilot, "people")
        await pilot.press("4", "slash")
        await settle(pilot)
        assert app.tabs.active == "events"
        assert isinstance(app.focused, Input) and app.focused.id == "event-filter"


# -- filter ----------------------------------------------------------------------------------------------
async def test_filter_shows_the_count_stacks_with_sort_and_esc_clears(tmp_path: Path) -> None:
    session = session_for(tmp_path, [Step("nums", "test.range", {"rows": 5000})])
    app = DebuggerApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await run_first(pilot, "nums")
        view = app.data_view
        await pilot.press("w")
        assert isinstance(app.focused, Input) and app.focused.id == "data-filter-input"
        await type_in(pilot, "value > 90 AND label = 'alpha'")
        await pilot.press("enter")
        await settle(pilot)
        expected = sum(1 for i in range(5000) if (i * 7919) % 1000 / 10.0 > 90 and i % 3 == 0)
        assert view.view is not None and view.view.num_rows == expected
        assert view.table is not None and view.table.row_count == expected
        banner = view.banner_text
        assert f"{expected:,} of 5,000 rows match · where value > 90 AND label = 'alpha'" in banner
        assert app.focused is view.table
        # sort the filtered rows: the filter stays
        await pilot.press("l", "s")
        await settle(pilot)
        assert view.sort == ("value", "ascending") and view.where
        table = view.table
        assert table is not None and table.row_count == expected
        values = [table.get_cell_at(_c(r, 1)) for r in range(expected)]
        assert values == sorted(values) and min(values) > 90
        # Esc (from the table) clears the filter, keeps the sort
        await pilot.press("escape")
        await settle(pilot)
        assert not view.where and view.sort == ("value", "ascending")
        assert view.table is not None and view.table.row_count == 5000
        assert view.banner_text == ""
        await pilot.press("escape")  # nothing left to peel: back to the steps
        assert app.focused is app.step_list


def _c(row: int, column: int) -> Any:
    from textual.coordinate import Coordinate

    return Coordinate(row, column)


async def test_a_sql_error_is_shown_with_a_caret_never_raised(tmp_path: Path) -> None:
    session = session_for(tmp_path, [Step("nums", "test.range", {"rows": 50})])
    app = DebuggerApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await run_first(pilot, "nums")
        view = app.data_view
        await pilot.press("w")
        await type_in(pilot, "value > 3 AND AND label = 1")
        await pilot.press("enter")
        await settle(pilot)
        error = view.filter_bar.error_message
        lines = error.splitlines()
        assert lines[0] == "value > 3 AND AND label = 1"
        assert lines[1] == " " * 14 + '^ syntax error at or near "AND"'  # under the second AND
        assert view.table is not None and view.table.row_count == 50 and not view.where  # unchanged
        # a column that does not exist: its name is pointed at
        view.filter_bar.input.value = ""
        await type_in(pilot, "value > 3 AND nope = 1")
        await pilot.press("enter")
        await settle(pilot)
        lines = view.filter_bar.error_message.splitlines()
        assert lines[1].index("^") == 14 and 'Referenced column "nope" not found' in lines[1]
        assert len(lines) == 2  # the first line of DuckDB's message: the bar stays small
        # Esc in the bar: closes it, no filter
        await pilot.press("escape")
        await settle(pilot)
        assert not view.filter_bar.display and not view.where


# -- frequency -------------------------------------------------------------------------------------------
async def test_frequency_of_an_id_column_says_each_value_occurs_once(tmp_path: Path) -> None:
    app = DebuggerApp(people_session(tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        await run_first(pilot, "people")
        view = app.data_view
        assert view.table is not None
        view.table.focus()
        await pilot.press("F")  # the id column: 1 to 6
        await settle(pilot)
        assert view.mode == "frequency" and view.frequency_column == "id"
        table = view.table
        assert table is not None
        assert table.backend.data.column("value").to_pylist() == [1, 2, 3, 4, 5, 6]
        assert "frequency of id · 6 distinct, each once" in str(view.query_one("#data-shape").render())
        await pilot.press("escape", "l", "F")  # the city column repeats: no such line
        await settle(pilot)
        assert view.frequency_column == "city"
        assert "each once" not in str(view.query_one("#data-shape").render())


async def test_frequency_counts_nulls_and_enter_filters_to_is_null(tmp_path: Path) -> None:
    app = DebuggerApp(people_session(tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        await run_first(pilot, "people")
        view = app.data_view
        assert view.table is not None
        view.table.focus()
        await pilot.press("l", "F")  # the city column
        await settle(pilot)
        assert view.mode == "frequency" and view.frequency_column == "city"
        table = view.table
        assert table is not None and tuple(table.backend.columns) == ("value", "count", "percent", "bar")
        rows = table.backend.data.to_pylist()
        assert [(r["value"], r["count"]) for r in rows] == [("Oslo", 3), (None, 2), ("Rome", 1)]
        assert rows[0]["percent"] == 50.0 and rows[0]["bar"].startswith("█")
        assert len(rows[0]["bar"]) > len(rows[1]["bar"]) > len(rows[2]["bar"]) > 0
        assert "frequency of city" in str(view.query_one("#data-shape").render())
        # Enter on NULL: the frame filtered to the rows whose city IS NULL
        await pilot.press("down", "enter")
        await settle(pilot)
        assert view.mode == "rows" and view.where == '"city" IS NULL'
        assert view.table is not None and view.table.row_count == 2
        assert [view.table.get_cell_at(_c(r, 0)) for r in range(2)] == [2, 5]
        assert "2 of 6 rows match" in view.banner_text
        # frequency of the filtered view; Esc goes back to the rows
        await pilot.press("h", "F")
        await settle(pilot)
        assert view.table is not None and view.table.row_count == 2
        await pilot.press("escape")
        assert view.mode == "rows" and view.where == '"city" IS NULL'


# -- one table widget -----------------------------------------------------------------------------------
def shown_rows(table: Any) -> list[list[str]]:
    """The table's lines as painted (its caches included), under the header, split into cells."""
    lines = [table.render_line(y).text for y in range(1, table.size.height)]
    return [line.split() for line in lines if line.strip()]


async def test_sort_filter_and_frequency_swap_their_rows_into_the_same_table(tmp_path: Path) -> None:
    app = DebuggerApp(people_session(tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        await run_first(pilot, "people")
        view = app.data_view
        table = view.table
        assert table is not None and [r[0] for r in shown_rows(table)] == ["1", "2", "3", "4", "5", "6"]
        table.focus()
        await pilot.press("l", "l", "s")  # sort by amount: the same widget, the sorted rows painted
        await settle(pilot)
        assert view.sort == ("amount", "ascending") and view.table is table
        assert [(r[0], r[2]) for r in shown_rows(table)] == [("5", "7.0"), ("1", "10.5"), ("3", "33.25"),
                                                             ("6", "99.0"), ("4", "150.0"), ("2", "200.0")]
        assert str(table.ordered_columns[2].label) == "amount ▲" and cursor(app) == (0, 2)
        await pilot.press("j", "j")
        view.apply_filter("amount > 50")  # the sort stays; the cursor, on fewer rows, too
        await settle(pilot)
        assert view.table is table and table.row_count == 3
        assert [(r[0], r[2]) for r in shown_rows(table)] == [("6", "99.0"), ("4", "150.0"), ("2", "200.0")]
        assert cursor(app) == (2, 2) and app.focused is table
        await pilot.press("h", "F")  # the frequency of city over the three rows
        await settle(pilot)
        assert view.mode == "frequency" and view.table is table and table.fixed_columns == 0
        assert [r[:2] for r in shown_rows(table)] == [["Oslo", "2"], ["∅", "1"]]
        assert [str(c.label) for c in table.ordered_columns] == ["value", "count", "percent", "bar"]
        assert cursor(app) == (0, 0)
        await pilot.press("escape")  # back to the rows, then a pinned column: still the same widget
        await settle(pilot)
        assert view.mode == "rows" and view.table is table
        assert [r[0] for r in shown_rows(table)] == ["6", "4", "2"]
        await pilot.press("j", "l", "exclamation_mark")  # city pinned on the left, the cursor goes with it
        await settle(pilot)
        assert view.table is table and table.fixed_columns == 1 and cursor(app) == (1, 0)
        assert [r[:2] for r in shown_rows(table)] == [["Oslo", "6"], ["Oslo", "4"], ["∅", "2"]]


# -- export ----------------------------------------------------------------------------------------------
async def test_export_writes_the_frame_as_shown_and_reads_back(tmp_path: Path) -> None:
    app = DebuggerApp(people_session(tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        await run_first(pilot, "people")
        view = app.data_view
        await pilot.press("w")
        await type_in(pilot, "amount > 9")
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("l", "l", "s", "s")  # amount, descending
        await settle(pilot)
        assert view.sort == ("amount", "descending")
        await pilot.press("ctrl+e")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ExportScreen)
        assert screen.input.value == str(tmp_path / "run" / "exports" / "people.csv")
        assert "5 rows of output of people · where amount > 9 · sorted by amount ▼" in screen.what
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await settle(pilot)
        assert not isinstance(app.screen, ExportScreen)
        path = tmp_path / "run" / "exports" / "people.csv"
        assert any(str(path) in n.message and "5 rows" in n.message for n in app._notifications)
        shown = view.view
        assert shown is not None
        expected = shown.materialize().to_pylist()
        back = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(
            column_types={"city": pa.string(), "note": pa.string()},
            strings_can_be_null=True, quoted_strings_can_be_null=False))  # NULL is empty, "" is quoted
        assert back.column("id").to_pylist() == [r["id"] for r in expected] == [2, 4, 6, 3, 1]
        assert back.to_pylist() == expected  # value for value: NULL city, empty note, floats
        assert [r["city"] for r in expected] == [None, "Oslo", "Oslo", "Rome", "Oslo"]
        assert [r["note"] for r in expected][3] == ""
        # parquet: value for value, types kept
        await pilot.press("ctrl+e")
        await settle(pilot)
        out = tmp_path / "people.parquet"
        assert isinstance(app.screen, ExportScreen)
        app.screen.input.value = str(out)
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await settle(pilot)
        assert pq.read_table(out).to_pylist() == expected
        # a bad extension is refused in the dialog; an unwritable path is a toast, not a crash
        await pilot.press("ctrl+e")
        await settle(pilot)
        assert isinstance(app.screen, ExportScreen)
        app.screen.input.value = str(tmp_path / "x.txt")
        await pilot.press("enter")
        assert isinstance(app.screen, ExportScreen)
        app.screen.input.value = "/proc/no/such/dir/x.csv"
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await settle(pilot)
        assert any(n.message.startswith("Export failed") for n in app._notifications)


# -- orientation -----------------------------------------------------------------------------------------
async def test_orientation_keys_pin_and_widen(tmp_path: Path) -> None:
    app = DebuggerApp(people_session(tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        await run_first(pilot, "people")
        view = app.data_view
        assert app.focused is app.step_list
        await pilot.press("l")  # from the step list into the table
        assert app.focused is view.table
        await pilot.press("escape")
        assert app.focused is app.step_list
        await pilot.press("enter")
        assert app.focused is view.table
        await pilot.press("G")
        assert cursor(app) == (5, 0) and "row 6 of 6" in status(app)
        await pilot.press("k", "k", "l", "l")
        assert cursor(app) == (3, 2) and "row 4 of 6 · col amount (3/4)" in status(app)
        await pilot.press("h", "j", "g")
        assert cursor(app) == (0, 1)
        # `!` pins city on the left as a key column
        await pilot.press("exclamation_mark")
        await settle(pilot)
        table = view.table
        assert table is not None and isinstance(table.backend, ViewBackend)
        assert list(table.backend.columns) == ["city", "id", "amount", "note"]
        assert table.fixed_columns == 1 and cursor(app)[1] == 0
        assert "col city (1/4)" in status(app)
        await pilot.press("l", "l", "exclamation_mark")  # amount too: pinned after city
        await settle(pilot)
        table = view.table
        assert table is not None and list(table.backend.columns) == ["city", "amount", "id", "note"]
        assert table.fixed_columns == 2
        await pilot.press("exclamation_mark")  # again: unpinned
        await settle(pilot)
        assert view.table is not None and view.table.fixed_columns == 1
        # `_` widens the note to its content (80 characters), and back
        note = list(view.table.backend.columns).index("note")
        view.table.move_cursor(column=note)
        await pilot.pause()
        assert view.table.ordered_columns[note].render_width <= MAX_COLUMN_WIDTH + 2
        await pilot.press("underscore")
        await settle(pilot)
        table = view.table
        assert table is not None and table.ordered_columns[note].render_width == 80 + 2
        assert table.cell_text(0, note).plain == "x" * 80
        await pilot.press("underscore")
        await settle(pilot)
        assert view.table is not None and view.table.ordered_columns[note].render_width <= MAX_COLUMN_WIDTH + 2
        assert view.table.cell_text(0, note).plain.endswith("…")


async def pause_before(pilot, step_id: str) -> None:
    """`c` to the breakpoint before `step_id`, that step selected (its input shown)."""
    app = pilot.app
    await pilot.press("c")
    await wait_session(pilot, lambda s: s.status(step_id).state is StepState.PAUSED and s.run_state is RunState.PAUSED)
    if app.selected_step_id != step_id:
        await pilot.press("down")
    await settle(pilot)


# -- a paused step's input, and inputs and output in turn ----------------------------------------------
async def test_the_explorer_on_a_paused_steps_input_and_its_output(tmp_path: Path) -> None:
    session = quickstart_session(tmp_path, breakpoints=["revenue"])
    app = DebuggerApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pause_before(pilot, "revenue")
        view = app.data_view
        assert view.input_header.startswith("not run yet — input df_extract_orders of revenue · 5,000 rows")
        await pilot.press("w")
        await type_in(pilot, "status = 'paid'")
        await pilot.press("enter")
        await settle(pilot)
        orders = session.output_table("extract-orders")
        assert orders is not None
        paid = orders.column("status").to_pylist().count("paid")
        assert view.table is not None and view.table.row_count == paid
        assert f"{paid:,} of 5,000 rows match" in view.banner_text
        await pilot.press("slash")
        await type_in(pilot, "paid")
        await pilot.press("enter")
        await settle(pilot)
        assert view.matches is not None and len(view.matches) >= paid
        await pilot.press("escape")
        status_column = orders.column_names.index("status")
        assert view.table is not None
        view.table.move_cursor(column=status_column)
        await pilot.press("F")
        await settle(pilot)
        assert view.mode == "frequency" and view.table is not None
        assert view.table.backend.data.to_pylist()[0]["value"] == "paid"
        await pilot.press("escape")
        # `i` to the other input (a frame of its own: no filter), then run: output first
        await pilot.press("i")
        await settle(pilot)
        assert view.input_header.startswith("not run yet — input df_extract_customers of revenue")
        assert not view.where and view.table is not None and view.table.row_count == 300
        await pilot.press("n")
        await wait_session(pilot, lambda s: s.status("revenue").state is StepState.DONE)
        assert view.input_header.startswith("output of revenue · ")
        await pilot.press("i")
        await settle(pilot)
        assert view.input_header.startswith("input df_extract_orders of revenue · 5,000 rows · from extract-orders")


# -- a long operation: Esc abandons it, keys answer meanwhile -----------------------------------------
async def test_esc_abandons_a_sort_and_keys_answer_while_it_runs(tmp_path: Path, monkeypatch: Any) -> None:
    release, entered = threading.Event(), threading.Event()
    original = FrameView.sorted

    def slow_sorted(self: FrameView, column: str, order: str = "ascending") -> FrameView:
        entered.set()
        release.wait(30)
        return original(self, column, order)

    monkeypatch.setattr(FrameView, "sorted", slow_sorted)
    session = session_for(tmp_path, [Step("nums", "test.range", {"rows": 100})])
    app = DebuggerApp(session)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await run_first(pilot, "nums")
            view = app.data_view
            await pilot.press("enter", "s")
            assert view.running == "sort" and "sorting… Esc abandons" in status(app)
            await pilot.press("2")  # the app answers while the sort runs
            assert app.tabs.active == "config"
            await pilot.press("1", "escape")
            assert view.running is None and view.sort is None
            assert any("Abandoned" in n.message for n in app._notifications)
            release.set()
            await app.workers.wait_for_complete()
            await settle(pilot)
            assert view.sort is None  # the abandoned result is dropped
            assert view.table is not None and view.table.get_cell_at(_c(0, 0)) == 0
    finally:
        release.set()


# -- the same keys on a paused step's input ---------------------------------------------------------------
def people_input_session(root: Path) -> DebugSession:
    """`check` paused at a breakpoint before it runs: the Data tab shows its input, the people."""
    reg = registry()
    reg.register("test.people", PeopleDriver)
    steps = [Step("people", "test.people", {}), Step("check", "test.range", {"rows": 2}, needs=["people"])]
    return DebugSession(pipeline(root, steps), registry=reg, run_dir=root / "run", breakpoints=["check"])


async def test_the_keys_on_a_paused_steps_input(tmp_path: Path, monkeypatch: Any) -> None:
    release = threading.Event()
    original = FrameView.sorted

    def slow_sorted(self: FrameView, column: str, order: str = "ascending") -> FrameView:
        release.wait(30)
        return original(self, column, order)

    monkeypatch.setattr(FrameView, "sorted", slow_sorted)
    session = people_input_session(tmp_path)
    app = DebuggerApp(session)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pause_before(pilot, "check")
            view = app.data_view
            assert view.input_header.startswith("not run yet — input df_people of check · 6 rows · from people")
            source = session.output_table("people")
            assert source is not None and view.view is not None and view.view.table is source
            # Enter and `l` from the step list into the table, Esc back
            app.step_list.focus()
            await pilot.press("enter")
            assert app.focused is view.table
            await pilot.press("escape")
            assert app.focused is app.step_list
            await pilot.press("l")
            assert app.focused is view.table
            # g/G j/k h/l
            await pilot.press("G")
            assert cursor(app) == (5, 0) and "row 6 of 6 · col id (1/4)" in status(app)
            await pilot.press("k", "l", "l")
            assert cursor(app) == (4, 2) and "row 5 of 6 · col amount (3/4)" in status(app)
            await pilot.press("h", "g", "j")
            assert cursor(app) == (1, 1)
            # `!` pins city: the source order changes, the screen shows it first
            await pilot.press("exclamation_mark")
            await settle(pilot)
            table = view.table
            assert table is not None and list(table.backend.columns) == ["city", "id", "amount", "note"]
            assert table.fixed_columns == 1 and "col city (1/4)" in status(app)
            assert table.render_line(0).text.split()[:2] == ["city", "id"]
            await pilot.press("exclamation_mark")
            await settle(pilot)
            assert view.table is not None and view.table.fixed_columns == 0
            # `_` widens the 80-character note to its content
            note = list(view.table.backend.columns).index("note")
            view.table.move_cursor(row=0, column=note)
            await pilot.pause()
            assert view.table.ordered_columns[note].render_width <= MAX_COLUMN_WIDTH + 2
            await pilot.press("underscore")
            await settle(pilot)
            assert view.table is not None and view.table.ordered_columns[note].render_width == 80 + 2
            assert view.table.cell_text(0, note).plain == "x" * 80
            painted = view.table.render_line(1).text  # the table scrolled to the cursor: the note, uncut
            assert painted.strip() == "x" * len(painted.strip()) and "…" not in painted
            await pilot.press("underscore")
            await settle(pilot)
            # a sort shows its progress line; Esc abandons it and the rows stay as they were
            view.table.move_cursor(column=2)  # amount
            await pilot.press("s")
            assert view.running == "sort" and "sorting… Esc abandons" in status(app)
            await pilot.press("2")  # the app answers while the sort runs
            assert app.tabs.active == "config"
            await pilot.press("1", "escape")
            assert view.running is None and view.sort is None
            release.set()
            await app.workers.wait_for_complete()
            await settle(pilot)
            assert view.sort is None and [r[0] for r in shown_rows(view.table)] == ["1", "2", "3", "4", "5", "6"]
            # then the sort itself: descending (twice), the view's order and the rows painted
            await pilot.press("s", "s")
            await settle(pilot)
            assert view.sort == ("amount", "descending") and view.view is not None
            ordered = view.view.materialize()
            assert ordered.column("id").to_pylist() == [2, 4, 6, 3, 1, 5]
            assert [r[0] for r in shown_rows(view.table)] == ["2", "4", "6", "3", "1", "5"]
            assert str(view.table.ordered_columns[2].label) == "amount ▼"
            # a SQL error in a filter: pointed at, the rows unchanged
            await pilot.press("w")
            await type_in(pilot, "amount > AND city = 'Oslo'")
            await pilot.press("enter")
            await settle(pilot)
            lines = view.filter_bar.error_message.splitlines()
            assert lines[0] == "amount > AND city = 'Oslo'" and lines[1].index("^") == 9
            assert "syntax error" in lines[1]
            assert not view.where and view.table is not None and view.table.row_count == 6
            await pilot.press("escape")
            await settle(pilot)
            # the frequency of a column with NULLs, and describe: the counts, and as painted
            view.table.focus()
            view.table.move_cursor(column=1)  # city
            await pilot.press("F")
            await settle(pilot)
            assert view.mode == "frequency" and view.table is not None
            counted = view.table.backend.data.to_pylist()
            assert [(r["value"], r["count"]) for r in counted] == [("Oslo", 3), (None, 2), ("Rome", 1)]
            assert [r[:2] for r in shown_rows(view.table)] == [["Oslo", "3"], ["∅", "2"], ["Rome", "1"]]
            await pilot.press("escape", "d")
            await settle(pilot)
            assert view.describing and view.table is not None
            city = next(r for r in view.table.backend.data.to_pylist() if r["column"] == "city")
            assert (city["count"], city["nulls"], city["distinct"], city["mode"]) == (4, 2, 2, "Oslo")
            painted = next(r for r in shown_rows(view.table) if r[0] == "city")
            assert painted[2:4] == ["4", "2"]  # after the dtype: count, nulls
            await pilot.press("d")
            await settle(pilot)
            assert not view.describing and view.sort == ("amount", "descending")
            # export: the input as shown (sorted), read back value for value
            await pilot.press("ctrl+e")
            await settle(pilot)
            screen = app.screen
            assert isinstance(screen, ExportScreen)
            path = tmp_path / "run" / "exports" / "check.df_people.csv"
            assert screen.input.value == str(path)
            assert "6 rows of input df_people of check" in screen.what and "sorted by amount ▼" in screen.what
            await pilot.press("enter")
            await app.workers.wait_for_complete()
            await settle(pilot)
            expected = ordered.to_pylist()
            back = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(
                column_types={"city": pa.string(), "note": pa.string()},
                strings_can_be_null=True, quoted_strings_can_be_null=False))  # NULL is empty, "" is quoted
            assert back.to_pylist() == expected
            assert [r["city"] for r in expected] == [None, "Oslo", "Oslo", "Rome", "Oslo", None]
            assert any(str(path) in n.message and "6 rows" in n.message for n in app._notifications)
            await pilot.press("ctrl+e")
            await settle(pilot)
            assert isinstance(app.screen, ExportScreen)
            out = tmp_path / "people.parquet"
            app.screen.input.value = str(out)
            await pilot.press("enter")
            await app.workers.wait_for_complete()
            await settle(pilot)
            parquet = pq.read_table(out)
            assert parquet.schema.remove_metadata() == source.schema.remove_metadata()
            assert parquet.to_pylist() == expected
            assert session.status("check").state is StepState.PAUSED  # exploring never ran the step
    finally:
        release.set()
