"""Locating a step's value in its file, saving it atomically, undo, SQL error places, $EDITOR, parameters."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from osiris_tui.authoring import locate, parameters
from osiris_tui.authoring.errors import EditRefused
from osiris_tui.authoring.external import editor_command
from osiris_tui.authoring.overrides import ParamOverrides
from osiris_tui.authoring.sql_errors import SqlPlace, error_place
from osiris_tui.manifest import load_pipeline
from osiris_tui.manifest.model import ConfigSource, Step

SEED = """\
# a seed pipeline
steps:
  - id: q   # the only step
    driver: duckdb.processor
    config:
      query: "SELECT 1"   # keep me
"""


def test_seed_value_saved_in_place_with_bom_and_crlf(tmp_path: Path) -> None:
    file = tmp_path / "manifest.yaml"
    file.write_bytes(("\ufeff" + SEED).replace("\n", "\r\n").encode())
    step = load_pipeline(file).step("q")
    current = locate.read_value(locate.value_site(step, "query"))
    assert (current.value, current.line) == ("SELECT 1", 6)
    saved = locate.save_value(current.site, "SELECT 'ü'\nFROM t\n", expected=current.text.raw)
    data = file.read_bytes()
    assert data.startswith("\ufeff".encode())
    assert data == ("\ufeff" + SEED.replace('"SELECT 1"   # keep me', "|  # keep me\n        SELECT 'ü'\n"
                                            "        FROM t")).replace("\n", "\r\n").encode()
    assert load_pipeline(file).step("q").config["query"] == "SELECT 'ü'\nFROM t\n"
    saved.undo()
    assert file.read_bytes() == saved.before


def test_undo_and_stale_save_refuse_when_the_file_changed(tmp_path: Path) -> None:
    file = tmp_path / "manifest.yaml"
    file.write_text(SEED)
    site = locate.value_site(load_pipeline(file).step("q"), "query")
    current = locate.read_value(site)
    saved = locate.save_value(site, "SELECT 2")
    with pytest.raises(EditRefused, match="changed since the editor opened"):
        locate.save_value(site, "SELECT 3", expected=current.text.raw)
    file.write_text(file.read_text() + "# edited elsewhere\n")
    with pytest.raises(EditRefused, match="changed since the save"):
        saved.undo()
    assert file.read_text().endswith("# edited elsewhere\n")


def test_atomic_save_keeps_permissions_and_symlinks_and_leaves_no_temp(tmp_path: Path) -> None:
    real = tmp_path / "real.json"
    real.write_text('{"query": "SELECT 1"}')
    real.chmod(0o640)
    link = tmp_path / "cfg.json"
    link.symlink_to(real)
    step = Step("q", "duckdb.processor", {"query": "SELECT 1"}, source=ConfigSource("cfg", link))
    locate.save_value(locate.value_site(step, "query"), "SELECT 2")
    assert link.is_symlink() and json.loads(real.read_text()) == {"query": "SELECT 2"}
    assert real.stat().st_mode & 0o777 == 0o640
    assert sorted(os.listdir(tmp_path)) == ["cfg.json", "real.json"]


def test_unwritable_directory_is_a_clear_refusal(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root writes anywhere")
    (tmp_path / "ro").mkdir()
    cfg = tmp_path / "ro" / "q.json"
    cfg.write_text('{"query": "x"}')
    (tmp_path / "ro").chmod(0o555)
    try:
        step = Step("q", "duckdb.processor", {"query": "x"}, source=ConfigSource("cfg", cfg))
        with pytest.raises(EditRefused, match="cannot write"):
            locate.save_value(locate.value_site(step, "query"), "y")
    finally:
        (tmp_path / "ro").chmod(0o755)


def test_sql_keys_and_editor_target(tmp_path: Path) -> None:
    assert locate.sql_keys({"query": "x", "sql": "y", "path": "z", "SQL": 1}) == ["query", "sql"]
    file = tmp_path / "manifest.yaml"
    file.write_text(SEED)
    assert locate.editor_target(load_pipeline(file).step("q"), "query") == (file.absolute(), 6)


def test_error_places() -> None:
    query = "SELECT 1,\n  nope\nFROM t"
    duck = 'Binder Error: Referenced column "nope" not found\n\nLINE 2:   nope\n          ^^^^'
    assert error_place(duck, query) == SqlPlace(2, 3, 4)
    long_line = "SELECT " + ", ".join(f"c{i}" for i in range(60)) + ", bad FROM t"
    start = long_line.index("c50")
    shown = "..." + long_line[start:start + 40] + "..."
    caret = " " * (len("LINE 1: ") + 3 + long_line.index("bad") - start) + "^^^"
    assert error_place(f"Error\n\nLINE 1: {shown}\n{caret}", long_line) == SqlPlace(1, long_line.index("bad") + 1, 3)
    mysql = "(1064, \"You have an error in your SQL syntax; ... near 'FORM t' at line 3\")"
    assert error_place(mysql, query) == SqlPlace(3)
    assert error_place("LINE 9: x\n        ^", query) is None
    assert error_place("no place", query) is None


def test_editor_command_falls_back_from_editor_to_visual_to_vi(tmp_path: Path) -> None:
    f = tmp_path / "m.yaml"
    assert editor_command(f, 7, {"EDITOR": "code --wait", "VISUAL": "nano"}) == ["code", "--wait", "+7", str(f)]
    assert editor_command(f, 0, {"EDITOR": " ", "VISUAL": "nano"}) == ["nano", "+1", str(f)]
    assert editor_command(f, 3, {}) == ["vi", "+3", str(f)]
    with pytest.raises(EditRefused, match="EDITOR"):
        editor_command(f, 3, {"EDITOR": "'unclosed"})


OML = """\
oml_version: "0.1.0"
name: typed
params:
  n: {default: 10}
  head: {default: true}
  tag: {default: x}
  db_password: {}
