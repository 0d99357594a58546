"""`DebugSession.reprepare`: the pipeline read again, the affected steps and their downstream pending."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from osiris_tui.errors import InputError
from osiris_tui.manifest import load_pipeline
from osiris_tui.runtime.connections import Connections
from osiris_tui.runtime.session import DebugSession, RunState, StepState

MANIFEST = """\
name: s
steps:
  - {id: a, driver: duckdb.processor, config: {query: "SELECT 1 AS x UNION ALL SELECT 2"}}
  - {id: b, driver: duckdb.processor, needs: [a], config: {query: "SELECT x * 10 AS y FROM df_a"}}
  - {id: c, driver: duckdb.processor, needs: [b], config: {query: "SELECT sum(y) AS total FROM df_b"}}
  - {id: other, driver: duckdb.processor, config: {query: "SELECT 42 AS answer"}}
"""


@pytest.fixture
def session(tmp_path: Path):
    path = tmp_path / "m.yaml"
    path.write_text(MANIFEST)
    s = DebugSession(load_pipeline(path), connections=Connections(None, {}), run_dir=tmp_path / "run",
                     reload=lambda: load_pipeline(path)).start()
    yield s, path
    s.close()


def test_reprepare_reloads_configs_and_resets_affected_steps(session) -> None:
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        s, path = session
        s.continue_()
        assert s.wait_until(lambda x: x.run_state is RunState.FINISHED and x.idle, 30)
        path.write_text(MANIFEST.replace("x * 10", "x * 100"))
        s.reprepare(affected=["b"])
        assert s.wait_idle(30)
        assert {st.step_id: st.state for st in s.statuses()} == {
            "a": StepState.DONE, "b": StepState.PAUSED, "c": StepState.PENDING, "other": StepState.DONE}
        assert s.run_state is RunState.PAUSED and s.output("b") is None and s.output("a") is not None
        assert "x * 100" in s.pipeline.step("b").config["query"]
        s.continue_()
        assert s.wait_until(lambda x: x.run_state is RunState.FINISHED and x.idle, 30)
        assert int(s.output("c")["total"][0]) == 300
    finally:
        sys.setswitchinterval(old)


def test_a_failing_reload_changes_nothing_and_says_why(session) -> None:
    s, path = session
    s.step()
    assert s.wait_idle(30)

    def broken():
        raise InputError("bad file", file=path, line=3)

    s.reprepare(broken, ["a"])
    assert s.wait_idle(30)
    assert s.status("a").state is StepState.DONE
    failed = [e for e in s.events if e.get("event") == "reprepare_failed"]
    assert failed and "bad file" in failed[0]["error"]
    s.rerun("a")  # the old loader is still the one used
    assert s.wait_idle(30)
    assert s.status("a").runs == 2
