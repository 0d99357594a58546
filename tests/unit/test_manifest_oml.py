"""OML v0.1.0 compiled in memory: the cfgs must equal what `osiris compile` writes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from osiris_tui.errors import ManifestError
from osiris_tui.manifest import load_pipeline
from osiris_tui.manifest.model import Pipeline
from osiris_tui.manifest.oml import is_secret_name
from osiris_tui.manifest.params import coerce
from tests.unit.manifest_helpers import DRIVERS, FIXTURES, write

HEADER = 'oml_version: "0.1.0"\nname: t\n'


def oml(tmp_path: Path, body: str, *, env: dict[str, str] | None = None, **kw: Any) -> Pipeline:
    path = write(tmp_path, "p.yaml", HEADER + body)
    return load_pipeline(path, drivers=kw.pop("drivers", DRIVERS), env=env or {}, **kw)


def fail(tmp_path: Path, body: str, **kw: Any) -> ManifestError:
    with pytest.raises(ManifestError) as err:
        oml(tmp_path, body, **kw)
    assert err.value.file == str(tmp_path / "p.yaml")
    return err.value


def one_step(component: str, mode: str, config: str) -> str:
    return f"steps:\n  - id: s\n    component: {component}\n    mode: {mode}\n    config: {config}\n"


def test_compiles_to_the_same_cfgs_as_osiris() -> None:
    p = load_pipeline(FIXTURES / "movies.oml.yaml", drivers=DRIVERS, env={})
    assert p.kind == "oml" and p.name == "movies-report"
    compiled = FIXTURES / "compiled"
    for step in p.steps:
        expected = json.loads((compiled / "cfg" / f"{step.id}.json").read_text())
        assert step.config == expected, step.id
        assert list(step.config) == sorted(step.config)  # canonical key order
    assert {s.id: s.needs for s in p.steps} == {
        "extract-movies": [],
        "extract-directors": ["extract-movies"],  # implicit linear chaining
        "join-movies": ["extract-movies", "extract-directors"],
        "write-report": ["join-movies"],
    }
    assert p.warnings == [
        "step 'extract-directors' has no 'needs': it depends on the previous step 'extract-movies'"
        " (Osiris's implicit linear chaining)"
    ]
    src = p.step("join-movies").source
    assert src is not None and src.kind == "oml" and src.line == 20
    assert src.describe(p.base_dir) == "compiled from OML movies.oml.yaml:20"
    assert p.params == {"out_dir": "out"}


def test_mode_mapping_and_component_in_cfg(tmp_path: Path) -> None:
    p = oml(tmp_path, one_step("mysql.extractor", "read", '{connection: "@mysql.shop", query: SELECT 1}'))
    cfg = p.steps[0].config
    assert cfg["mode"] == "extract" and cfg["component"] == "mysql.extractor"
    assert cfg["connection"] == "@mysql.shop"
    # spec defaults are written even when a connection is used (as Osiris does)
    assert (cfg["host"], cfg["port"], cfg["batch_size"]) == ("localhost", 3306, 10000)
    assert p.steps[0].family == "mysql"


def test_writer_defaults(tmp_path: Path) -> None:
    sb = oml(tmp_path, one_step("supabase.writer", "write", "{connection: '@supabase.main', table: movies}"))
    cfg = sb.steps[0].config
    assert cfg["mode"] == "write" and cfg["write_mode"] == "append"
    assert (cfg["batch_size"], cfg["create_if_missing"], cfg["schema"]) == (100, True, "public")
    my = oml(tmp_path, one_step("mysql.writer", "write", "{table: movies}"))
    assert my.steps[0].config["batch_size"] == 1000 and my.steps[0].config["mode"] == "write"
    csv = oml(tmp_path, one_step("filesystem.csv_extractor", "read", "{path: a.csv, delimiter: ';'}"))
    c = csv.steps[0].config
    assert (c["delimiter"], c["encoding"], c["header"], c["mode"]) == (";", "utf-8", True, "extract")


def test_config_mode_overrides_cfg_mode(tmp_path: Path) -> None:
    p = oml(tmp_path, one_step("supabase.writer", "write", "{table: t, mode: upsert, primary_key: [id]}"))
    assert p.steps[0].config["mode"] == "upsert" and p.steps[0].config["primary_key"] == ["id"]


def test_explicit_empty_needs_is_not_chained(tmp_path: Path) -> None:
    p = oml(tmp_path, """
        steps:
          - {id: a, component: duckdb.processor, mode: transform, config: {query: SELECT 1}}
          - {id: b, component: duckdb.processor, mode: transform, needs: [], config: {query: SELECT 2}}
          - {id: c, component: duckdb.processor, mode: transform, config: {query: SELECT 3}}
    """.replace("\n        ", "\n"))
    assert [s.needs for s in p.steps] == [[], [], ["b"]]
    assert len(p.warnings) == 1 and "'c'" in p.warnings[0]


def test_forward_needs_are_reordered_and_warned(tmp_path: Path) -> None:
    p = oml(tmp_path, """
