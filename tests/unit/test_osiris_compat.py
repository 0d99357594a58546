"""A real-shaped Osiris compiled manifest gives the output file Osiris's local runner gives.

The golden file is what Osiris 0.5.7's code path produces for this manifest: `pd.read_csv` with the
cfg's options, a fresh DuckDB with every `df_<safe id>` input registered, and a CSV writer that sorts
columns alphabetically, writes no index and uses LF line ends (compat §6). The test also recomputes
that recipe independently, so a change in either place shows up.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pandas as pd

from osiris_tui.cli import main

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_manifests" / "osiris_compiled"
GOLDEN = ROOT / "tests" / "fixtures" / "golden" / "movies_by_director.csv"


def osiris_recipe(sample: Path) -> str:
    cfg = {p.stem: json.loads(p.read_text()) for p in (sample / "cfg").glob("*.json")}
    movies = pd.read_csv(sample / cfg["extract-movies"]["path"])
    directors = pd.read_csv(sample / cfg["extract-directors"]["path"])
    con = duckdb.connect()
    con.register("df_extract_movies", movies)
    con.register("df_extract_directors", directors)
    df = con.execute(cfg["join-movies"]["query"]).df()
    return df[sorted(df.columns)].to_csv(index=False, lineterminator="\n")


def test_compiled_manifest_output_matches_osiris(tmp_path: Path, capsys) -> None:
    sample = tmp_path / "osiris_compiled"
    shutil.copytree(SAMPLE, sample, ignore=shutil.ignore_patterns("out"))
    assert main(["run", str(sample / "manifest.yaml"), "--run-dir", str(tmp_path / "run")]) == 0
    produced = (sample / "out" / "movies_by_director.csv").read_text()
    assert produced == GOLDEN.read_text() == osiris_recipe(sample)
    events = [json.loads(x) for x in (tmp_path / "run" / "events.jsonl").read_text().splitlines()]
    joined = [e for e in events if e["event"] == "inputs_resolved" and e["step_id"] == "join-movies"]
    assert [(e["key"], e["rows"]) for e in joined] == [("df_extract_movies", 17), ("df_extract_directors", 6)]
    cleaned = json.loads((tmp_path / "run/artifacts/join-movies/cleaned_config.json").read_text())
    assert cleaned == {"mode": "transform", "query": json.loads((sample / "cfg/join-movies.json").read_text())["query"]}


def test_stale_input_df_example_runs(tmp_path: Path, capsys) -> None:
    """Osiris's docs examples read `FROM input_df`; Osiris fails on them, we register the first input so."""
    (tmp_path / "m.yaml").write_text(
        "steps:\n"
        "  - {id: extract-movies, driver: duckdb.processor, config: {query: 'SELECT 1 AS id UNION ALL SELECT 2'}}\n"
        "  - {id: t, driver: duckdb.processor, needs: [extract-movies],\n"
        "     config: {query: 'SELECT count(*) AS n FROM input_df JOIN df USING (id)'}}\n")
    assert main(["run", str(tmp_path / "m.yaml"), "--json", "--run-dir", str(tmp_path / "run")]) == 0


def test_every_sample_without_server_runs(tmp_path: Path, capsys) -> None:
    for manifest, code in [("quickstart/manifest.yaml", 0), ("osiris_compiled/manifest.yaml", 0),
                           ("oml_params/orders_report.yaml", 0), ("failing/manifest.yaml", 1)]:
        assert main(["run", str(ROOT / "sample_manifests" / manifest), "--run-dir",
                     str(tmp_path / manifest.replace("/", "_"))]) == code, manifest


# Osiris's events around a local run (osiris/cli/run.py execute_with_adapter, osiris/runtime/local_adapter.py,
# osiris/core/runner_v0.py, osiris/core/session_logging.py; compat §5.3), with the step part filled in per step.
RUN_HEAD = ["run_start", "adapter_selected", "adapter_prepare_start", "adapter_prepare_complete",
            "adapter_execute_start", "execute_start", "preflight_validation_success"]
RUN_TAIL = ["run_complete", "cleanup_complete", "execute_complete", "adapter_execute_complete",
            "adapter_collect_start", "collect_start", "collect_complete", "adapter_collect_complete",
            "run_complete", "run_end"]


def step_events(*, stripped: bool, connection: bool, inputs: int) -> list[str]:
    """RunnerV0._execute_step's order: the cleaned config is written before the connection is resolved."""
    return ["step_start", "artifacts_dir_created", *(["config_meta_stripped"] if stripped else []),
            "artifact_created", *(["connection_resolve_start", "connection_resolve_complete"] if connection else []),
            *(["inputs_resolved"] * inputs), "step_complete"]


