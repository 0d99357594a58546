"""The app with stale steps (files watched) and breakpoints on data, driven by its keys; waits on state."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import pytest
from textual.widgets import Checkbox, Input, Static

from osiris_tui.cli import main
from osiris_tui.manifest import load_pipeline
from osiris_tui.runtime.breakpoints import Breakpoint, BreakpointStore
from osiris_tui.runtime.session import DebugSession, RunState, StepState
from osiris_tui.tui.app import DebuggerApp
from osiris_tui.tui.screens.breakpoint_dialog import BreakpointDialog
from osiris_tui.tui.screens.breakpoint_list import BreakpointList

try:
    from tests.tui.app_support import QUICKSTART, settle, wait_session
except ImportError:  # tests/tui is not a package: pytest put this directory on sys.path
    from app_support import QUICKSTART, settle, wait_session  # type: ignore[no-redef]

SIZE = (100, 30)
FAST_WATCH = {"quiet_ms": 50, "force_polling": True, "poll_delay_ms": 50, "timeout_ms": 100}
COMPILED = QUICKSTART.parent / "osiris_compiled"

# `empty` yields no rows, `full` three; `last` reads `full`.
DATA_MANIFEST = """\
name: data-checks
steps:
  - {id: empty, driver: duckdb.processor, config: {query: "SELECT 1 AS x WHERE false"}}
  - {id: full, driver: duckdb.processor, config: {query: "SELECT * FROM range(3) t(x)"}}
  - {id: last, driver: duckdb.processor, needs: [full], config: {query: "SELECT x FROM df_full"}}
