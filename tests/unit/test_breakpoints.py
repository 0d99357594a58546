"""Breakpoints: the model, `--break` specs, DuckDB conditions, ignore counts, and the store next to the manifest."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pyarrow as pa
import pytest

from osiris_tui.errors import InputError
from osiris_tui.manifest import load_pipeline
from osiris_tui.runtime.breakpoints import (
    Breakpoint,
    BreakpointStore,
    ConditionError,
    check_condition,
    evaluate,
    parse_spec,
)
from osiris_tui.runtime.connections import Connections
from osiris_tui.runtime.records import EventRecord
from osiris_tui.runtime.session import DebugSession, RunState, StepState

MANIFEST = """\
steps:
  - {id: a, driver: duckdb.processor, config: {query: "SELECT 1 AS x"}}
  - {id: b, driver: duckdb.processor, needs: [a], config: {query: "SELECT * FROM df_a"}}
  - {id: c, driver: duckdb.processor, needs: [b], config: {query: "SELECT * FROM df_b"}}
"""

# `empty` yields no rows, `full` three; `last` reads `full`.
DATA_MANIFEST = """\
steps:
  - {id: empty, driver: duckdb.processor, config: {query: "SELECT 1 AS x WHERE false"}}
  - {id: full, driver: duckdb.processor, config: {query: "SELECT * FROM range(3) t(x)"}}
  - {id: last, driver: duckdb.processor, needs: [full], config: {query: "SELECT x FROM df_full"}}