steps:
  - id: load
    component: filesystem.csv_extractor
    mode: read
    config:
      path: data_${params.tag}.csv
      limit: ${params.n}
      header: ${params.head}
  - id: sql
    component: duckdb.processor
    mode: transform
    config:
      query: SELECT * FROM df_load LIMIT ${params.n}
"""


def test_parameters_are_typed_for_the_options_they_fill(tmp_path: Path) -> None:
    file = tmp_path / "p.yaml"
    file.write_text(OML)
    found = parameters.usage(file)
    assert found.steps == {"tag": {"load"}, "n": {"load", "sql"}, "head": {"load"}}
    assert parameters.convert("n", " 25 ", found) == 25
    assert parameters.convert("head", "no", found) is False
    assert parameters.convert("tag", "007", found) == 7  # spliced into text only: read as --param reads it
    with pytest.raises(EditRefused, match="option 'limit' of step 'load', which takes an integer"):
        parameters.convert("n", "ten", found)
    with pytest.raises(EditRefused, match=r"option 'header' .* a boolean"):
        parameters.convert("head", "maybe", found)
    with pytest.raises(EditRefused, match="looks like a secret"):
        parameters.convert("db_password", "hunter22", found)


def test_parameter_rows_show_origins_and_mask_secret_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    file = tmp_path / "p.yaml"
    file.write_text(OML)
    monkeypatch.setenv("OSIRIS_PARAM_DB_PASSWORD", "s3cr3t-value")
    pipeline = load_pipeline(file, params={"tag": "y"}, drivers=["filesystem.csv_extractor", "duckdb.processor"])
    rows = {r.name: r for r in parameters.rows(pipeline, parameters.usage(file), edited={"head"})}
    assert (rows["n"].shown, rows["n"].source, rows["n"].steps) == ("10", "default", ("load", "sql"))
    assert (rows["tag"].shown, rows["tag"].source) == ("y", "--param")
    assert rows["head"].source == "set here"
    assert (rows["db_password"].shown, rows["db_password"].source) == ("***", "OSIRIS_PARAM_DB_PASSWORD")
    assert "s3cr3t-value" not in repr(list(rows.values()))


def test_overrides_reload_keeps_command_line_values_and_text(tmp_path: Path) -> None:
    file = tmp_path / "p.yaml"
    file.write_text(OML)
    drivers = ["filesystem.csv_extractor", "duckdb.processor"]
    pipeline = load_pipeline(file, params={"tag": "007"}, drivers=drivers)
    overrides = ParamOverrides.of(pipeline)
    overrides.set("head", False, "no")
    overrides.set("n", 5, "5")
    fresh = overrides.loader(pipeline, drivers)()
    load = fresh.step("load").config
    assert (load["path"], load["limit"], load["header"]) == ("data_007.csv", 5, False)
    assert fresh.step("sql").config["query"].endswith("LIMIT 5")


def test_oml_step_with_its_config_under_with(tmp_path: Path) -> None:
    file = tmp_path / "p.yaml"
    file.write_text('oml_version: "0.1.0"\nname: w\nsteps:\n  - id: q\n    component: duckdb.processor\n'
                    "    mode: transform\n    with:\n      query: SELECT 1   # one\n")
    step = load_pipeline(file, drivers=["duckdb.processor"]).step("q")
    site = locate.value_site(step, "query")
    assert site.path == ("steps", 0, "with", "query")
    locate.save_value(site, "SELECT 2")
    assert file.read_text().endswith("    with:\n      query: SELECT 2   # one\n")