"""


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # nothing is written to the checkout


def copy(sample: Path, root: Path) -> Path:
    target = root / sample.name
    shutil.copytree(sample, target, ignore=shutil.ignore_patterns("out", ".osiris-tui"))
    return target / "manifest.yaml"


def open_session(manifest: Path, root: Path, **kw) -> DebugSession:
    return DebugSession(load_pipeline(manifest), run_dir=root / "run", reload=lambda: load_pipeline(manifest), **kw)


def data_manifest(root: Path) -> Path:
    path = root / "checks" / "manifest.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(DATA_MANIFEST)
    return path


async def run_to_end(pilot) -> None:
    await pilot.press("c")
    await wait_session(pilot, lambda s: s.run_state is RunState.FINISHED)


async def watching(pilot) -> None:
    assert await asyncio.to_thread(pilot.app.watcher.ready.wait, 10)


def touch(path: Path) -> None:
    path.write_text(path.read_text())


# -- stale steps -----------------------------------------------------------------------------------------
async def test_touching_a_csv_input_shows_its_extractor_and_everything_below_stale(tmp_path: Path) -> None:
    manifest = copy(QUICKSTART, tmp_path)
    session = open_session(manifest, tmp_path)
    app = DebuggerApp(session, watch=FAST_WATCH)
    async with app.run_test(size=SIZE) as pilot:
        await run_to_end(pilot)
        await watching(pilot)
        touch(manifest.parent / "data" / "orders.csv")
        await wait_session(pilot, lambda s: len(s.stale_steps()) == 3, timeout=20)
        assert app.step_list.stale == {
            "extract-orders": "data/orders.csv changed",
            "revenue": "data/orders.csv changed (upstream extract-orders)",
            "save-revenue": "data/orders.csv changed (upstream extract-orders)",
        }
        await select(pilot, "extract-orders")
        assert "stale: data/orders.csv changed" in app.sub_title
        await select(pilot, "extract-customers")  # not stale: the header counts the others
        assert "↻ 3 stale" in app.sub_title
    assert not app.watcher.running  # quitting stops the watcher thread


async def test_editing_a_cfg_file_marks_its_step_stale(tmp_path: Path) -> None:
    manifest = copy(COMPILED, tmp_path)
    session = open_session(manifest, tmp_path)
    app = DebuggerApp(session, watch=FAST_WATCH)
    async with app.run_test(size=SIZE) as pilot:
        await run_to_end(pilot)
        await watching(pilot)
        cfg = manifest.parent / "cfg" / "join-movies.json"
        config = json.loads(cfg.read_text())
        config["query"] = config["query"].replace("ORDER BY d.name, m.year", "ORDER BY m.year")
        cfg.write_text(json.dumps(config))
        await wait_session(pilot, lambda s: "join-movies" in s.stale_steps(), timeout=20)
        assert app.step_list.stale["join-movies"] == "cfg/join-movies.json changed"
        assert set(app.step_list.stale) == {"join-movies", "write-report"}


async def test_c_reruns_the_stale_steps_first_then_continues(tmp_path: Path) -> None:
    manifest = copy(QUICKSTART, tmp_path)
    session = open_session(manifest, tmp_path, breakpoints=["save-revenue"])
    app = DebuggerApp(session, watch=FAST_WATCH)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("c")
        await wait_session(pilot, lambda s: s.run_state is RunState.PAUSED and s.next_step_id() == "save-revenue")
        await watching(pilot)
        orders = manifest.parent / "data" / "orders.csv"
        orders.write_text("\n".join(orders.read_text().splitlines()[:4]) + "\n")
        await wait_session(pilot, lambda s: "revenue" in s.stale_steps(), timeout=20)
        await pilot.press("c")
        await wait_session(pilot, lambda s: s.run_state is RunState.FINISHED)
        runs = {st.step_id: st.runs for st in session.statuses()}
        assert runs == {"extract-orders": 2, "extract-customers": 1, "revenue": 2, "save-revenue": 1}
        assert session.status("extract-orders").rows == 3
        assert app.step_list.stale == {} and "stale" not in app.sub_title


async def test_watch_reruns_stale_steps_whenever_the_run_is_paused(tmp_path: Path) -> None:
    manifest = copy(QUICKSTART, tmp_path)
    session = open_session(manifest, tmp_path, breakpoints=["save-revenue"])
    session.auto_rerun = True  # what `osiris-tui MANIFEST --watch` sets
    app = DebuggerApp(session, watch=FAST_WATCH)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("c")
        await wait_session(pilot, lambda s: s.run_state is RunState.PAUSED and s.next_step_id() == "save-revenue")
        assert "watching" in app.sub_title
        await watching(pilot)
        touch(manifest.parent / "data" / "customers.csv")
        await wait_session(pilot, lambda s: s.status("revenue").runs == 2 and not s.stale_steps(), timeout=20)
        assert session.run_state is RunState.PAUSED and session.next_step_id() == "save-revenue"
        assert session.status("extract-orders").runs == 1 and session.status("save-revenue").runs == 0
        assert app.step_list.stale == {}


def test_the_watch_flag_turns_on_automatic_reruns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[bool] = []
    monkeypatch.setattr(DebuggerApp, "run", lambda self, **kw: seen.append(self.load_session().auto_rerun))
    manifest = copy(QUICKSTART, tmp_path)
    assert main([str(manifest), "--watch", "--run-dir", str(tmp_path / "r1")]) == 0
    assert main([str(manifest), "--run-dir", str(tmp_path / "r2")]) == 0
    assert seen == [True, False]


async def select(pilot, step_id: str) -> None:
    """Select a step with the keys (the step list focused)."""
    app = pilot.app
    app.step_list.focus()
    await pilot.press("home", *["down"] * app.step_list.step_ids.index(step_id))
    await settle(pilot)
    assert app.selected_step_id == step_id


def shown(widget: Static) -> list[str]:
    """The widget's lines as on screen, without trailing blanks."""
    return [strip.text.rstrip() for strip in widget.render_lines(widget.region.reset_offset)]


# -- breakpoints on data --------------------------------------------------------------------------------------
async def set_breakpoint(pilot, step_id: str, *, after: bool, condition: str = "", ignore: str | None = None,
                         enabled: bool = True) -> BreakpointDialog:
    app = pilot.app
    await select(pilot, step_id)
    await pilot.press("B")
    await settle(pilot)
    dialog = app.screen
    assert isinstance(dialog, BreakpointDialog)
    if after:
        await pilot.click("#bp-after")
    field = dialog.query_one("#bp-condition", Input)
    field.value = ""
    field.focus()
    if condition:
        await pilot.press(*condition)
    if ignore is not None:
        dialog.query_one("#bp-ignore", Input).value = ignore
    if not enabled:
        dialog.query_one("#bp-enabled", Checkbox).value = False
    await settle(pilot)
    return dialog


