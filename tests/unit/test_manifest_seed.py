"""Seed-format manifests and the structural checks every kind shares."""

from __future__ import annotations

from pathlib import Path

import pytest

from osiris_tui.errors import ManifestError
from osiris_tui.manifest import detect_kind, load_pipeline
from osiris_tui.manifest.seed import parse_input_ref
from tests.unit.manifest_helpers import DRIVERS, FIXTURES, write


def load(tmp_path: Path, text: str, **kw: object):  # type: ignore[no-untyped-def]
    return load_pipeline(write(tmp_path, "p.yaml", text), drivers=DRIVERS, **kw)  # type: ignore[arg-type]


def fail(tmp_path: Path, text: str, name: str = "p.yaml") -> ManifestError:
    path = write(tmp_path, name, text)
    with pytest.raises(ManifestError) as err:
        load_pipeline(path, drivers=DRIVERS)
    assert err.value.file == str(path)
    return err.value


def test_seed_fixture_loads() -> None:
    p = load_pipeline(FIXTURES / "seed.yaml", drivers=DRIVERS)
    assert p.kind == "seed" and p.name == "seed-demo"
    assert p.step_ids == ["extract", "top", "save"]
    top = p.step("top")
    assert top.input_refs == {"df": "extract"} and top.needs == []
    assert top.upstream == ["extract"]
    assert top.config == {"query": "SELECT * FROM df ORDER BY year DESC LIMIT 3"}
    assert type(top.config) is dict
    assert top.source is not None and top.source.kind == "inline" and top.source.line == 8
    assert top.source.describe(p.base_dir) == "inline in seed.yaml:8"
    assert p.step("save").needs == ["top"]
    assert p.warnings == []


def test_detect_kind() -> None:
    assert detect_kind({"steps": [{"id": "a", "driver": "d"}]}) == "seed"
    assert detect_kind({"oml_version": "0.1.0"}) == "oml"
    assert detect_kind({"steps": [{"id": "a", "component": "c", "mode": "read"}]}) == "oml"
    with pytest.raises(ManifestError, match="must be a mapping"):
        detect_kind([1])


@pytest.mark.parametrize(
    ("value", "target"),
    [("${extract.df}", "extract"), ("${extract}", "extract"), ("${get.data.df}", "get.data"), ("extract", None)],
)
def test_input_refs(value: str, target: str | None) -> None:
    assert parse_input_ref(value) == target


def test_name_defaults_to_file_stem_and_default_registry(tmp_path: Path) -> None:
    path = write(tmp_path, "my_flow.yaml", "steps:\n  - {id: q, driver: duckdb.processor, config: {query: SELECT 1}}\n")
    p = load_pipeline(path)  # drivers from the default registry
    assert p.name == "my_flow"


# --- bad inputs: one clear message with file and place ------------------------------------------


def test_broken_yaml(tmp_path: Path) -> None:
    e = fail(tmp_path, "steps:\n  - id: a\n    driver: duckdb.processor\n   config: {}\n")
    assert e.line == 4 and e.column is not None
    assert e.render().startswith(f"{tmp_path / 'p.yaml'}:4:")


def test_top_level_not_a_mapping(tmp_path: Path) -> None:
    e = fail(tmp_path, "- id: a\n  driver: duckdb.processor\n")
    assert e.message == "The top level must be a mapping (it is a list)"
    e = fail(tmp_path, "", name="empty.yaml")
    assert "file is empty" in e.message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: x\n", "No 'steps' in the manifest"),
        ("steps: []\n", "'steps' is empty"),
        ("steps: {a: 1}\n", "'steps' must be a list, not mapping"),
    ],
)
def test_no_steps(tmp_path: Path, text: str, message: str) -> None:
    e = fail(tmp_path, text)
    assert e.message == message and e.line == 1 and e.hint


def test_step_not_a_mapping(tmp_path: Path) -> None:
    e = fail(tmp_path, "steps:\n  - {id: a, driver: duckdb.processor}\n  - just-a-string\n")
    assert e.message == "steps[1] is a string, not a mapping" and e.line == 3


