"""Stale steps: files → steps, downstream closure, reasons; `c` re-runs them first; auto re-run; the watcher."""

from __future__ import annotations

import os
import shutil
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from osiris_tui.manifest import load_pipeline
from osiris_tui.runtime import staleness
from osiris_tui.runtime.breakpoints import Breakpoint
from osiris_tui.runtime.session import DebugSession, RunState, StepState

REPO = Path(__file__).resolve().parents[2]
QUICKSTART = REPO / "sample_manifests" / "quickstart"
COMPILED = REPO / "sample_manifests" / "osiris_compiled"
ALL = ["extract-orders", "extract-customers", "revenue", "save-revenue"]


def copy(sample: Path, root: Path) -> Path:
    target = root / sample.name
    shutil.copytree(sample, target, ignore=shutil.ignore_patterns("out", ".osiris-tui"))
    return target / "manifest.yaml"


def open_session(manifest: Path, root: Path, **kw) -> DebugSession:
    return DebugSession(load_pipeline(manifest), run_dir=root / "run", reload=lambda: load_pipeline(manifest), **kw)


def finished(s: DebugSession) -> bool:
    return s.idle and s.run_state in (RunState.FINISHED, RunState.FAILED, RunState.PAUSED)


def run_all(s: DebugSession) -> None:
    s.continue_()
    assert s.wait_until(finished)


@pytest.fixture
def quickstart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, DebugSession]]:
    monkeypatch.chdir(tmp_path)
    manifest = copy(QUICKSTART, tmp_path)
    s = open_session(manifest, tmp_path)
    yield manifest, s
    s.close()


# -- the map -----------------------------------------------------------------------------------------------
def test_the_map_lists_the_manifest_csv_inputs_connections_and_env_files(quickstart) -> None:
    manifest, s = quickstart
    files = s.stale_map().files
    base = manifest.parent.resolve()
    assert files[base / "manifest.yaml"].role == "manifest"
    assert files[base / "data" / "orders.csv"] == staleness.WatchedFile(base / "data" / "orders.csv", "csv",
                                                                       ("extract-orders",))
    assert files[base / "data" / "customers.csv"].steps == ("extract-customers",)
    assert files[base / "osiris_connections.yaml"].role == "connections"
    assert files[base / ".env"].role == "env"
    assert base / "out" / "revenue_by_country.csv" not in files  # what a writer writes is not an input
    assert s.stale_map().label(base / "data" / "orders.csv") == "data/orders.csv"