async def test_a_conditional_breakpoint_stops_after_a_step_with_no_rows_and_not_after_one_with_rows(
        tmp_path: Path) -> None:
    session = open_session(data_manifest(tmp_path), tmp_path)
    app = DebuggerApp(session, watch=FAST_WATCH)
    async with app.run_test(size=SIZE) as pilot:
        for step_id in ("full", "empty"):
            await set_breakpoint(pilot, step_id, after=True, condition="count(*) = 0")
            await pilot.press("enter")
            await settle(pilot)
        assert {bp.key for bp in session.breakpoint_list()} == {("empty", "after"), ("full", "after")}
        assert app.step_list.markers == {"empty": "●", "full": "●"}
        await pilot.press("c")
        await wait_session(pilot, lambda s: s.run_state is RunState.PAUSED)
        assert session.status("empty").state is StepState.DONE and session.next_step_id() == "full"
        assert app.sub_title.startswith("paused after empty: count(*) = 0 was true")
        assert any(e["event"] == "breakpoint_hit" and e["step_id"] == "empty" for e in session.events)
        await pilot.press("c")  # `full` yields rows: the run goes to the end
        await wait_session(pilot, lambda s: s.run_state is RunState.FINISHED)


async def test_the_ignore_count_is_honoured(tmp_path: Path) -> None:
    session = open_session(data_manifest(tmp_path), tmp_path)
    app = DebuggerApp(session, watch=FAST_WATCH)
    async with app.run_test(size=SIZE) as pilot:
        await set_breakpoint(pilot, "last", after=True, condition="count(*) = 3", ignore="1")
        await pilot.press("enter")
        await settle(pilot)
        assert session.breakpoint_list() == [Breakpoint("last", "after", "count(*) = 3", True, 1)]
        await run_to_end(pilot)  # the first hit is ignored
        assert session.breakpoint_hits("last", "after") == 1
        session.mark_stale({"last": "a test changed it"})
        await pilot.press("c")  # re-runs `last`: the second hit stops
        await wait_session(pilot, lambda s: s.run_state is RunState.PAUSED)
        assert session.last_hit is not None and session.last_hit.breakpoint.step_id == "last"


async def test_a_bad_condition_is_shown_with_its_position_and_not_saved(tmp_path: Path) -> None:
    session = open_session(data_manifest(tmp_path), tmp_path)
    app = DebuggerApp(session, watch=FAST_WATCH)
    async with app.run_test(size=SIZE) as pilot:
        await run_to_end(pilot)
        dialog = await set_breakpoint(pilot, "full", after=True, condition="max(nope) > 1")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await settle(pilot)
        lines = shown(dialog.query_one("#bp-condition-status", Static))
        assert lines[:3] == ["max(nope) > 1", "    ^", 'Referenced column "nope" not found in FROM clause!']
        assert dialog.error is not None and dialog.error.position == 4  # under `nope`, the 5th character
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is dialog and session.breakpoint_list() == []  # refused, not raised
        dialog.query_one("#bp-condition", Input).value = "max(x) > 1"
        await app.workers.wait_for_complete()
        await settle(pilot)
        assert shown(dialog.query_one("#bp-condition-status", Static))[0] == "✓ valid"
        await pilot.press("enter")
        await settle(pilot)
        assert session.breakpoint_list() == [Breakpoint("full", "after", "max(x) > 1")]


async def test_a_condition_that_fails_at_run_time_pauses_with_the_error(tmp_path: Path) -> None:
    session = open_session(data_manifest(tmp_path), tmp_path,
                           breakpoints=[Breakpoint("full", "after", "max(nope) > 1")])
    app = DebuggerApp(session, watch=FAST_WATCH)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("c")
        await wait_session(pilot, lambda s: s.run_state is RunState.PAUSED)
        assert app.is_running and "the condition max(nope) > 1 failed" in app.sub_title


