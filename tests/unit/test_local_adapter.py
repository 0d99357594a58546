"""LocalAdapter against the behaviours Osiris's local runner has (compat §7) and the improvements we made."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from osiris_tui.drivers.registry import DriverRegistry, default_registry
from osiris_tui.manifest import load_pipeline
from osiris_tui.runtime.connections import Connections
from osiris_tui.runtime.context import ExecutionContext
from osiris_tui.runtime.local_adapter import LocalAdapter


class Recorder:
    """A driver that records what it was called with and returns a small frame."""

    calls: list[dict] = []

    def run(self, *, step_id, config, inputs, ctx):
        Recorder.calls.append({"step_id": step_id, "config": config, "inputs": inputs, "ctx": ctx})
        return {"df": pd.DataFrame({"x": [1, 2, 3]})}


@pytest.fixture
def registry() -> DriverRegistry:
    Recorder.calls = []
    reg = default_registry()
    reg.register("mysql.extractor", Recorder)
    reg.register("supabase.writer", Recorder)
    reg.register("test.recorder", Recorder)
    return reg


def compiled(tmp_path: Path, steps: list[dict], cfgs: dict[str, dict]) -> Path:
    (tmp_path / "cfg").mkdir(exist_ok=True)
    for sid, cfg in cfgs.items():
        (tmp_path / "cfg" / f"{sid}.json").write_text(json.dumps(cfg, separators=(",", ":"), sort_keys=True))
    manifest = {"meta": {"oml_version": "0.1.0", "profile": "dev", "run_id": "${run_id}"},
                "pipeline": {"id": "t", "version": "0.1.0"}, "steps": steps}
    path = tmp_path / "manifest.yaml"
    path.write_text(json.dumps(manifest))
    return path


CONNS = """\
connections:
  mysql:
    db: {host: h, port: 3306, database: d, user: u, password: "${PW}"}
  supabase:
    main: {url: "https://x.supabase.co", key: "${SB}", pg_dsn: "postgresql://p:${PW}@h/db"}
"""


def run(path: Path, registry: DriverRegistry, tmp_path: Path, env: dict | None = None):
    (tmp_path / "osiris_connections.yaml").write_text(CONNS)
    conns = Connections(tmp_path / "osiris_connections.yaml", env or {"PW": "pw-canary-1", "SB": "sb-canary-2"})
    ctx = ExecutionContext(tmp_path / "run")
    adapter = LocalAdapter(registry, conns)
    prepared = adapter.prepare(load_pipeline(path, drivers=registry.names()), ctx)
    ok = adapter.execute(prepared, ctx)
    summary = adapter.collect(prepared, ctx)
    ctx.close()
    return ok, summary, ctx


def test_config_cleaning_resolved_connection_and_masked_artifact(tmp_path: Path, registry) -> None:
    path = compiled(
        tmp_path,
        [{"id": "load", "component": "mysql.extractor", "driver": "mysql.extractor", "cfg_path": "cfg/load.json",
          "needs": []},
         {"id": "save", "component": "supabase.writer", "driver": "supabase.writer", "cfg_path": "cfg/save.json",
          "needs": ["load"]}],
        {"load": {"component": "mysql.extractor", "connection": "@mysql.db", "mode": "extract", "query": "SELECT 1"},
         "save": {"component": "supabase.writer", "connection": "@supabase.main", "mode": "write", "table": "t"}},
    )
    ok, summary, ctx = run(path, registry, tmp_path)
    assert ok and summary["ok"] and summary["status"] == "success"
    load_config = Recorder.calls[0]["config"]
    assert "component" not in load_config and "connection" not in load_config
    assert load_config["mode"] == "extract"
    assert load_config["resolved_connection"]["password"] == "pw-canary-1"
    stripped = [e for e in ctx.events if e["event"] == "config_meta_stripped"]
    assert stripped[0]["keys_removed"] == ["component", "connection"]
    cleaned = json.loads((tmp_path / "run/artifacts/save/cleaned_config.json").read_text())
    assert cleaned["resolved_connection"]["key"] == "***MASKED***"
    assert cleaned["resolved_connection"]["pg_dsn"] == "***MASKED***"
    assert cleaned["resolved_connection"]["url"] == "https://x.supabase.co"
    starts = [e for e in ctx.events if e["event"] == "connection_resolve_start"]
    assert [(e["step_id"], e["alias"]) for e in starts] == [("load", "db"), ("save", "main")]
    for name in ("events.jsonl", "metrics.jsonl", "status.json"):
        text = (tmp_path / "run" / name).read_text()
        assert "pw-canary-1" not in text and "sb-canary-2" not in text


def test_inputs_are_keyed_like_osiris(tmp_path: Path, registry) -> None:
    path = compiled(
        tmp_path,
        [{"id": "extract-movies", "driver": "test.recorder", "cfg_path": "cfg/a.json", "needs": []},
         {"id": "123x", "driver": "test.recorder", "cfg_path": "cfg/b.json", "needs": []},
         {"id": "join", "driver": "test.recorder", "cfg_path": "cfg/c.json", "needs": ["extract-movies", "123x"]}],
        {"a": {}, "b": {}, "c": {}},
    )
    ok, _, ctx = run(path, registry, tmp_path)
    assert ok
    assert Recorder.calls[0]["inputs"] is None
    inputs = Recorder.calls[2]["inputs"]
    assert {"df_extract_movies", "df__123x", "extract-movies", "123x", "df", "input_df"} <= set(inputs)
    assert isinstance(inputs["extract-movies"], dict) and "df" in inputs["extract-movies"]
    resolved = [e for e in ctx.events if e["event"] == "inputs_resolved"]
    assert [(e["from_step"], e["key"], e["rows"], e["from_memory"]) for e in resolved] == [
        ("extract-movies", "df_extract_movies", 3, True), ("123x", "df__123x", 3, True)]


def test_sanitised_id_collisions_get_hash_suffix(tmp_path: Path, registry) -> None:
    path = compiled(
        tmp_path,
        [{"id": "get.data", "driver": "test.recorder", "cfg_path": "cfg/a.json", "needs": []},
         {"id": "get-data", "driver": "test.recorder", "cfg_path": "cfg/b.json", "needs": []},
         {"id": "use", "driver": "test.recorder", "cfg_path": "cfg/c.json", "needs": ["get.data", "get-data"]}],
        {"a": {}, "b": {}, "c": {}},
    )
    assert run(path, registry, tmp_path)[0]
    keys = sorted(k for k in Recorder.calls[2]["inputs"] if k.startswith("df_"))
    assert len(keys) == 2 and all(k.startswith("df_get_data_") and len(k) == len("df_get_data_") + 8 for k in keys)


def test_failure_stops_run_and_status_is_correct(tmp_path: Path, registry) -> None:
    path = compiled(
        tmp_path,
        [{"id": "a", "driver": "test.recorder", "cfg_path": "cfg/a.json", "needs": []},
         {"id": "b", "driver": "duckdb.processor", "cfg_path": "cfg/b.json", "needs": ["a"]},
         {"id": "c", "driver": "test.recorder", "cfg_path": "cfg/c.json", "needs": ["b"]}],
        {"a": {}, "b": {"query": "SELECT * FROM missing_table"}, "c": {}},
    )
    ok, summary, ctx = run(path, registry, tmp_path)
    assert not ok
    assert summary["status"] == "failed" and summary["failed_step"] == "b" and summary["steps_completed"] == 1
    error = next(e for e in ctx.events if e["event"] == "step_error")
    assert error["error"].startswith("Execution failed: DuckDB transformation failed")
    assert len(Recorder.calls) == 1
    status = json.loads((tmp_path / "run/status.json").read_text())
    assert status["ok"] is False and status["failed_step"] == "b"


def test_every_metric_has_step_id_and_total_rows(tmp_path: Path) -> None:
    data = tmp_path / "in.csv"
    data.write_text("a,b\n1,x\n2,y\n3,z\n")
    path = tmp_path / "m.yaml"
    path.write_text(f"""