def test_cfg_files_of_a_compiled_manifest_map_to_their_steps(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    manifest = copy(COMPILED, tmp_path)
    s = open_session(manifest, tmp_path)
    run_all(s)
    assert s.files_changed([manifest.parent / "cfg" / "join-movies.json"]) == ["join-movies", "write-report"]
    assert s.stale_steps() == {"join-movies": "cfg/join-movies.json changed",
                               "write-report": "cfg/join-movies.json changed (upstream join-movies)"}
    s.close()


def test_downstream_is_closed_in_run_order(quickstart) -> None:
    _, s = quickstart
    assert staleness.downstream(s.pipeline, ["extract-customers"]) == ["extract-customers", "revenue", "save-revenue"]
    assert staleness.downstream(s.pipeline, ["save-revenue"]) == ["save-revenue"]


# -- marking ----------------------------------------------------------------------------------------------
def test_a_csv_change_marks_its_extractor_and_everything_below(quickstart) -> None:
    manifest, s = quickstart
    run_all(s)
    assert s.files_changed([manifest.parent / "data" / "orders.csv"]) == ["extract-orders", "revenue", "save-revenue"]
    assert s.stale_steps() == {
        "extract-orders": "data/orders.csv changed",
        "revenue": "data/orders.csv changed (upstream extract-orders)",
        "save-revenue": "data/orders.csv changed (upstream extract-orders)",
    }
    assert any(e["event"] == "steps_stale" for e in s.events)


def test_only_steps_that_have_run_are_marked(quickstart) -> None:
    manifest, s = quickstart
    s.step()
    assert s.wait_until(lambda x: x.idle and x.status("extract-orders").state is StepState.DONE)
    assert s.files_changed([manifest.parent / "data" / "orders.csv"]) == ["extract-orders"]


def test_a_manifest_edit_marks_the_steps_whose_definition_changed(quickstart) -> None:
    manifest, s = quickstart
    run_all(s)
    os.utime(manifest)  # saved unchanged: nothing is stale
    assert s.files_changed([manifest]) == []
    text = manifest.read_text()
    manifest.write_text(text.replace("round(avg(o.amount), 2)", "round(avg(o.amount), 3)"))
    assert s.files_changed([manifest]) == ["revenue", "save-revenue"]
    assert s.stale_steps()["revenue"] == "manifest.yaml changed"


def test_a_manifest_that_does_not_load_marks_nothing_and_says_why(quickstart) -> None:
    manifest, s = quickstart
    run_all(s)
    manifest.write_text("steps: [\n")
    assert s.files_changed([manifest]) == []
    notes = [e["message"] for e in s.events if e["event"] == "watch_note"]
    assert notes and notes[0].startswith("manifest.yaml does not load")


def test_a_connections_change_marks_the_steps_using_the_changed_alias(quickstart) -> None:
    manifest, s = quickstart
    run_all(s)
    conns = manifest.parent / "osiris_connections.yaml"
    conns.write_text(conns.read_text() + "\n")  # no entry changed
    assert s.files_changed([conns]) == []
    conns.write_text(conns.read_text().replace("base_dir: .", "base_dir: ./"))
    assert s.files_changed([conns]) == ALL
    assert s.stale_steps()["extract-orders"] == "osiris_connections.yaml changed"


def test_a_env_change_marks_the_steps_using_its_variables(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("QS_BASE", raising=False)
    manifest = copy(QUICKSTART, tmp_path)
    conns = manifest.parent / "osiris_connections.yaml"
    conns.write_text(conns.read_text().replace("base_dir: .", "base_dir: ${QS_BASE}"))
    dotenv = manifest.parent / ".env"
    dotenv.write_text(f"QS_BASE={manifest.parent}\nOTHER=1\n")
    s = open_session(manifest, tmp_path)
    run_all(s)
    dotenv.write_text(f"QS_BASE={manifest.parent}\nOTHER=2\n")  # a variable no connection uses
    assert s.files_changed([dotenv]) == []
    dotenv.write_text(f"QS_BASE={manifest.parent}/\nOTHER=2\n")
    assert s.files_changed([dotenv]) == ALL
    assert s.stale_steps()["save-revenue"] == ".env changed"
    s.close()


# -- re-running ------------------------------------------------------------------------------------------
def test_continue_reruns_stale_steps_first_on_the_cached_inputs(quickstart) -> None:
    manifest, s = quickstart
    run_all(s)
    orders = manifest.parent / "data" / "orders.csv"
    lines = orders.read_text().splitlines()
    orders.write_text("\n".join(lines[:3]) + "\n")
    s.files_changed([orders])
    run_all(s)
    assert s.run_state is RunState.FINISHED and s.stale_steps() == {}
    runs = {st.step_id: st.runs for st in s.statuses()}
    assert runs == {"extract-orders": 2, "extract-customers": 1, "revenue": 2, "save-revenue": 2}
    assert s.status("extract-orders").rows == 2


def test_rerun_stale_pauses_where_the_run_was(quickstart) -> None:
    manifest, s = quickstart
    s.put_breakpoint(Breakpoint("save-revenue"))
    run_all(s)
    assert s.next_step_id() == "save-revenue"
    s.files_changed([manifest.parent / "data" / "customers.csv"])
    s.rerun_stale()
    assert s.wait_until(lambda x: x.idle and x.status("revenue").runs == 2)
    assert s.run_state is RunState.PAUSED and s.next_step_id() == "save-revenue"
    assert s.status("save-revenue").state is StepState.PAUSED and s.stale_steps() == {}


def test_auto_rerun_reruns_stale_steps_when_the_run_is_paused(quickstart) -> None:
    manifest, s = quickstart
    s.put_breakpoint(Breakpoint("save-revenue"))
    s.auto_rerun = True
    run_all(s)
    s.files_changed([manifest.parent / "data" / "orders.csv"])
    assert s.wait_until(lambda x: x.idle and x.status("revenue").runs == 2 and not x.stale_steps())
    assert s.run_state is RunState.PAUSED and s.next_step_id() == "save-revenue"
    assert s.status("extract-customers").runs == 1


def test_a_pending_step_whose_file_changed_reads_it_again_before_it_runs(quickstart) -> None:
    manifest, s = quickstart
    text = manifest.read_text()
    manifest.write_text(text.replace("round(avg(o.amount), 2)      AS avg_order",
                                     "round(avg(o.amount), 2)      AS mean_order"))
    assert s.files_changed([manifest]) == []  # nothing has run: nothing is stale
    run_all(s)
    assert "mean_order" in s.output("revenue").columns


def test_a_restart_rebuilds_the_map(quickstart) -> None:
    _, s = quickstart
    first = s.stale_map()
    generation = s.watch_generation
    s.restart()
    s.wait_idle()
    assert s.watch_generation == generation + 1 and s.stale_map() is not first


def test_the_map_is_recomputed_after_the_steps_are_prepared_again(quickstart) -> None:
    manifest, s = quickstart
    run_all(s)
    generation = s.watch_generation
    step = s.pipeline.step("extract-orders")  # as a re-prepare does: the config replaced in place
    step.config = {**step.config, "path": "data/customers.csv"}
    s.recompute_stale_map()
    assert s.watch_generation == generation + 1
    customers = manifest.parent.resolve() / "data" / "customers.csv"
    assert s.stale_map().files[customers].steps == ("extract-orders", "extract-customers")
    assert manifest.parent.resolve() / "data" / "orders.csv" not in s.stale_map().files
    text = manifest.read_text().replace("path: data/orders.csv", "path: data/customers.csv")
    manifest.write_text(text)  # the file now says what was prepared: nothing differs
    assert s.files_changed([manifest]) == []


# -- the watcher thread -------------------------------------------------------------------------------------
@pytest.mark.parametrize("polling", [True, False])
def test_the_watcher_marks_steps_when_a_file_changes(quickstart, polling: bool) -> None:
    manifest, s = quickstart
    run_all(s)
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        watcher = s.start_watching(quiet_ms=50, force_polling=polling, poll_delay_ms=50, timeout_ms=100)
        assert watcher.ready.wait(10)
        orders = manifest.parent / "data" / "orders.csv"
        for _ in range(5):  # an editor's burst of writes: one batch
            orders.write_text(orders.read_text())
        assert s.wait_until(lambda x: "extract-orders" in x.stale_steps(), timeout=20)
        assert s.stale_steps()["save-revenue"] == "data/orders.csv changed (upstream extract-orders)"
        s.restart()  # a new run: the watcher re-reads the map and keeps watching
        s.wait_idle()
        run_all(s)
        batches = watcher.batches
        cfg = manifest.parent / "data" / "customers.csv"
        cfg.write_text(cfg.read_text())
        assert s.wait_until(lambda x: "extract-customers" in x.stale_steps(), timeout=20)
        assert watcher.batches > batches
    finally:
        sys.setswitchinterval(old)
    s.stop_watching()
    assert not watcher.running


def test_the_watcher_stops_at_once_and_survives_a_failing_callback(tmp_path: Path) -> None:
    target = tmp_path / "f.txt"
    target.write_text("1")
    calls: list[set[Path]] = []
    seen = threading.Event()

    def on_change(paths: set[Path]) -> None:
        calls.append(paths)
        seen.set()
        raise RuntimeError("boom")

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        watcher = staleness.PipelineWatcher(lambda: [target.resolve()], on_change, quiet_ms=30, force_polling=True,
                                            poll_delay_ms=30, timeout_ms=100).start()
        assert watcher.ready.wait(10)
        target.write_text("2")
        assert seen.wait(20)
        seen.clear()
        (tmp_path / "other.txt").write_text("ignored")
        target.write_text("3")
        assert seen.wait(20)  # still watching after the callback raised
        watcher.stop(timeout=5)
        assert not watcher.running
    finally:
        sys.setswitchinterval(old)
    assert all(paths == {target.resolve()} for paths in calls)
