"""The diff view (`D` on the Data tab): after `r`, the step's output against its previous output."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
from rich.text import Text
from textual.app import App

from osiris_tui.frames.diff import diff
from osiris_tui.manifest import load_pipeline
from osiris_tui.runtime.connections import Connections
from osiris_tui.runtime.previous_outputs import PreviousOutput
from osiris_tui.runtime.session import DebugSession, RunState, StepState
from osiris_tui.tui.app import DebuggerApp
from osiris_tui.tui.screens.row_view import RowViewScreen
from osiris_tui.tui.widgets.data.diff_view import (
    CHANGED_CELL,
    DiffScreen,
    KeyPicker,
    configured_keys,
    render_page,
    row_fields,
)

try:
    from tests.tui.app_support import settle, wait_session
except ImportError:  # tests/tui is not a package: pytest put this directory on sys.path
    from app_support import settle, wait_session  # type: ignore[no-redef]

SAMPLE = Path(__file__).resolve().parents[2] / "sample_manifests" / "osiris_compiled"
SIZE = (100, 30)
# the edit: films before 1960 get one more point
EDITED = ("SELECT m.title, m.year, CASE WHEN m.year < 1960 THEN m.rating + 1 ELSE m.rating END AS rating, "
          "d.name AS director, d.country FROM df_extract_movies m JOIN df_extract_directors d "
          "ON d.id = m.director_id ORDER BY d.name, m.year")


def compiled_session(root: Path) -> tuple[DebugSession, Path]:
    """The compiled sample (cfg/*.json), its join keyed by title (`primary_key` in its cfg)."""
    sample = root / "compiled"
    shutil.copytree(SAMPLE, sample, ignore=shutil.ignore_patterns("out", ".osiris-tui"))
    cfg = sample / "cfg" / "join-movies.json"
    cfg.write_text(json.dumps({**json.loads(cfg.read_text()), "primary_key": ["title"]}))
    manifest = sample / "manifest.yaml"
    session = DebugSession(load_pipeline(manifest), connections=Connections.discover(sample), run_dir=root / "run",
                           reload=lambda: load_pipeline(manifest))
    return session, cfg


async def rerun_edited(pilot, app: DebuggerApp, cfg: Path) -> None:
    """Run to the end, select the join, edit its query in the cfg file, `r`."""
    await settle(pilot)
    await pilot.press("c")
    await wait_session(pilot, lambda s: s.run_state is RunState.FINISHED)
    await pilot.press("home", "down", "down")
    await settle(pilot)
    assert app.selected_step_id == "join-movies"
    cfg.write_text(json.dumps({**json.loads(cfg.read_text()), "query": EDITED}))
    await pilot.press("r")
    await wait_session(pilot, lambda s: s.status("join-movies").runs == 2)


async def test_rerun_then_d_shows_the_summary_and_the_changed_cells(tmp_path: Path) -> None:
    session, cfg = compiled_session(tmp_path)
    app = DebuggerApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await rerun_edited(pilot, app, cfg)
        # the Data tab offers it
        assert "D what changed since the last run" in str(app.data_view.query_one("#data-shape").render())
        old = session.previous_output("join-movies").table
        new = session.output_table("join-movies")
        expected = diff(old, new, ["title"])
        assert expected.changed > 0 and expected.cells["rating"] == expected.changed

        await pilot.press("D")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DiffScreen)
        result = screen.result
        assert result is not None and result.keys == ("title",)
        assert (result.changed, result.added, result.removed) == (expected.changed, 0, 0)
        summary = str(screen.summary.render())
        assert f"{expected.changed} changed" in summary and "changed cells rating" in summary
        # the cursor is on the first changed cell, highlighted, as old → new
        table = screen.table
        cell = table.get_cell_at(table.cursor_coordinate)
        assert isinstance(cell, Text) and "→" in cell.plain
        assert any(str(span.style) == CHANGED_CELL for span in cell.spans)
        assert screen.page is not None and screen.page.columns[table.cursor_coordinate.column - 1] == "rating"
        first = table.cursor_coordinate
        await pilot.press("right_square_bracket")
        assert table.cursor_coordinate.row == first.row + 1 and screen.change_index == 1
        await pilot.press("left_square_bracket")
        assert table.cursor_coordinate == first
        assert "change 1 of" in str(screen.status.render())
        # Enter: the row in full, the changed cell's two values
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, RowViewScreen)
        assert {"rating (A)", "rating (B)", "title"} <= {f.name for f in app.screen.fields}
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen
        # run keys do nothing behind it
        await pilot.press("r", "c")
        await settle(pilot)
        assert session.status("join-movies").runs == 2

        # K: no key columns → whole rows, as multisets
        await pilot.press("K")
        await settle(pilot)
        assert isinstance(app.screen, KeyPicker)
        await pilot.press("space", "enter")
        await settle(pilot)
        assert app.screen is screen and screen.result is not None
        assert screen.result.kind == "rows"
        assert (screen.result.removed, screen.result.added) == (expected.changed, expected.changed)

        # i: the next comparison, the first input against the output
        await pilot.press("i")
        await settle(pilot)
        assert screen.result is not None and screen.result.names[0].startswith("input df_extract_movies")
        assert screen.result.schema_changed
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, DiffScreen)


async def test_d_before_the_step_ran_says_so(tmp_path: Path) -> None:
    session, _ = compiled_session(tmp_path)
    app = DebuggerApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("D")
        await settle(pilot)
        assert not isinstance(app.screen, DiffScreen)


def test_configured_keys() -> None:
    assert configured_keys({"primary_key": "id"}) == ("id",)
    assert configured_keys({"primary_key": "a, b"}) == ("a", "b")
    assert configured_keys({"upsert_keys": ["k1", "k2"]}) == ("k1", "k2")
    assert configured_keys({"query": "SELECT 1"}) == ()


def test_render_page_marks_each_kind_of_row() -> None:
    a = pa.table({"id": [1, 2, 3], "v": [1.5, 2.0, 3.0], "gone": ["x", "y", "z"]})
    b = pa.table({"id": [2, 3, 4], "v": [2.0, 3.25, 4.0]})
    result = diff(a, b, ["id"])
    page = render_page(result, result.page(0, 10))
    assert page.columns == ["id", "v", "gone"]
    assert [row[0].plain for row in page.rows] == ["-", "~", "+"]
    assert page.rows[1][2].plain == "3.0 → 3.25"
    assert page.changes == [(0, 0), (1, 2), (2, 0)]
    assert page.rows[0][3].plain == "x" and page.rows[2][3].plain == ""


class _Status:
    state = StepState.DONE
    runs = 2


class _Step:
    config = {"primary_key": "id"}


class _Pipeline:
    def step(self, step_id: str) -> _Step:
        return _Step()


class StubSession:
    """What the diff screen asks of a session: a step's output, its previous output and its inputs."""

    def __init__(self, before: pa.Table, after: pa.Table) -> None:
        self.before, self.after = before, after
        self.pipeline = _Pipeline()

    def status(self, step_id: str) -> _Status:
        return _Status()

    def output_table(self, step_id: str) -> pa.Table:
        return self.after

    def previous_output(self, step_id: str) -> PreviousOutput:
        return PreviousOutput(self.before, 1)

    def input_tables(self, step_id: str) -> list:
        return []


async def test_esc_while_comparing_cancels_the_comparison() -> None:
    n = 3_000_000
    rng = np.random.default_rng(2)
    before = pa.table({"id": rng.permutation(n), "v": rng.random(n)})
    after = pa.table({"id": rng.permutation(n), "v": rng.random(n)})
    app = App()
    async with app.run_test(size=SIZE) as pilot:
        screen = DiffScreen(StubSession(before, after), "big")  # type: ignore[arg-type]
        app.push_screen(screen)
        await pilot.pause()
        assert screen.computing
        assert "comparing" in str(screen.status.render())
        for _ in range(1000):  # until the worker has started the job (it gathers the frames first)
            if screen._job is not None:
                break
            await pilot.pause()
        job = screen._job
        assert job is not None
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is not screen and not screen.computing
        assert job.cancelled
        await app.workers.wait_for_complete()
        assert screen.result is None


async def test_a_duplicate_key_is_shown_with_the_way_out() -> None:
    before = pa.table({"id": [1, 1, 2], "v": [1, 2, 3]})
    after = pa.table({"id": [1, 2], "v": [1, 4]})
    app = App()
    async with app.run_test(size=SIZE) as pilot:
        screen = DiffScreen(StubSession(before, after), "dup")  # type: ignore[arg-type]
        app.push_screen(screen)
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        text = str(screen.summary.render())
        assert "id is not unique in previous output of dup (run 1)" in text and "K picks other key columns" in text
        await pilot.press("K")
        await pilot.pause()
        assert isinstance(app.screen, KeyPicker)
        await pilot.press("space", "enter")  # untick id: whole rows
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.result is not None and screen.result.kind == "rows"
        assert (screen.result.removed, screen.result.added) == (2, 1)


def test_row_fields_give_both_values_of_a_changed_cell() -> None:
    a = pa.table({"id": [1, 2], "v": [1.5, 2.0], "gone": ["x", "y"]})
    b = pa.table({"id": [1, 2], "v": [1.5, 2.25], "new": [True, False]})
    result = diff(a, b, ["id"])
    page = result.page(0, 10)
    fields = row_fields(result, page, 0)
    assert [(f.name, f.value) for f in fields] == [("id", 2), ("v (A)", 2.0), ("v (B)", 2.25), ("new", False),
                                                   ("gone", "y")]


async def test_columns_named_like_anything() -> None:
    before = pa.table({"id": [1, 2], "±": ["a", "b"], "c0": [1, 2], "status": ["x", "y"]})
    after = pa.table({"id": [1, 2], "±": ["a", "B"], "c0": [1, 3], "status": ["x", "y"]})
    app = App()
    async with app.run_test(size=SIZE) as pilot:
        screen = DiffScreen(StubSession(before, after), "odd")  # type: ignore[arg-type]
        app.push_screen(screen)
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.result is not None and screen.result.changed == 1
        assert screen.result.cells == {"±": 1, "c0": 1, "status": 0}
        assert screen.page is not None and screen.page.columns == ["id", "±", "c0", "status"]
        assert len(screen.table.columns) == 5
