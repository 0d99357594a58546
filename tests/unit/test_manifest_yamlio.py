"""YAML/JSON reading with line and column bookkeeping."""

from __future__ import annotations

from pathlib import Path

import pytest

from osiris_tui.errors import ManifestError
from osiris_tui.manifest.yamlio import LocDict, LocList, load_document, mark_of, parse_json, parse_yaml, plain

F = Path("m.yaml")


def test_mappings_and_keys_remember_their_place() -> None:
    data = parse_yaml("name: x\nsteps:\n  - id: a\n    config:\n      path: p.csv\n", F)
    assert isinstance(data, LocDict)
    assert mark_of(data) == (1, 1)
    assert mark_of(data, "steps") == (2, 1)
    steps = data["steps"]
    assert isinstance(steps, LocList)
    assert mark_of(steps, 0) == (3, 5)
    assert mark_of(steps[0], "config") == (4, 5)
    assert mark_of(steps[0]["config"], "path", value=True) == (5, 13)


def test_plain_strips_bookkeeping_but_keeps_content() -> None:
    data = parse_yaml("a: {b: [1, {c: 2}]}\n", F)
    out = plain(data)
    assert out == {"a": {"b": [1, {"c": 2}]}}
    assert type(out) is dict and type(out["a"]["b"]) is list


def test_broken_yaml_gives_line_and_column() -> None:
    with pytest.raises(ManifestError) as err:
        parse_yaml("steps:\n  - id: a\n    config: {path: x\n  - id: b\n", F)
    e = err.value
    assert e.file == "m.yaml" and e.line == 4 and e.column is not None
    assert "Invalid YAML" in e.render()


def test_duplicate_key_is_an_error_naming_both_lines() -> None:
    with pytest.raises(ManifestError) as err:
        parse_yaml("steps: []\nname: a\nname: b\n", F)
    assert err.value.line == 3
    assert "duplicate key 'name' (first at line 2)" in err.value.message


def test_merge_keys_are_not_duplicates() -> None:
    data = parse_yaml("base: &b {delimiter: ';', header: true}\ncfg:\n  <<: *b\n  delimiter: ','\n", F)
    assert data["cfg"] == {"delimiter": ",", "header": True}


def test_json_error_gives_line_and_column() -> None:
    with pytest.raises(ManifestError) as err:
        parse_json('{"a": 1,\n "b": }', Path("c.json"))
    assert (err.value.line, err.value.column) == (2, 7)
    assert err.value.file == "c.json"


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="not found"):
        load_document(tmp_path / "nope.yaml")
    with pytest.raises(ManifestError, match="is a directory"):
        load_document(tmp_path)
    (tmp_path / "manifest.yaml").write_text("steps: []\n")
    with pytest.raises(ManifestError) as err:
        load_document(tmp_path)
    assert err.value.hint == f"did you mean {tmp_path / 'manifest.yaml'}?"


def test_not_utf8_is_reported(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"name: \xff\xfe\n")
    with pytest.raises(ManifestError, match="not UTF-8"):
        load_document(bad)


def test_json_manifest_is_read_as_json(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_text('{"steps": [{"id": "a"}]}')
    assert load_document(path) == {"steps": [{"id": "a"}]}
