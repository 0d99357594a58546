"""Compiled Osiris manifests (manifest.yaml + cfg/*.json)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from osiris_tui.errors import ManifestError
from osiris_tui.manifest import detect_kind, load_pipeline
from osiris_tui.manifest.yamlio import load_document
from tests.unit.manifest_helpers import DRIVERS, FIXTURES, write


@pytest.fixture
def compiled(tmp_path: Path) -> Path:
    """A copy of the canonical compiled fixture (so tests may edit it)."""
    shutil.copytree(FIXTURES / "compiled", tmp_path / "build")
    return tmp_path / "build" / "manifest.yaml"


def test_fixture_is_canonical_osiris_output() -> None:
    text = (FIXTURES / "compiled" / "manifest.yaml").read_text()
    assert text.startswith("---\n") and text.endswith("...\n")
    cfg = (FIXTURES / "compiled" / "cfg" / "write-report.json").read_text()
    assert ": " not in cfg and ", " not in cfg  # compact JSON
    assert list(json.loads(cfg)) == sorted(json.loads(cfg))


def test_detects_compiled_by_pipeline_steps_meta() -> None:
    assert detect_kind(load_document(FIXTURES / "compiled" / "manifest.yaml")) == "compiled"
    assert detect_kind({"steps": [{"id": "a", "driver": "x", "cfg_path": "cfg/a.json"}]}) == "compiled"


def test_loads_real_shaped_manifest(compiled: Path) -> None:
    p = load_pipeline(compiled, drivers=DRIVERS)
    assert p.kind == "compiled"
    assert p.name == "movies-report"
    assert p.path == compiled.absolute()
    assert p.step_ids == ["extract-movies", "extract-directors", "join-movies", "write-report"]
    join = p.step("join-movies")
    assert join.needs == ["extract-movies", "extract-directors"]
    assert join.driver == join.component == "duckdb.processor"
    assert join.config["query"].startswith("SELECT m.title")
    writer = p.step("write-report")
    assert writer.config == {
        "chunk_size": 1000, "component": "filesystem.csv_writer", "create_dirs": True, "delimiter": ",",
        "encoding": "utf-8", "header": True, "mode": "write", "newline": "lf", "path": "out/report.csv",
        "quoting": "minimal",
    }
    assert writer.source is not None and writer.source.kind == "cfg"
    assert writer.source.file == compiled.parent / "cfg" / "write-report.json"
    assert writer.source.describe(p.base_dir) == "cfg/write-report.json"
    assert p.downstream("extract-directors") == ["join-movies", "write-report"]
    assert p.warnings == []


def test_name_falls_back_to_pipeline_id_and_driver_to_component(tmp_path: Path) -> None:
    write(tmp_path, "cfg/a.json", '{"query":"SELECT 1"}')
    path = write(tmp_path, "manifest.yaml", """
        meta: {oml_version: 0.1.0}
        pipeline: {id: my_pipe}
        steps:
        - {id: a, component: duckdb.processor, cfg_path: cfg/a.json, needs: []}
    """)
    p = load_pipeline(path, drivers=DRIVERS)
    assert p.name == "my_pipe"
    assert p.steps[0].driver == "duckdb.processor"


def test_missing_cfg_file_names_step_and_place(compiled: Path) -> None:
    (compiled.parent / "cfg" / "join-movies.json").unlink()
    with pytest.raises(ManifestError) as err:
        load_pipeline(compiled, drivers=DRIVERS)
    e = err.value
    assert e.file == str(compiled) and e.step_id == "join-movies" and e.key == "cfg_path"
    assert e.line == 37  # the step entry in manifest.yaml
    assert "cfg file not found" in e.message and "join-movies.json" in e.message


def test_malformed_cfg_json_gives_cfg_line_and_column(compiled: Path) -> None:
    cfg = compiled.parent / "cfg" / "write-report.json"
    cfg.write_text('{"path": "out.csv",\n  "header": tru}\n')
    with pytest.raises(ManifestError) as err:
        load_pipeline(compiled, drivers=DRIVERS)
    e = err.value
    assert e.file == str(cfg) and (e.line, e.column) == (2, 13) and e.step_id == "write-report"
    assert e.render().startswith(f"{cfg}:2:13: step 'write-report': Invalid JSON")


def test_cfg_not_an_object(compiled: Path) -> None:
    (compiled.parent / "cfg" / "extract-movies.json").write_text("[1, 2]")
    with pytest.raises(ManifestError, match="cfg must be a JSON object, not list") as err:
        load_pipeline(compiled, drivers=DRIVERS)
    assert err.value.step_id == "extract-movies"


def test_unknown_need_in_compiled(compiled: Path) -> None:
    text = compiled.read_text().replace("  - join-movies\n", "  - join-movie\n")
    compiled.write_text(text)
    with pytest.raises(ManifestError) as err:
        load_pipeline(compiled, drivers=DRIVERS)
    e = err.value
    assert e.message == "Unknown step 'join-movie' in 'needs'"
    assert e.step_id == "write-report" and e.key == "needs" and e.line == 48
    assert e.hint == "did you mean 'join-movies'?"


def test_legacy_driver_id_is_explained(tmp_path: Path) -> None:
    write(tmp_path, "cfg/extract.json", "{}")
    path = write(tmp_path, "manifest.yaml", """
        meta: {}
        pipeline: {id: legacy}
        steps:
        - {id: extract, driver: extractors.supabase@0.1, cfg_path: cfg/extract.json, needs: []}
    """)
    with pytest.raises(ManifestError) as err:
        load_pipeline(path, drivers=DRIVERS)
    e = err.value
    assert e.message.startswith("Unknown driver 'extractors.supabase@0.1'. Available drivers: duckdb.processor")
    assert "legacy Osiris driver id" in (e.hint or "") and "supabase.extractor" in (e.hint or "")
    assert e.line == 4 and e.key == "driver"


def test_param_is_an_error_for_compiled(compiled: Path) -> None:
    with pytest.raises(ManifestError) as err:
        load_pipeline(compiled, drivers=DRIVERS, params={"x": "1"})
    assert "--param x: compiled manifests have no params" in err.value.message
    assert err.value.file == str(compiled)