"""


def session(tmp_path: Path, store: BreakpointStore | None, text: str = MANIFEST, **kw) -> DebugSession:
    path = tmp_path / "m.yaml"
    if not path.exists():
        path.write_text(text)
    return DebugSession(load_pipeline(path), connections=Connections(None, {}), run_dir=tmp_path / "run",
                        breakpoint_store=store, **kw)


def keys(s: DebugSession) -> set[tuple[str, str]]:
    return {bp.key for bp in s.breakpoint_list()}


# -- the store --------------------------------------------------------------------------------------------
def test_breakpoints_survive_a_new_session(tmp_path: Path) -> None:
    store = BreakpointStore(tmp_path / "state" / "breakpoints.json")
    first = session(tmp_path, store)
    first.toggle_breakpoint("b")
    first.toggle_breakpoint("c")
    first.clear_breakpoint("c")
    first.close()
    second = session(tmp_path, store, breakpoints=["a"])
    assert second.breakpoints == {"a", "b"}
    second.close()
    assert [bp.step_id for bp in store.load(tmp_path / "m.yaml")] == ["b"]  # --break alone is not saved


def test_breakpoints_of_removed_steps_are_dropped_and_bad_files_ignored(tmp_path: Path) -> None:
    store = BreakpointStore(tmp_path / "breakpoints.json")
    store.save(tmp_path / "m.yaml", [Breakpoint("b"), Breakpoint("gone")])
    s = session(tmp_path, store)
    assert s.breakpoints == {"b"}
    s.close()
    (tmp_path / "breakpoints.json").write_text("{not json")
    assert store.load(tmp_path / "m.yaml") == []
    store.save(tmp_path / "m.yaml", [])
    assert (tmp_path / "breakpoints.json").read_text().strip() == "{}"


def test_saved_next_to_the_manifest_keyed_by_its_name_not_in_the_working_directory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    project.mkdir()
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    s = session(project, BreakpointStore())
    s.put_breakpoint(Breakpoint("b", "after", "count(*) = 0", enabled=False, ignore_count=2))
    s.close()
    saved = project / ".osiris-tui" / "breakpoints.json"
    assert json.loads(saved.read_text()) == {"m.yaml": [
        {"step_id": "b", "when": "after", "condition": "count(*) = 0", "enabled": False, "ignore_count": 2}]}
    assert not (elsewhere / ".osiris-tui").exists()
    monkeypatch.chdir(tmp_path)  # reopened from another directory: they come back
    again = session(project, BreakpointStore())
    assert again.breakpoint_list() == [Breakpoint("b", "after", "count(*) = 0", False, 2)]
    again.close()


def test_the_older_file_in_the_working_directory_is_still_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.yaml").write_text(MANIFEST)
    legacy = tmp_path / ".osiris-tui" / "breakpoints.json"
    legacy.parent.mkdir()
    legacy.write_text(json.dumps({str((tmp_path / "m.yaml").resolve()): ["c", "a"]}))
    project_store = BreakpointStore(tmp_path / "new" / "breakpoints.json")
    s = session(tmp_path, project_store)
    assert keys(s) == {("a", "before"), ("c", "before")}
    s.toggle_breakpoint("a")  # saving writes the new file; the new file wins from then on
    s.close()
    assert [bp.step_id for bp in project_store.load(tmp_path / "m.yaml")] == ["c"]


def test_unknown_or_malformed_entries_are_skipped() -> None:
    assert Breakpoint.from_json({"step_id": "a", "when": "sideways"}) is None
    assert Breakpoint.from_json({"when": "after"}) is None
    assert Breakpoint.from_json({"step_id": "a", "ignore_count": -3}) == Breakpoint("a")
    assert Breakpoint.from_json({"step_id": "a", "condition": "  "}) == Breakpoint("a")


# -- specs --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("spec", "expected"), [
    ("a", Breakpoint("a")),
    ("after:a", Breakpoint("a", "after")),
    ("after:a if count(*) = 0", Breakpoint("a", "after", "count(*) = 0")),
    ("before: a  if  max(x) > 1e6", Breakpoint("a", "before", "max(x) > 1e6")),
    ("AFTER:a if avg((x IS NULL)::INT) > 0.05", Breakpoint("a", "after", "avg((x IS NULL)::INT) > 0.05")),
])
def test_break_specs(spec: str, expected: Breakpoint) -> None:
    assert parse_spec(spec, ["a", "b"]) == expected
    assert parse_spec(expected.spec(), ["a", "b"]) == expected


@pytest.mark.parametrize(("spec", "named"), [
    ("after:zz", "no such step 'zz'"),
    ("after:a if", "nothing after 'if'"),
    ("after:", "expected STEP"),
    ("after:a if count(*", "syntax error"),
    ("after:a if 1; SELECT 2", "syntax error at or near \";\" (at column 2"),
])
def test_bad_break_specs_name_the_problem(spec: str, named: str) -> None:
    with pytest.raises(InputError) as info:
        parse_spec(spec, ["a"])
    assert named in info.value.render()
    assert repr(spec) in info.value.render()


# -- conditions ------------------------------------------------------------------------------------------
TABLE = pa.table({"amount": [10.0, 2e6, None], "customer_id": [1, None, 3]})


@pytest.mark.parametrize(("condition", "holds"), [
    ("count(*) = 0", False),
    ("count(*) = 3", True),
    ("max(amount) > 1e6", True),
    ("avg((customer_id IS NULL)::INT) > 0.05", True),
    ("avg((customer_id IS NULL)::INT) > 0.5", False),
    ("amount < 0", False),  # row-wise: holds when any row makes it true
    ("amount > 100", True),
    ("amount IS NULL AND false", False),
])
def test_conditions(condition: str, holds: bool) -> None:
    assert evaluate(condition, TABLE) is holds


def test_a_condition_on_no_rows() -> None:
    empty = TABLE.slice(0, 0)
    assert evaluate("count(*) = 0", empty) is True
    assert evaluate("amount > 1", empty) is False
    assert evaluate("max(amount) > 1", empty) is False  # NULL counts as false


@pytest.mark.parametrize(("condition", "message", "position"), [
    ("max(nope) > 1", 'Referenced column "nope" not found', 4),
    ("max(amount) >", "at the end of the condition", 13),
    ("count(*)", "gives BIGINT, not true or false", None),
    ("", "empty", 0),
])
def test_condition_errors_say_what_and_where(condition: str, message: str, position: int | None) -> None:
    with pytest.raises(ConditionError) as info:
        check_condition(condition, TABLE)
    assert message in info.value.message
    assert info.value.position == position


def test_conditions_cannot_touch_files(tmp_path: Path) -> None:
    secret = tmp_path / "x.csv"
    secret.write_text("a\n1\n")
    with pytest.raises(ConditionError):
        evaluate(f"(SELECT count(*) FROM read_csv('{secret}')) > 0", TABLE)


# -- in a session -------------------------------------------------------------------------------------------
def run_until_stopped(s: DebugSession) -> None:
    s.continue_()
    assert s.wait_until(lambda x: x.idle and x.run_state in (RunState.PAUSED, RunState.FINISHED, RunState.FAILED))


def test_a_condition_stops_after_a_step_that_yields_no_rows_and_not_after_one_that_yields_rows(
        tmp_path: Path) -> None:
    s = session(tmp_path, None, DATA_MANIFEST, breakpoints=[
        Breakpoint("empty", "after", "count(*) = 0"), Breakpoint("full", "after", "count(*) = 0")])
    events: list[EventRecord] = []
    s.subscribe(lambda r: events.append(r) if isinstance(r, EventRecord) else None)
    run_until_stopped(s)
    assert s.run_state is RunState.PAUSED
    assert s.last_hit is not None and s.last_hit.message == "after empty: count(*) = 0 was true"
    assert s.status("empty").state is StepState.DONE and s.next_step_id() == "full"
    hit = [e.data for e in events if e.name == "breakpoint_hit"]
    assert hit and {k: hit[0][k] for k in ("step_id", "when", "condition")} == {
        "step_id": "empty", "when": "after", "condition": "count(*) = 0"}
    run_until_stopped(s)  # `full` yields rows: no stop there
    assert s.run_state is RunState.FINISHED and s.last_hit is None
    s.close()


def test_before_conditions_test_the_first_input(tmp_path: Path) -> None:
    s = session(tmp_path, None, DATA_MANIFEST, breakpoints=[Breakpoint("last", "before", "max(x) = 2")])
    s.step()  # run `empty` by hand: the breakpoint is looked at from the next step on
    s.wait_idle()
    run_until_stopped(s)
    assert s.last_hit is not None and s.last_hit.message == "before last: max(x) = 2 was true"
    assert s.next_step_id() == "last" and s.status("last").state is StepState.PAUSED
    s.close()


def test_the_ignore_count_skips_the_first_hits(tmp_path: Path) -> None:
    s = session(tmp_path, None, DATA_MANIFEST,
                breakpoints=[Breakpoint("empty", "after", "count(*) = 0", ignore_count=1)])
    run_until_stopped(s)
    assert s.run_state is RunState.FINISHED and s.breakpoint_hits("empty", "after") == 1
    assert any(e["event"] == "breakpoint_ignored" for e in s.events)
    assert s.mark_stale({"empty": "m.yaml changed"}) == ["empty"]
    run_until_stopped(s)  # `c` runs the stale step again: the second hit stops
    assert s.run_state is RunState.PAUSED and s.breakpoint_hits("empty", "after") == 2
    assert s.last_hit is not None and s.last_hit.breakpoint.step_id == "empty"
    s.close()


def test_a_disabled_breakpoint_is_passed_by(tmp_path: Path) -> None:
    s = session(tmp_path, None, DATA_MANIFEST, breakpoints=[Breakpoint("last", "after")])
    s.put_breakpoint(Breakpoint("full", "after", "count(*) > 0", enabled=False))
    run_until_stopped(s)
    assert s.last_hit is not None and s.last_hit.breakpoint.step_id == "last"
    s.close()


def test_ignore_count_over_repeated_runs(tmp_path: Path) -> None:
    s = session(tmp_path, None, DATA_MANIFEST, breakpoints=[Breakpoint("last", "after", "count(*) = 3",
                                                                       ignore_count=2)])
    for _ in range(2):
        run_until_stopped(s)
        assert s.run_state is RunState.FINISHED
        s.restart()
        s.wait_idle()
    assert s.breakpoint_hits("last", "after") == 0
    s.close()


def test_a_condition_that_errors_pauses_the_run_with_the_error(tmp_path: Path) -> None:
    s = session(tmp_path, None, DATA_MANIFEST, breakpoints=[Breakpoint("full", "after", "max(nope) > 1")])
    run_until_stopped(s)
    assert s.run_state is RunState.PAUSED and s.alive
    assert s.last_hit is not None and s.last_hit.error is not None
    assert 'Referenced column "nope" not found' in s.last_hit.message
    assert any(e["event"] == "breakpoint_error" for e in s.events)
    run_until_stopped(s)  # continuing goes on
    assert s.run_state is RunState.FINISHED
    s.close()


def test_an_after_breakpoint_on_the_last_step_pauses_before_the_end(tmp_path: Path) -> None:
    s = session(tmp_path, None, DATA_MANIFEST, breakpoints=[Breakpoint("last", "after")])
    run_until_stopped(s)
    assert s.run_state is RunState.PAUSED and s.next_step_id() is None and s.summary is None
    run_until_stopped(s)
    assert s.run_state is RunState.FINISHED and s.summary is not None
    s.close()


def test_b_toggles_only_the_plain_before_breakpoint(tmp_path: Path) -> None:
    s = session(tmp_path, None)
    s.put_breakpoint(Breakpoint("b", "after", "count(*) > 0"))
    assert s.toggle_breakpoint("b") is True
    assert keys(s) == {("b", "before"), ("b", "after")}
    assert s.toggle_breakpoint("b") is False
    assert keys(s) == {("b", "after")}
    s.put_breakpoint(Breakpoint("b", "before", "count(*) > 1"), replacing=("b", "after"))
    assert s.breakpoint_list() == [Breakpoint("b", "before", "count(*) > 1")]
    s.clear_breakpoints()
    assert s.breakpoint_list() == []
    s.close()


def test_the_store_file_is_replaced_whole(tmp_path: Path) -> None:
    store = BreakpointStore(tmp_path / "bp.json")
    store.save(tmp_path / "m.yaml", [Breakpoint("a")])
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".breakpoints-")] == []
    assert os.path.getsize(tmp_path / "bp.json") > 0


def test_a_secret_in_a_condition_is_masked_in_events_and_on_stderr(tmp_path: Path, capsys) -> None:
    from osiris_tui.cli import main
    from osiris_tui.secrets import register_secret

    secret = "hunter2-condition-canary"
    register_secret(secret)
    s = session(tmp_path, None, DATA_MANIFEST,
                breakpoints=[Breakpoint("full", "after", f"max(x::VARCHAR) <> '{secret}'")])
    run_until_stopped(s)
    assert s.last_hit is not None
    hit = [e for e in s.events if e["event"] == "breakpoint_hit"]
    assert hit and secret not in json.dumps(s.events)
    assert secret not in (s.context.run_dir / "events.jsonl").read_text()
    store = BreakpointStore(tmp_path / "bp.json")
    store.save(tmp_path / "m.yaml", s.breakpoint_list())
    assert secret not in (tmp_path / "bp.json").read_text()
    s.close()
    manifest = tmp_path / "m.yaml"
    code = main(["run", str(manifest), "--run-dir", str(tmp_path / "r"), "--json",
                 "--break", f"after:full if max(x::VARCHAR) <> '{secret}'"])
    out, err = capsys.readouterr()
    assert code == 3 and "stopped at breakpoint after full" in err
    assert secret not in out and secret not in err