def test_quickstart_run_writes_osiris_run_events_in_order(tmp_path: Path, capsys) -> None:
    run_dir = tmp_path / "run"
    assert main(["run", str(ROOT / "sample_manifests/quickstart/manifest.yaml"), "--run-dir", str(run_dir)]) == 0
    events = [json.loads(x) for x in (run_dir / "events.jsonl").read_text().splitlines()]
    steps = ["extract-customers", "extract-orders", "revenue", "save-revenue"]
    expected = [*RUN_HEAD, *(["cfg_materialized"] * len(steps)), "run_start",
                *step_events(stripped=True, connection=True, inputs=0),
                *step_events(stripped=True, connection=True, inputs=0),
                *step_events(stripped=False, connection=False, inputs=2),
                *step_events(stripped=True, connection=True, inputs=1),
                *RUN_TAIL]
    assert [e["event"] for e in events] == expected
    by_name = {}
    for e in events:
        by_name.setdefault(e["event"], []).append(e)
    session = run_dir.name
    assert by_name["run_start"][0]["session_id"] == session and by_name["run_start"][0]["fallback_used"] is False
    assert {"manifest_path", "pipeline_id", "profile"} <= set(by_name["run_start"][1])
    assert by_name["adapter_selected"][0]["adapter"] == "local"
    for name in ("adapter_selected", "adapter_prepare_start", "adapter_prepare_complete", "adapter_execute_start",
                 "execute_start", "adapter_execute_complete", "adapter_collect_start", "collect_start",
                 "adapter_collect_complete"):
        assert by_name[name][0]["session_id"] == session, name
    assert by_name["preflight_validation_success"][0]["cfg_files_count"] == len(steps)
    assert [e["cfg_path"] for e in by_name["cfg_materialized"]] == [f"cfg/{s}.json" for s in steps]
    assert all(Path(e["destination"]).is_file() for e in by_name["cfg_materialized"])
    done = by_name["execute_complete"][0]
    assert (done["adapter"], done["success"], done["steps_executed"], done["error"]) == ("local", True, 4, None)
    assert by_name["adapter_execute_complete"][0]["success"] is True
    assert by_name["collect_complete"][0]["adapter"] == "local" and "metadata" in by_name["collect_complete"][0]
    assert by_name["run_complete"][0]["steps_executed"] == 4
    assert by_name["run_complete"][1]["adapter_execution"] is True
    assert {"duration_seconds", "end_time"} <= set(by_name["run_end"][0])


def test_failing_connection_still_leaves_the_cleaned_config(tmp_path: Path) -> None:
    """Osiris writes cleaned_config.json before resolving the connection, so it is there when resolving fails
    (here: the connection file changes between prepare and the step, as when a failed step is re-run)."""
    from osiris_tui.drivers.registry import default_registry
    from osiris_tui.manifest import load_pipeline
    from osiris_tui.runtime.connections import Connections
    from osiris_tui.runtime.context import ExecutionContext
    from osiris_tui.runtime.local_adapter import LocalAdapter

    (tmp_path / "m.yaml").write_text(
        "steps:\n  - {id: read, driver: mysql.extractor, config: {connection: '@mysql.db', query: 'SELECT 1'}}\n")
    conns = tmp_path / "osiris_connections.yaml"
    conns.write_text("connections: {mysql: {db: {host: h, database: d}}}\n")
    registry = default_registry()
    adapter = LocalAdapter(registry, Connections(conns, {}))
    ctx = ExecutionContext(tmp_path / "run")
    prepared = adapter.prepare(load_pipeline(tmp_path / "m.yaml", drivers=registry.names()), ctx)
    conns.write_text("connections: {mysql: {other: {host: h, database: d}}}\n")
    adapter.connections = Connections(conns, {})
    assert not adapter.run_step(prepared, ctx, "read").ok
    adapter.collect(prepared, ctx)
    adapter.cleanup(prepared)
    ctx.close()
    names = [e["event"] for e in ctx.events]
    assert names.index("artifact_created") < names.index("connection_resolve_start")
    assert json.loads((tmp_path / "run/artifacts/read/cleaned_config.json").read_text()) == {"query": "SELECT 1"}
    assert names[names.index("step_error"):] == [
        "step_error", "cleanup_complete", "execute_error", "adapter_execute_complete", "adapter_collect_start",
        "collect_start", "collect_complete", "adapter_collect_complete", "run_error", "run_end"]
    assert [e["phase"] for e in ctx.events if e["event"] == "run_error"] == ["execute"]