def test_missing_id(tmp_path: Path) -> None:
    e = fail(tmp_path, "steps:\n  - driver: duckdb.processor\n")
    assert e.message == "steps[0] has no 'id'" and e.line == 2


def test_duplicate_ids_name_both_lines(tmp_path: Path) -> None:
    e = fail(tmp_path, """
        steps:
          - id: a
            driver: duckdb.processor
          - id: b
            driver: duckdb.processor
          - id: a
            driver: duckdb.processor
    """)
    assert e.message == "Duplicate step id 'a' (line 2 and line 6)"
    assert (e.line, e.step_id, e.key) == (6, "a", "id")


def test_missing_driver(tmp_path: Path) -> None:
    e = fail(tmp_path, "steps:\n  - id: a\n    config: {}\n")
    assert e.message == "Step has no 'driver'" and e.step_id == "a" and "duckdb.processor" in (e.hint or "")


def test_unknown_driver_lists_available_and_suggests(tmp_path: Path) -> None:
    e = fail(tmp_path, "steps:\n  - id: a\n    driver: filesystem.csv_writter\n")
    assert e.message == "Unknown driver 'filesystem.csv_writter'. Available drivers: " + ", ".join(DRIVERS)
    assert e.hint == "did you mean 'filesystem.csv_writer'?"
    assert (e.line, e.column, e.key, e.step_id) == (3, 5, "driver", "a")


@pytest.mark.parametrize("name", ["duckdb.transform", "duckdb.transformer"])
def test_stale_duckdb_names(tmp_path: Path, name: str) -> None:
    e = fail(tmp_path, f"steps:\n  - id: a\n    driver: {name}\n")
    assert e.message.startswith(f"Unknown driver '{name}'")
    assert e.hint is not None and "the component is duckdb.processor" in e.hint


def test_needs_not_a_list_of_strings(tmp_path: Path) -> None:
    e = fail(tmp_path, "steps:\n  - {id: a, driver: duckdb.processor}\n  - {id: b, driver: mysql.writer, needs: a}\n")
    assert e.message == "'needs' must be a list of step ids (strings)" and e.step_id == "b"


def test_unknown_need_suggests_closest(tmp_path: Path) -> None:
    e = fail(tmp_path, """
        steps:
          - {id: extract, driver: duckdb.processor}
          - {id: load, driver: duckdb.processor, needs: [extrct]}
    """)
    assert e.message == "Unknown step 'extrct' in 'needs'"
    assert e.hint == "did you mean 'extract'?" and e.line == 3 and e.key == "needs"


def test_unknown_input_reference(tmp_path: Path) -> None:
    e = fail(tmp_path, """
        steps:
          - {id: extract, driver: duckdb.processor}
          - {id: load, driver: duckdb.processor, inputs: {df: "${extrakt.df}"}}
    """)
    assert e.message == "Unknown step 'extrakt' in 'inputs'" and e.hint == "did you mean 'extract'?"


def test_bad_input_reference(tmp_path: Path) -> None:
    e = fail(tmp_path, "steps:\n  - id: a\n    driver: duckdb.processor\n    inputs: {df: extract}\n")
    assert "inputs.df must be a reference like ${step_id.df}" in e.message and e.line == 4


def test_config_not_a_mapping(tmp_path: Path) -> None:
    e = fail(tmp_path, "steps:\n  - id: a\n    driver: duckdb.processor\n    config: SELECT 1\n")
    assert e.message == "'config' must be a mapping, not string" and (e.line, e.key) == (4, "config")


def test_cycle_names_the_path(tmp_path: Path) -> None:
    e = fail(tmp_path, """
        steps:
          - {id: a, driver: duckdb.processor, needs: [c]}
          - {id: b, driver: duckdb.processor, needs: [a]}
          - {id: c, driver: duckdb.processor, needs: [b]}
    """)
    assert e.message == "Dependency cycle: a → b → c → a"
    assert (e.step_id, e.key, e.line) == ("a", "needs", 2)


def test_self_dependency_is_a_cycle(tmp_path: Path) -> None:
    e = fail(tmp_path, "steps:\n  - {id: a, driver: duckdb.processor, inputs: {df: '${a.df}'}}\n")
    assert e.message == "Dependency cycle: a → a" and e.key == "inputs"