steps:
  - {{id: read, driver: filesystem.csv_extractor, config: {{path: {data}}}}}
  - {{id: t, driver: duckdb.processor, needs: [read], config: {{query: "SELECT * FROM df_read WHERE a > 1"}}}}
  - {{id: write, driver: filesystem.csv_writer, needs: [t], config: {{path: {tmp_path / 'out/o.csv'}}}}}
""")
    ok, summary, ctx = run(path, default_registry(), tmp_path)
    assert ok
    assert all(m.get("step_id") for m in ctx.metrics)
    assert summary["total_rows"] == 2
    assert [e["total_rows"] for e in ctx.events if e["event"] == "cleanup_complete"] == [2]
    assert (tmp_path / "out/o.csv").read_text() == "a,b\n2,y\n3,z\n"


def test_connection_events_default_alias_and_none_for_duckdb(tmp_path: Path, registry) -> None:
    path = tmp_path / "m.yaml"
    path.write_text("""
steps:
  - {id: load, driver: mysql.extractor, config: {query: SELECT 1}}
  - {id: t, driver: duckdb.processor, needs: [load], config: {query: "SELECT * FROM df_load"}}
""")
    (tmp_path / "osiris_connections.yaml").write_text(CONNS.replace("db: {", "db: {default: true, "))
    conns = Connections(tmp_path / "osiris_connections.yaml", {"PW": "pw-canary-1", "SB": "sb-canary-2"})
    ctx = ExecutionContext(tmp_path / "run")
    adapter = LocalAdapter(registry, conns)
    assert adapter.execute(adapter.prepare(load_pipeline(path, drivers=registry.names()), ctx), ctx)
    conn_events = [(e["event"], e["step_id"], e["alias"]) for e in ctx.events if e["event"].startswith("connection_")]
    assert conn_events == [("connection_resolve_start", "load", "(default)"),
                           ("connection_resolve_complete", "load", "db")]
    assert "resolved_connection" in Recorder.calls[0]["config"]


def test_family_mismatch_fails_the_step_at_run_time(tmp_path: Path, registry) -> None:
    """Resolved once at prepare; if the file changes under a running session the step fails, not the app."""
    path = tmp_path / "m.yaml"
    path.write_text("steps:\n  - {id: load, driver: mysql.extractor, config: {connection: '@mysql.db'}}\n")
    (tmp_path / "osiris_connections.yaml").write_text(CONNS)
    conns = Connections(tmp_path / "osiris_connections.yaml", {"PW": "pw-canary-1", "SB": "sb-canary-2"})
    ctx = ExecutionContext(tmp_path / "run")
    adapter = LocalAdapter(registry, conns)
    prepared = adapter.prepare(load_pipeline(path, drivers=registry.names()), ctx)
    step = prepared.pipeline.step("load")
    step.config["connection"] = "@supabase.main"
    result = adapter.run_step(prepared, ctx, "load", step)
    assert not result.ok and "is of family 'supabase'" in result.error
    complete = [e for e in ctx.events if e["event"] == "connection_resolve_complete"]
    assert complete[-1]["ok"] is False
    assert [e["event"] for e in ctx.events][-1] == "step_error"