async def test_breakpoints_come_back_after_reopening_from_the_file_next_to_the_manifest(tmp_path: Path) -> None:
    manifest = data_manifest(tmp_path)
    session = open_session(manifest, tmp_path, breakpoint_store=BreakpointStore())
    app = DebuggerApp(session, watch=FAST_WATCH)
    async with app.run_test(size=SIZE) as pilot:
        await set_breakpoint(pilot, "full", after=True, condition="count(*) > 2", ignore="2", enabled=False)
        await pilot.press("enter")
        await select(pilot, "last")
        await pilot.press("b")
        await settle(pilot)
    saved = manifest.parent / ".osiris-tui" / "breakpoints.json"
    assert "manifest.yaml" in json.loads(saved.read_text())
    assert not (tmp_path / ".osiris-tui" / "breakpoints.json").exists()
    again = open_session(manifest, tmp_path / "second", breakpoint_store=BreakpointStore())
    app = DebuggerApp(again, watch=FAST_WATCH)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert again.breakpoint_list() == [Breakpoint("full", "after", "count(*) > 2", False, 2), Breakpoint("last")]
        assert app.step_list.markers == {"full": "○", "last": "●"}


async def test_the_breakpoint_list_toggles_removes_and_clears_all(tmp_path: Path) -> None:
    session = open_session(data_manifest(tmp_path), tmp_path, breakpoints=[
        Breakpoint("empty"), Breakpoint("full", "after", "count(*) = 0"), Breakpoint("last")])
    app = DebuggerApp(session, watch=FAST_WATCH)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+b")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, BreakpointList) and len(screen.items) == 3
        await pilot.press("space")  # the first (empty): disabled
        await settle(pilot)
        assert session.breakpoint_list()[0] == Breakpoint("empty", enabled=False)
        await pilot.press("down", "d")
        await settle(pilot)
        assert [bp.key for bp in session.breakpoint_list()] == [("empty", "before"), ("last", "before")]
        await pilot.press("C")
        await settle(pilot)
        assert session.breakpoint_list() == [] and screen.items == []
        await pilot.press("escape")
        await settle(pilot)
        assert app.step_list.markers == {} and "breakpoint" not in app.sub_title


# -- headless --------------------------------------------------------------------------------------------------
def test_headless_exits_3_at_the_first_hit_with_one_line(tmp_path: Path, capsys) -> None:
    manifest = data_manifest(tmp_path)
    code = main(["run", str(manifest), "--run-dir", str(tmp_path / "r1"), "--break", "after:full if count(*) = 0",
                 "--break", "after:empty if count(*) = 0"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 3
    assert err[-1] == "osiris-tui: stopped at breakpoint after empty: count(*) = 0 was true"
    assert main(["run", str(manifest), "--run-dir", str(tmp_path / "r2"), "--break", "after:full if count(*) = 0"]) == 0
    assert main(["run", str(manifest), "--run-dir", str(tmp_path / "r3"), "--break", "before:last if max(x) = 2"]) == 3
    assert capsys.readouterr().err.strip().endswith("before last: max(x) = 2 was true")


@pytest.mark.parametrize(("spec", "named"), [
    ("after:nope", "no such step 'nope'"),
    ("sideways:full", "no such step 'sideways:full'"),
    ("after:full if count(*", "syntax error"),
])
def test_headless_bad_break_exits_2_naming_it(tmp_path: Path, capsys, spec: str, named: str) -> None:
    code = main(["run", str(data_manifest(tmp_path)), "--run-dir", str(tmp_path / "r"), "--break", spec])
    err = capsys.readouterr().err
    assert code == 2 and named in err and repr(spec) in err and "Traceback" not in err


def test_headless_condition_failing_at_run_time_exits_2(tmp_path: Path, capsys) -> None:
    code = main(["run", str(data_manifest(tmp_path)), "--run-dir", str(tmp_path / "r"),
                 "--break", "after:full if max(nope) > 1"])
    err = capsys.readouterr().err
    assert code == 2 and 'Referenced column "nope" not found' in err


def test_exit_3_is_documented_in_help(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "3 stopped at a --break breakpoint" in out and "after:STEP if count(*) = 0" in out


def test_the_app_refuses_a_bad_break_spec_with_exit_2(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setattr(DebuggerApp, "run", lambda self, **kw: pytest.fail("the app must not open"))
    code = main([str(data_manifest(tmp_path)), "--break", "after:nope if count(*) = 0"])
    assert code == 2 and "no such step 'nope'" in capsys.readouterr().err
