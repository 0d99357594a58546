"""The debugger's widgets driven through the app by their keys and the mouse (Pilot), waiting on state."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import shutil
from pathlib import Path

import pandas as pd
import pytest
from textual.app import App
from textual.command import CommandPalette
from textual.message_pump import MessagePump
from textual.widgets import OptionList

import osiris_tui.tui
from osiris_tui.manifest import load_pipeline
from osiris_tui.manifest.model import Step
from osiris_tui.runtime.session import DebugSession, RunState, StepState
from osiris_tui.tui.app import DebuggerApp, KeyBar
from osiris_tui.tui.commands import KEYS
from osiris_tui.tui.screens.help import HelpScreen
from osiris_tui.tui.widgets.event_log import Entry
from osiris_tui.tui.widgets.metrics_view import TOTAL_KEY
from osiris_tui.tui.widgets.step_list import fit_labels

try:
    from tests.tui.app_support import REPO, quickstart_session, session_for, settle, wait_session
except ImportError:  # tests/tui is not a package: pytest put this directory on sys.path
    from app_support import (  # type: ignore[no-redef]
        REPO,
        quickstart_session,
        session_for,
        settle,
        wait_session,
    )

SIZE = (120, 36)


def screen_lines(app: App) -> list[str]:
    """What the terminal shows, one string per row."""
    return [strip.text for strip in app.screen._compositor.render_strips()]


def copy_failing(root: Path) -> Path:
    """A private copy of the failing sample (and of the quickstart data it reads)."""
    for name in ("failing", "quickstart"):
        shutil.copytree(REPO / "sample_manifests" / name, root / "samples" / name,
                        ignore=shutil.ignore_patterns("out", ".osiris-tui"))
    return root / "samples" / "failing" / "manifest.yaml"


def failing_session(root: Path) -> DebugSession:
    manifest = copy_failing(root)
    return DebugSession(load_pipeline(manifest), run_dir=root / "run", reload=lambda: load_pipeline(manifest))


# -- names shared with Textual ------------------------------------------------------------------------
# Names Textual's metaclass or class machinery sets on every subclass, and the hooks meant to be overridden.
_GENERATED = {"_decorated_handlers", "_reactives", "_inherit_css", "_inherit_bindings", "_inherit_component_classes",
              "_css_type_name", "_css_type_names", "_merged_bindings", "_computes", "can_focus",
              "can_focus_children"}


def _tui_classes() -> list[type]:
    modules = [importlib.import_module(m.name)
               for m in pkgutil.walk_packages(osiris_tui.tui.__path__, osiris_tui.tui.__name__ + ".")]
    return [cls for module in modules for _, cls in inspect.getmembers(module, inspect.isclass)
            if cls.__module__ == module.__name__ and issubclass(cls, MessagePump)]


# Private methods replaced on purpose (each says so in a comment where it is defined).
_DELIBERATE = {"ExactDataTable._get_cell_renderable", "ExactDataTable._set_tooltip_from_cell_at"}


def test_no_widget_overrides_a_private_textual_name() -> None:
    """A private method of ours with the name of one of Textual's replaces it (StepList once had `_render`)."""
    clashes = []
    for cls in _tui_classes():
        textual_bases = [b for b in cls.__mro__[1:] if b.__module__.startswith("textual")]
        for name in vars(cls):
            if name.startswith("_") and not name.startswith("__") and name not in _GENERATED:
                owner = next((b for b in textual_bases if name in vars(b)), None)
                if owner is None:
                    continue
                where = f"{cls.__qualname__}.{name}"
                if where in _DELIBERATE:  # meant to replace it: the signature must still match
                    assert inspect.signature(vars(cls)[name]) == inspect.signature(vars(owner)[name]), where
                    continue
                clashes.append(f"{where} hides {owner.__qualname__}.{name}")
    assert clashes == []


