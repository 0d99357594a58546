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