steps:
  - {id: load, component: filesystem.csv_writer, mode: write, needs: [make], config: {path: o.csv}}
  - {id: make, component: duckdb.processor, mode: transform, needs: [], config: {query: SELECT 1}}
""")
    assert p.step_ids == ["make", "load"]
    assert any("comes later in the file" in w for w in p.warnings)


def test_legacy_uses_and_with(tmp_path: Path) -> None:
    p = oml(tmp_path, "steps:\n  - {id: q, uses: duckdb.processor, mode: transform, with: {query: SELECT 1}}\n")
    assert p.steps[0].driver == "duckdb.processor" and p.steps[0].config["query"] == "SELECT 1"


def test_plugin_component_accepts_any_keys_and_mode(tmp_path: Path) -> None:
    p = oml(tmp_path, one_step("acme.extractor", "read", "{anything: 1, nested: {x: 2}}"),
            drivers=[*DRIVERS, "acme.extractor"])
    assert p.steps[0].config == {"anything": 1, "component": "acme.extractor", "mode": "extract", "nested": {"x": 2}}


# --- parameters -----------------------------------------------------------------------------------

PARAM_BODY = """params:
  year: {default: 2020}
  table: movies
steps:
  - id: q
    component: duckdb.processor
    mode: transform
    config: {query: "SELECT * FROM ${params.table} WHERE y >= ${params.year}"}
  - id: w
    component: filesystem.csv_writer
    mode: write
    needs: [q]
    config: {path: out.csv, chunk_size: "${params.year}"}
"""


def test_param_defaults(tmp_path: Path) -> None:
    p = oml(tmp_path, PARAM_BODY)
    assert p.step("q").config["query"] == "SELECT * FROM movies WHERE y >= 2020"
    assert p.step("w").config["chunk_size"] == 2020  # a whole-value placeholder keeps its type
    assert p.params == {"year": 2020, "table": "movies"}


def test_param_env_beats_default(tmp_path: Path) -> None:
    p = oml(tmp_path, PARAM_BODY, env={"OSIRIS_PARAM_YEAR": "2021", "OSIRIS_PARAM_TABLE": "films"})
    assert p.step("q").config["query"] == "SELECT * FROM films WHERE y >= 2021"
    assert p.step("w").config["chunk_size"] == 2021


def test_param_cli_beats_env(tmp_path: Path) -> None:
    p = oml(tmp_path, PARAM_BODY, env={"OSIRIS_PARAM_YEAR": "2021"}, params={"year": "2022"})
    assert p.step("q").config["query"].endswith(">= 2022")
    assert p.params["year"] == 2022


def test_param_cli_text_is_spliced_verbatim(tmp_path: Path) -> None:
    p = oml(tmp_path, PARAM_BODY, params={"year": "007"})
    assert p.step("q").config["query"].endswith(">= 007")


def test_unresolved_param_names_it(tmp_path: Path) -> None:
    e = fail(tmp_path, one_step("duckdb.processor", "transform", '{query: "SELECT ${params.limit}"}'))
    assert e.message == "Unresolved parameter 'limit' in 'SELECT ${params.limit}'"
    assert e.line == 7 and e.hint is not None
    assert "OSIRIS_PARAM_LIMIT" in e.hint and "--param limit=VALUE" in e.hint


@pytest.mark.parametrize(
    ("text", "value"),
    [("10", 10), ("-3", -3), ("1.5", 1.5), ("true", True), ("False", False), ("2020-01-01", "2020-01-01"),
     ("no", "no"), ("0x10", "0x10"), ("abc", "abc")],
)
def test_param_coercion(text: str, value: object) -> None:
    assert coerce(text) == value and type(coerce(text)) is type(value)


# --- compile errors -------------------------------------------------------------------------------


def test_inline_secret_is_rejected_first(tmp_path: Path) -> None:
    e = fail(tmp_path, """
steps:
  - id: load
    component: mysql.extractor
    mode: read
    config:
      query: "SELECT ${params.missing}"
      password: hunter2hunter2