# -- step list ----------------------------------------------------------------------------------------
async def test_double_click_on_the_step_list_then_ctrl_c_keeps_the_app_running(tmp_path: Path) -> None:
    """ctrl+c copies the selected text; the step list's text selection must not break that."""
    app = DebuggerApp(quickstart_session(tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.double_click("#steps", offset=(6, 1 + 3))  # extract-orders takes 3 lines (→ revenue)
        await settle(pilot)
        assert app.selected_step_id == "extract-customers"
        await pilot.press("ctrl+c")
        await settle(pilot)
        assert app.is_running
        assert app.return_code is None
        await pilot.press("down")  # still answering keys
        assert app.selected_step_id == "revenue"


# -- error panel --------------------------------------------------------------------------------------
def _caret_under_the_column(lines: list[str], column: str) -> bool:
    """A `LINE n:` row with the `^^^` row right under it, pointing at `column`."""
    for row, text in enumerate(lines[:-1]):
        if "LINE 1: SELECT country, " in text:
            return lines[row + 1].find("^" * len(column)) == text.find(column)
    return False


async def test_error_panel_shows_the_sql_caret_at_100x30(tmp_path: Path) -> None:
    app = DebuggerApp(failing_session(tmp_path))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await wait_session(pilot, lambda s: s.run_state is RunState.FAILED)
        assert app.selected_step_id == "enrich" and app.error_panel.display
        lines = screen_lines(app)
        text = "\n".join(lines)
        assert "Execution failed: DuckDB transformation failed" in text  # the message first
        assert _caret_under_the_column(lines, "segmnt")
        assert "hint: edit the config" in text
        panel = app.error_panel
        assert panel.region.height <= 0.4 * app.query_one("#right-pane").region.height + 1


async def test_error_panel_scrolls_to_the_traceback_at_80x24(tmp_path: Path) -> None:
    app = DebuggerApp(failing_session(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await wait_session(pilot, lambda s: s.run_state is RunState.FAILED)
        panel = app.error_panel
        assert panel.display and panel.max_scroll_y > 0
        assert "Traceback (most recent call last):" not in "\n".join(screen_lines(app))
        await pilot.press("E")
        assert app.focused is panel
        for _ in range(20):
            if "Traceback (most recent call last):" in "\n".join(screen_lines(app)):
                break
            await pilot.press("pagedown")
            await settle(pilot)
        assert "Traceback (most recent call last):" in "\n".join(screen_lines(app))
        await pilot.press("end")
        await settle(pilot)
        assert panel.scroll_y == panel.max_scroll_y
        assert _caret_under_the_column(screen_lines(app), "segmnt")  # the traceback ends with the error
        await pilot.press("home")
        await settle(pilot)
        assert panel.scroll_y == 0
        assert "Execution failed: DuckDB" in "\n".join(screen_lines(app))
        # fix the SQL, re-run: the panel goes away, and the focus goes back to the step list
        manifest = tmp_path / "samples" / "failing" / "manifest.yaml"
        manifest.write_text(manifest.read_text().replace("segmnt AS segment", "segment"))
        await pilot.press("r")
        await wait_session(pilot, lambda s: s.status("enrich").state is StepState.DONE)
        assert not panel.display
        assert app.focused is app.step_list
        await pilot.press("E")  # a hidden panel takes no focus
        assert app.focused is app.step_list


# -- run to the selected step -------------------------------------------------------------------------
async def test_run_to_keeps_the_chosen_step_selected(tmp_path: Path) -> None:
    session = quickstart_session(tmp_path)
    app = DebuggerApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("end")
        assert app.selected_step_id == "save-revenue"
        await pilot.press("t")
        await wait_session(pilot, lambda s: s.status("revenue").state is StepState.DONE)
        assert session.status("save-revenue").state is StepState.PAUSED
        assert app.selected_step_id == "save-revenue"
        assert app.step_list.selected_step_id == "save-revenue"
        assert app.data_view.input_header.startswith("not run yet — input df_revenue of save-revenue")
        # the next run command follows the run again
        await pilot.press("n")
        await wait_session(pilot, lambda s: s.run_state is RunState.FINISHED)
        assert app.selected_step_id == "save-revenue"


# -- metrics ------------------------------------------------------------------------------------------
def _metric_cells(app: DebuggerApp, column: str) -> dict[str, str]:
    view = app.metrics_view
    return {key: str(view.get_cell(key, column)) for key in [*app.step_list.step_ids, TOTAL_KEY]}


async def test_metrics_rows_written_match_what_the_run_wrote(tmp_path: Path) -> None:
    session = quickstart_session(tmp_path)
    app = DebuggerApp(session, run=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_session(pilot, lambda s: s.run_state is RunState.FINISHED)
        await pilot.press("5")
        await settle(pilot)
        assert app.tabs.active == "metrics"
        written_csv = tmp_path / "quickstart" / "out" / "revenue_by_country.csv"
        real = len(pd.read_csv(written_csv))
        assert real == 24
        written = _metric_cells(app, "written")
        assert written["save-revenue"] == str(real)
        assert written[TOTAL_KEY] == str(real)  # not 48: the DuckDB step's 24 output rows are not written out
        read = _metric_cells(app, "read")
        assert read[TOTAL_KEY] == "5,300"  # the two CSVs read, not again the 5,300 rows DuckDB read from them
        # re-running the writer replaces its count rather than adding to it
        await pilot.press("r")
        await wait_session(pilot, lambda s: s.status("save-revenue").runs == 2)
        assert session.status("save-revenue").state is StepState.DONE
        written = _metric_cells(app, "written")
        assert written["save-revenue"] == written[TOTAL_KEY] == str(real)
        # re-running the DuckDB step resets the writer after it: no count until it runs again
        await pilot.press("up", "r")
        await wait_session(pilot, lambda s: s.status("revenue").runs == 2)
        written = _metric_cells(app, "written")
        assert written["revenue"] == "24" and written["save-revenue"] == "—"
        await pilot.press("c")
        await wait_session(pilot, lambda s: s.run_state is RunState.FINISHED)
        assert _metric_cells(app, "written")["save-revenue"] == str(real)


# -- event log ----------------------------------------------------------------------------------------
def _step_column(entries: list[Entry]) -> int:
    """Where the step column starts, from a `step_start` line (its name does not contain the id)."""
    first = next(e for e in entries if e.text.split()[1] == "step_start")
    return first.text.index(f" {first.step}", len(first.text.split()[0]) + len(" step_start")) + 1


async def test_event_log_columns_align_with_long_names(tmp_path: Path) -> None:
    app = DebuggerApp(quickstart_session(tmp_path), run=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_session(pilot, lambda s: s.run_state is RunState.FINISHED)
        await pilot.press("4")
        await settle(pilot)
        entries = app.event_log.lines.entries
        names = {e.text.split()[1] if e.kind == "event" else e.text.split()[2] for e in entries}
        assert {"connection_resolve_complete", "adapter_prepare_complete"} <= names  # longer than 24
        column = _step_column(entries)
        with_step = [e for e in entries if e.step]
        assert len(with_step) > 20
        for entry in with_step:
            assert entry.text[column - 1] == " ", entry.text
            assert entry.text[column:column + len(entry.step)] == entry.step, entry.text
        # a name longer than the column is cut in the middle, keeping its end
        cut = [e.text.split()[2] for e in entries if e.kind == "metric" and e.step.startswith("extract-")
               and e.text.split()[2].startswith("step_")]
        assert len(cut) == 2 and all("…" in name and name.endswith("_duration") for name in cut), cut


# -- long step ids ------------------------------------------------------------------------------------
LONG_IDS = ["extract_customers_from_mysql_prod_a", "extract_customers_from_mysql_prod_b",
            "join_customers_with_orders_and_payments"]


def test_long_ids_are_cut_in_the_middle_and_stay_distinct() -> None:
    labels = fit_labels(LONG_IDS, 20)
    assert labels["extract_customers_from_mysql_prod_a"] == "extract_cu…ql_prod_a"
    assert len(set(labels.values())) == len(LONG_IDS)
    assert all(len(label) == 20 for label in labels.values())
    # ids that differ only in the middle: the cut moves so that the difference shows
    middle = ["load_customers_eu_region_into_the_warehouse", "load_customers_us_region_into_the_warehouse"]
    cut = fit_labels(middle, 24)
    assert len(set(cut.values())) == 2 and all(len(v) == 24 for v in cut.values()), cut
    assert fit_labels(["short", "also_short"], 20) == {"short": "short", "also_short": "also_short"}


async def test_step_list_keeps_long_ids_distinct(tmp_path: Path) -> None:
    steps = [Step(LONG_IDS[0], "test.range", {"rows": 3}), Step(LONG_IDS[1], "test.range", {"rows": 4}),
             Step(LONG_IDS[2], "test.range", {"rows": 5}, needs=LONG_IDS[:2])]
    app = DebuggerApp(session_for(tmp_path, steps))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        step_list = app.step_list
        lines = [strip.text for strip in (step_list.render_line(y) for y in range(step_list.size.height))]
        id_lines = [lines[0], lines[3], lines[6]]  # each step's first line (the first two: 3 lines, with →)
        assert all("…" in line for line in id_lines), id_lines  # the ids are longer than the list is wide
        assert "_prod_a" in id_lines[0] and "_prod_b" in id_lines[1]
        assert len({line.split()[1] for line in id_lines}) == 3
        await pilot.press("c")
        await wait_session(pilot, lambda s: s.run_state is RunState.FINISHED)
        lines = [strip.text for strip in (step_list.render_line(y) for y in range(step_list.size.height))]
        assert "_prod_a" in lines[0] and "_prod_b" in lines[3]  # with durations shown too
        assert lines[2].strip().startswith("→ join_customers_with_orders")  # what needs it, cut to fit


# -- key bar, help and palette ------------------------------------------------------------------------
@pytest.mark.parametrize("size", [(80, 24), (100, 30), (120, 36), (60, 20)])
async def test_key_bar_always_shows_help_quit_and_the_palette(tmp_path: Path, size: tuple[int, int]) -> None:
    app = DebuggerApp(quickstart_session(tmp_path))
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        bar = screen_lines(app)[-1]
        assert app.query_one(KeyBar).region.y == size[1] - 1
        assert "? Help" in bar and "q Quit" in bar and "^p palette" in bar, bar
        assert bar.rstrip().endswith("^p palette"), bar  # on the right
        assert bar.startswith(" n Step  c Continue"), bar  # the run keys dropped last-first
        if size[0] >= 120:
            for k in KEYS:
                if k.show:
                    assert f" {k.display.split(' / ')[0]} {k.label}" in bar, k.label
        await pilot.click(KeyBar, offset=(bar.index("? Help") + 1, 0))  # still clickable
        assert isinstance(app.screen, HelpScreen)


async def test_help_and_palette_list_every_key(tmp_path: Path) -> None:
    app = DebuggerApp(quickstart_session(tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        # the help scrolls: read it page by page
        body = app.screen.query_one("#help-body")
        pages = []
        for _ in range(40):
            region = body.content_region  # the help's own text: wrapped descriptions read as one line
            lines = screen_lines(app)[region.y:region.bottom]
            pages.append(" ".join(line[region.x:region.right] for line in lines))
            if body.scroll_y >= body.max_scroll_y:
                break
            body.scroll_page_down(animate=False)
            await pilot.pause()
        help_text = " ".join(" ".join(pages).split())
        for k in KEYS:
            if not k.action.startswith("switch_tab"):
                assert k.description in help_text, k.description
        assert "1 … 6 Tabs: Data, Config, Connection, Events, Metrics, Graph" in help_text
        await pilot.press("escape")
        await pilot.press("ctrl+p")
        palette = app.screen
        assert isinstance(palette, CommandPalette)
        await palette.workers.wait_for_complete()
        await pilot.pause()
        options = palette.query_one(OptionList)
        shown = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        for k in KEYS:
            assert any(k.description in prompt and f"key: {k.display}" in prompt for prompt in shown), k.description


async def test_the_title_bar_draws_the_title_and_state_and_its_icon_opens_the_palette() -> None:
    from osiris_tui.tui.widgets.title_bar import TitleBar

    class Titled(App[None]):
        def compose(self):
            yield TitleBar(icon="◆")

    app = Titled()
    async with app.run_test(size=(60, 5)) as pilot:
        app.title, app.sub_title = "quickstart-orders", "ready before extract-orders"
        await pilot.pause()
        line = app.query_one(TitleBar).render_line(0).text
        assert len(line) == 60 and line.startswith(" ◆")
        assert "quickstart-orders — ready before extract-…" in line  # cut with … to fit between icon and edge
        app.sub_title = "done"
        await pilot.pause()
        line = app.query_one(TitleBar).render_line(0).text
        assert line.strip(" ◆") == "quickstart-orders — done"
        await pilot.click(TitleBar, offset=(1, 0))
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)
