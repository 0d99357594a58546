"""Breakpoints are remembered per manifest between debugger sessions."""

from __future__ import annotations

from pathlib import Path

from osiris_tui.manifest import load_pipeline
from osiris_tui.runtime.breakpoints import BreakpointStore
from osiris_tui.runtime.connections import Connections
from osiris_tui.runtime.session import DebugSession

MANIFEST = """\
steps:
  - {id: a, driver: duckdb.processor, config: {query: "SELECT 1 AS x"}}
  - {id: b, driver: duckdb.processor, needs: [a], config: {query: "SELECT * FROM df_a"}}
  - {id: c, driver: duckdb.processor, needs: [b], config: {query: "SELECT * FROM df_b"}}
"""


def session(tmp_path: Path, store: BreakpointStore, **kw) -> DebugSession:
    path = tmp_path / "m.yaml"
    if not path.exists():
        path.write_text(MANIFEST)
    return DebugSession(load_pipeline(path), connections=Connections(None, {}), run_dir=tmp_path / "run",
                        breakpoint_store=store, **kw)


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
    assert store.load(tmp_path / "m.yaml") == {"b"}  # --break alone is not saved until toggled


def test_breakpoints_of_removed_steps_are_dropped_and_bad_files_ignored(tmp_path: Path) -> None:
    store = BreakpointStore(tmp_path / "breakpoints.json")
    store.save(tmp_path / "m.yaml", {"b", "gone"})
    s = session(tmp_path, store)
    assert s.breakpoints == {"b"}
    s.close()
    (tmp_path / "breakpoints.json").write_text("{not json")
    assert store.load(tmp_path / "m.yaml") == set()
    store.save(tmp_path / "m.yaml", set())
    assert (tmp_path / "breakpoints.json").read_text().strip() == "{}"
