"""The session keeps the output a re-run replaced (one per step), for the Data tab's diff."""

from __future__ import annotations

from pathlib import Path

import pytest

from osiris_tui.drivers.registry import default_registry
from osiris_tui.frames.diff import diff
from osiris_tui.manifest import load_pipeline
from osiris_tui.runtime.connections import Connections
from osiris_tui.runtime.session import DebugSession, StepState

MANIFEST = """\
name: s
steps:
  - {id: a, driver: duckdb.processor, config: {query: "SELECT 1 AS x UNION ALL SELECT 2"}}
  - {id: b, driver: duckdb.processor, needs: [a], config: {query: "SELECT x, x * 10 AS y FROM df_a"}}
  - {id: c, driver: duckdb.processor, needs: [b], config: {query: "SELECT sum(y) AS total FROM df_b"}}
"""


@pytest.fixture
def session(tmp_path: Path):
    path = tmp_path / "m.yaml"
    path.write_text(MANIFEST)
    registry = default_registry()
    s = DebugSession(load_pipeline(path, drivers=registry.names()), registry=registry,
                     connections=Connections(None, {}), run_dir=tmp_path / "run",
                     reload=lambda: load_pipeline(path, drivers=registry.names()))
    s.prefetch_tables = True  # as the app sets it
    yield s.start()
    s.close()


def test_a_rerun_keeps_the_replaced_output_of_the_step_and_those_below(session, tmp_path: Path) -> None:
    session.continue_()
    assert session.wait_idle(30)
    assert session.previous_output("b") is None
    (tmp_path / "m.yaml").write_text(MANIFEST.replace("x * 10", "x * 100"))
    session.rerun("b")
    assert session.wait_idle(30)
    kept = session.previous_output("b")
    assert kept is not None and kept.run == 1 and kept.table.column("y").to_pylist() == [10, 20]
    assert session.status("b").runs == 2
    result = diff(kept.table, session.output_table("b"), ["x"])
    assert result.changed == 2 and result.cells == {"y": 2}
    below = session.previous_output("c")
    assert below is not None and below.table.column("total").to_pylist() == [30]
    assert session.previous_output("a") is None
    session.continue_()
    assert session.wait_idle(30)
    assert session.output_table("c").column("total").to_pylist() == [300]
    assert session.previous_output("c").table.column("total").to_pylist() == [30]


def test_a_failed_rerun_keeps_the_step_s_output_only(session, tmp_path: Path) -> None:
    session.continue_()
    assert session.wait_idle(30)
    (tmp_path / "m.yaml").write_text(MANIFEST.replace("x * 10 AS y", "nope(x) AS y"))
    session.rerun("b")
    assert session.wait_idle(30)
    assert session.status("b").state is StepState.FAILED
    assert session.previous_output("b") is not None
    assert session.previous_output("c") is None


def test_a_restart_drops_them(session, tmp_path: Path) -> None:
    session.continue_()
    assert session.wait_idle(30)
    session.rerun("a")
    assert session.wait_idle(30)
    assert session.previous_output("a") is not None
    session.restart()
    assert session.wait_idle(30)
    assert session.previous_output("a") is None


def test_headless_sessions_keep_nothing(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(MANIFEST)
    s = DebugSession(load_pipeline(path), connections=Connections(None, {}), run_dir=tmp_path / "run").start()
    try:
        s.continue_()
        assert s.wait_idle(30)
        s.rerun("a")
        assert s.wait_idle(30)
        assert s.previous_output("a") is None
    finally:
        s.close()
