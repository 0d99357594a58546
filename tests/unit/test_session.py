"""DebugSession: breakpoints, step, continue, run-to, pause, re-run with reload, restart, failures."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from osiris_tui.drivers.registry import default_registry
from osiris_tui.manifest import load_pipeline
from osiris_tui.runtime.connections import Connections
from osiris_tui.runtime.session import DebugSession, RunState, StepState

GATE = threading.Event()
ENTERED = threading.Event()


class Gated:
    """Blocks until the test opens GATE (a long-running step without sleeping)."""

    def run(self, *, step_id, config, inputs, ctx):
        ENTERED.set()
        GATE.wait(30)
        return {"df": pd.DataFrame({"v": [1, 2]})}


MANIFEST = """\
name: s
steps:
  - {id: a, driver: duckdb.processor, config: {query: "SELECT 1 AS x UNION ALL SELECT 2"}}
  - {id: b, driver: duckdb.processor, needs: [a], config: {query: "SELECT x * 10 AS y FROM df_a"}}
  - {id: c, driver: duckdb.processor, needs: [b], config: {query: "SELECT sum(y) AS total FROM df_b"}}
  - {id: other, driver: duckdb.processor, config: {query: "SELECT 42 AS answer"}}
"""


@pytest.fixture
def make(tmp_path: Path):
    sessions: list[DebugSession] = []

    def _make(text: str = MANIFEST, **kw) -> DebugSession:
        path = tmp_path / "m.yaml"
        path.write_text(text)
        registry = default_registry()
        registry.register("test.gated", Gated)
        session = DebugSession(
            load_pipeline(path, drivers=registry.names()), registry=registry, connections=Connections(None, {}),
            run_dir=tmp_path / "run", reload=lambda: load_pipeline(path, drivers=registry.names()), **kw,
        )
        sessions.append(session.start())
        return session

    yield _make
    for s in sessions:
        s.close()


def states(session: DebugSession) -> dict[str, str]:
    return {s.step_id: str(s.state) for s in session.statuses()}


def settle(session: DebugSession) -> None:
    assert session.wait_idle(30)


def test_starts_paused_before_first_step(make) -> None:
    s = make()
    assert s.run_state is RunState.READY
    assert states(s) == {"a": "paused", "b": "pending", "c": "pending", "other": "pending"}
    assert s.next_step_id() == "a"


def test_step_runs_one_then_pauses(make) -> None:
    s = make()
    s.step()
    settle(s)
    assert states(s) == {"a": "done", "b": "paused", "c": "pending", "other": "pending"}
    assert s.run_state is RunState.PAUSED
    assert s.output("a")["x"].tolist() == [1, 2]
    assert s.status("a").rows == 2 and s.status("a").duration is not None


def test_continue_stops_at_breakpoints_then_finishes(make) -> None:
    s = make(breakpoints=["c"])
    s.continue_()
    settle(s)
    assert states(s)["c"] == "paused" and s.run_state is RunState.PAUSED
    assert s.output("b")["y"].tolist() == [10, 20]
    s.toggle_breakpoint("other")
    s.continue_()  # the first step runs even though it has the breakpoint we are paused at
    settle(s)
    assert states(s)["other"] == "paused"
    s.clear_breakpoint("other")
    assert s.breakpoints == {"c"}
    s.continue_()
    settle(s)
    assert s.run_state is RunState.FINISHED
    assert set(states(s).values()) == {"done"}
    assert s.summary["status"] == "success"


def test_run_to_pauses_before_target(make) -> None:
    s = make()
    s.run_to("c")
    settle(s)
    assert states(s) == {"a": "done", "b": "done", "c": "paused", "other": "pending"}


def test_failure_pauses_then_rerun_with_fixed_config_and_continue(make, tmp_path: Path) -> None:
    s = make(MANIFEST.replace("FROM df_a", "FROM no_such_table"))
    s.continue_()
    settle(s)
    assert s.run_state is RunState.FAILED
    assert s.failed_step_id() == "b"
    assert "DuckDB transformation failed" in s.status("b").error
    assert "Traceback" in s.status("b").traceback
    (tmp_path / "m.yaml").write_text(MANIFEST)  # the user fixes the SQL on disk
    s.rerun("b")
    settle(s)
    assert states(s)["b"] == "done" and s.output("b")["y"].tolist() == [10, 20]
    assert s.status("b").runs == 2
    s.continue_()
    settle(s)
    assert s.run_state is RunState.FINISHED
    assert s.output("c")["total"].tolist() == [30]


def test_rerun_done_step_reloads_config_and_resets_downstream(make, tmp_path: Path) -> None:
    s = make()
    s.continue_()
    settle(s)
    (tmp_path / "m.yaml").write_text(MANIFEST.replace("x * 10", "x * 100"))
    s.rerun("b")
    settle(s)
    assert s.output("b")["y"].tolist() == [100, 200]
    assert states(s) == {"a": "done", "b": "done", "c": "paused", "other": "done"}
    assert s.output("c") is None
    s.continue_()
    settle(s)
    assert s.output("c")["total"].tolist() == [300]


def test_rerun_refused_without_upstream(make) -> None:
    s = make()
    s.rerun("c")
    settle(s)
    assert states(s)["c"] == "pending"
    assert any(e["event"] == "rerun_refused" for e in s.events)


def test_restart_clears_outputs_and_keeps_breakpoints(make) -> None:
    s = make(breakpoints=["b"])
    first_run = s.context.session_id
    s.continue_()
    settle(s)
    s.restart()
    settle(s)
    assert s.run_state is RunState.READY and s.output("a") is None
    assert states(s)["a"] == "paused" and s.breakpoints == {"b"}
    assert s.context.session_id == first_run  # a fixed --run-dir is reused


GATED = """\
steps:
  - {id: slow, driver: test.gated, config: {}}
  - {id: after, driver: duckdb.processor, needs: [slow], config: {query: "SELECT count(*) AS n FROM df_slow"}}