""")
    assert e.message == "Inline secret at steps[0].config.password"
    assert (e.line, e.step_id) == (10, "load")
    assert e.hint is not None and "osiris_connections.yaml" in e.hint and "@family.alias" in e.hint
    assert "hunter2" not in e.render()


def test_env_reference_and_short_values_are_not_inline_secrets(tmp_path: Path) -> None:
    p = oml(tmp_path, one_step("supabase.writer", "write", "{table: t, key: '${SB_KEY}', primary_key: id}"))
    cfg = p.steps[0].config
    assert "key" not in cfg and cfg["primary_key"] == "id"  # secret names are dropped, primary_key kept


def test_secret_name_rule() -> None:
    assert is_secret_name("password") and is_secret_name("API_KEY") and is_secret_name("db_password")
    assert is_secret_name("service_role_key") and is_secret_name("pg_dsn")
    assert not is_secret_name("primary_key") and not is_secret_name("url") and not is_secret_name("upsert_keys")


def test_unknown_config_key_lists_allowed(tmp_path: Path) -> None:
    e = fail(tmp_path, one_step("filesystem.csv_writer", "write", "{path: o.csv, quotechar: '\"'}"))
    assert e.message.startswith("Unknown configuration key 'quotechar' for component 'filesystem.csv_writer'.")
    allowed = "chunk_size, connection, create_dirs, delimiter, encoding, header, newline, path, quoting"
    assert f"Allowed: {allowed}" in e.message
    assert (e.line, e.key, e.step_id) == (7, "quotechar", "s")


def test_unknown_config_key_suggests_closest(tmp_path: Path) -> None:
    e = fail(tmp_path, one_step("filesystem.csv_extractor", "read", "{path: a.csv, delimeter: ';'}"))
    assert e.hint == "did you mean 'delimiter'?"


def test_supabase_url_in_config_points_to_connections(tmp_path: Path) -> None:
    e = fail(tmp_path, one_step("supabase.writer", "write", "{table: t, url: 'https://x.supabase.co'}"))
    assert "Unknown configuration key 'url'" in e.message and "connection" in (e.hint or "")


@pytest.mark.parametrize(
    ("component", "config", "key"),
    [
        ("supabase.writer", "{table: t, write_mode: replace}", "write_mode"),
        ("supabase.writer", "{table: t, mode: upsert}", "mode"),
        ("mysql.writer", "{table: t, mode: upsert}", "mode"),
    ],
)
def test_replace_or_upsert_without_primary_key(tmp_path: Path, component: str, config: str, key: str) -> None:
    e = fail(tmp_path, one_step(component, "write", config))
    assert "requires primary_key" in e.message and e.key == key and e.step_id == "s"


def test_mysql_upsert_with_upsert_keys_is_fine(tmp_path: Path) -> None:
    p = oml(tmp_path, one_step("mysql.writer", "write", "{table: t, mode: upsert, upsert_keys: [id]}"))
    assert p.steps[0].config["upsert_keys"] == ["id"]


@pytest.mark.parametrize("key", ["version", "connectors", "tasks", "outputs"])
def test_forbidden_top_level_key(tmp_path: Path, key: str) -> None:
    e = fail(tmp_path, f"{key}: 1\n" + one_step("duckdb.processor", "transform", "{query: SELECT 1}"))
    assert e.message == f"Top-level key '{key}' is not allowed in OML v0.1.0" and e.line == 3


def test_missing_oml_version_is_detected_from_steps(tmp_path: Path) -> None:
    path = write(tmp_path, "p.yaml", "name: t\n" + one_step("duckdb.processor", "transform", "{query: SELECT 1}"))
    with pytest.raises(ManifestError, match="Missing 'oml_version'"):
        load_pipeline(path, drivers=DRIVERS)


def test_unsupported_version(tmp_path: Path) -> None:
    path = write(tmp_path, "p.yaml", 'oml_version: "1.0"\nname: t\nsteps: []\n')
    with pytest.raises(ManifestError, match=r"Unsupported OML version: 1\.0"):
        load_pipeline(path, drivers=DRIVERS)


def test_mode_must_fit_component(tmp_path: Path) -> None:
    e = fail(tmp_path, one_step("filesystem.csv_writer", "read", "{path: o.csv}"))
    assert e.message == "Mode 'read' not supported by component 'filesystem.csv_writer'. Allowed: write"
    assert e.key == "mode" and e.line == 6


def test_missing_mode(tmp_path: Path) -> None:
    e = fail(tmp_path, "steps:\n  - {id: q, component: duckdb.processor, config: {query: SELECT 1}}\n")
    assert "Step has no 'mode'" in e.message and e.hint == "add mode: transform"


def test_unknown_component(tmp_path: Path) -> None:
    e = fail(tmp_path, one_step("duckdb.transform", "transform", "{query: SELECT 1}"))
    assert e.message.startswith("Unknown driver 'duckdb.transform'. Available drivers:")
    assert e.key == "component" and "duckdb.processor" in (e.hint or "")


def test_unknown_need_in_oml(tmp_path: Path) -> None:
    e = fail(tmp_path, """
steps:
  - {id: a, component: duckdb.processor, mode: transform, config: {query: SELECT 1}}
  - {id: b, component: duckdb.processor, mode: transform, needs: [z], config: {query: SELECT 1}}
""")
    assert e.message == "Unknown step 'z' in 'needs'" and e.step_id == "b"