"""


def test_pause_while_running_and_observe_running_state(make) -> None:
    GATE.clear()
    ENTERED.clear()
    s = make(GATED)
    seen: list[Any] = []
    s.subscribe(seen.append)
    s.continue_()
    assert ENTERED.wait(10)
    assert s.status("slow").state is StepState.RUNNING and s.busy
    assert s.running_step_id() == "slow"
    s.pause()
    GATE.set()
    settle(s)
    assert states(s) == {"slow": "done", "after": "paused"}
    kinds = {r.kind for r in seen}
    assert kinds == {"event", "metric", "state"}


def test_only_runs_the_step_and_what_it_needs(make) -> None:
    s = make(only={"b"})
    s.continue_()
    settle(s)
    assert states(s) == {"a": "done", "b": "done", "c": "skipped", "other": "skipped"}
    assert s.run_state is RunState.FINISHED


def test_many_threads_toggle_breakpoints_safely(make) -> None:
    s = make()

    def toggle() -> None:
        for _ in range(200):
            s.toggle_breakpoint("b")

    threads = [threading.Thread(target=toggle) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert s.breakpoints == set()  # 800 toggles: even


def test_rerun_reads_an_edited_cfg_of_a_compiled_manifest(tmp_path: Path) -> None:
    import json
    import shutil

    sample = tmp_path / "compiled"
    shutil.copytree(Path(__file__).resolve().parents[2] / "sample_manifests" / "osiris_compiled", sample,
                    ignore=shutil.ignore_patterns("out"))
    manifest = sample / "manifest.yaml"
    session = DebugSession(load_pipeline(manifest), connections=Connections.discover(sample),
                           run_dir=tmp_path / "run", reload=lambda: load_pipeline(manifest)).start()
    try:
        session.run_to("write-report")
        assert session.wait_idle(30) and len(session.output("join-movies")) == 17
        cfg = sample / "cfg" / "join-movies.json"
        edited = {**json.loads(cfg.read_text()), "query": "SELECT count(*) AS n FROM df_extract_movies"}
        cfg.write_text(json.dumps(edited))
        session.rerun("join-movies")
        assert session.wait_idle(30)
        assert session.output("join-movies")["n"].tolist() == [17]
        assert session.status("write-report").state is StepState.PAUSED
    finally:
        session.close()


def test_rerun_of_a_step_removed_from_the_file_fails_clearly(make, tmp_path: Path) -> None:
    s = make()
    s.step()
    settle(s)
    renamed = MANIFEST.replace("id: a,", "id: renamed,").replace("needs: [a]", "needs: [renamed]")
    (tmp_path / "m.yaml").write_text(renamed.replace("df_a", "df_renamed"))
    s.rerun("a")
    settle(s)
    assert s.status("a").state is StepState.FAILED
    assert "no longer in the file" in s.status("a").error and "press R" in s.status("a").error
