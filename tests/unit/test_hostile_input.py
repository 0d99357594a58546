"""Hostile input: every bad file ends in exactly one InputError naming the file, the place and the fix.

No case may hang, crash with another exception, echo a secret or print a traceback.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from osiris_tui.cli import main
from osiris_tui.errors import ConnectionConfigError, InputError, ManifestError
from osiris_tui.manifest import load_pipeline, yamlio
from osiris_tui.runtime.connections import Connections, build_env, parse_dotenv
from tests.unit.manifest_helpers import DRIVERS, FIXTURES, write

ROOT = Path(__file__).resolve().parents[2]

STEP = "steps:\n  - id: q\n    driver: duckdb.processor\n    config:\n"
COMPILED = "pipeline: {id: p}\nmeta: {}\nsteps:\n"


def refused(path: Path, error: type[InputError] = ManifestError, **kw: Any) -> InputError:
    """Load `path`, expecting exactly one `error` that names the file and renders as one line."""
    with pytest.raises(InputError) as info:
        load_pipeline(path, drivers=DRIVERS, env={}, **kw)
    exc = info.value
    assert isinstance(exc, error), type(exc)
    assert exc.file is not None and Path(exc.file).name == path.name
    rendered = exc.render()
    assert "\n" not in rendered and rendered.startswith(exc.location)
    return exc


def manifest(tmp_path: Path, text: str, name: str = "manifest.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def config_line(tmp_path: Path, line: str) -> Path:
    """A seed manifest whose step config holds `line` (at line 5)."""
    return manifest(tmp_path, STEP + f"      {line}\n")


# --- scalars that cannot be read as their tag --------------------------------------------------------

@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("start: 2024-02-30", "not a valid one"),
        ("n: !!int abc", "cannot be read as an integer"),
        ("flag: !!bool maybe", "cannot be read as a boolean"),
        ("at: !!timestamp nope", "not a valid one"),
        ("x: !!float abc", "cannot be read as a number"),
    ],
    ids=["invalid-date", "bad-int", "bad-bool", "bad-timestamp", "bad-float"],
)
def test_bad_tagged_scalar(tmp_path: Path, line: str, reason: str) -> None:
    e = refused(config_line(tmp_path, line))
    key = line.split(":")[0]
    assert e.line == 5 and f"on key '{key}' at line 5" in e.message and reason in e.message
    assert e.hint and "quote" in e.hint
    value = line.split(": ", 1)[1].split()[-1]
    assert value not in e.render()


@pytest.mark.parametrize(
    ("text", "tag", "kind"),
    [(STEP + "      cols: !!seq {a: 1}\n", "!!seq", "mapping"), ("steps: !!map [1, 2]\n", "!!map", "list"),
     (STEP + "      name: !!str [a]\n", "!!str", "list")],
    ids=["seq-on-map", "map-on-seq", "str-on-seq"],
)
def test_collection_tag_on_wrong_node(tmp_path: Path, text: str, tag: str, kind: str) -> None:
    e = refused(manifest(tmp_path, text))
    assert f"{tag} tag on a {kind}" in e.message and e.line is not None and e.hint


@pytest.mark.parametrize("tag", ["!foo", "!<tag:example.com,2000:x>", "!!python/object:os.system", "!!binary",
                                 "!!set"])
def test_unknown_or_unsupported_tag(tmp_path: Path, tag: str) -> None:
    e = refused(config_line(tmp_path, f"thing: {tag} aGVsbG8="))
    assert e.line == 5 and "YAML tag" in e.message and "on key 'thing' at line 5" in e.message


def test_secret_behind_an_unknown_tag_is_not_echoed(tmp_path: Path) -> None:
    # An unquoted password starting with '!' is read as a YAML tag.
    e = refused(config_line(tmp_path, "password: !s3cret"))
    assert e.message == "unknown YAML tag on key 'password' at line 5 — quote the value"
    assert "s3cret" not in e.render() and "s3cret" not in str(e)


# --- huge integers, deep nesting ---------------------------------------------------------------------

def test_yaml_integer_over_the_digit_limit(tmp_path: Path) -> None:
    e = refused(config_line(tmp_path, "rows: " + "9" * 5000))
    assert e.line == 5 and "more than 4300 digits" in e.message and "on key 'rows'" in e.message


def test_yaml_hex_integer_over_the_digit_limit(tmp_path: Path) -> None:
    # int("0x...", 16) has no digit limit, but printing the value would fail later.
    e = refused(config_line(tmp_path, "rows: 0x" + "f" * 5000))
    assert e.line == 5 and "more than 4300 digits" in e.message


def compiled_with_cfg(tmp_path: Path, cfg_text: str | bytes) -> Path:
    path = manifest(tmp_path, COMPILED + "  - {id: a, driver: duckdb.processor, cfg_path: cfg/a.json}\n")
    (tmp_path / "cfg").mkdir()
    cfg = tmp_path / "cfg" / "a.json"
    cfg.write_bytes(cfg_text if isinstance(cfg_text, bytes) else cfg_text.encode())
    return path


def refused_cfg(tmp_path: Path, cfg_text: str | bytes) -> InputError:
    with pytest.raises(ManifestError) as info:
        load_pipeline(compiled_with_cfg(tmp_path, cfg_text), drivers=DRIVERS)
    e = info.value
    assert e.file == str(tmp_path / "cfg" / "a.json") and e.step_id == "a" and "\n" not in e.render()
    return e


def test_cfg_json_integer_over_the_digit_limit(tmp_path: Path) -> None:
    e = refused_cfg(tmp_path, '{"query": "select 1",\n "limit": ' + "7" * 5000 + "}")
    assert (e.line, e.column) == (2, 11) and "more than 4300 digits" in e.message


def test_cfg_json_nested_past_the_recursion_limit(tmp_path: Path) -> None:
    e = refused_cfg(tmp_path, '{"x":\n' + "[" * 100_000 + "]" * 100_000 + "}")
    assert e.line == 2 and "nesting deeper than 100 levels" in e.message


def test_json_manifest_nested_too_deep(tmp_path: Path) -> None:
    e = refused(manifest(tmp_path, '{"steps": ' + "[" * 150 + "]" * 150 + "}", name="m.json"))
    assert e.line == 1 and "nesting deeper than 100 levels" in e.message


@pytest.mark.parametrize("style", ["block", "flow"])
def test_yaml_nested_too_deep(tmp_path: Path, style: str) -> None:
    if style == "block":
        text = "steps:\n" + "".join(" " * (i + 1) + f"k{i}:\n" for i in range(5000))
    else:
        text = "steps: " + "[" * 100_000 + "]" * 100_000 + "\n"
    e = refused(manifest(tmp_path, text))
    assert e.line is not None and "nesting" in e.message


# --- dependency graphs -------------------------------------------------------------------------------

def test_1500_step_cycle(tmp_path: Path) -> None:
    n = 1500
    steps = "".join(f"  - {{id: s{i}, driver: duckdb.processor, needs: [s{(i + 1) % n}]}}\n" for i in range(n))
    e = refused(manifest(tmp_path, "steps:\n" + steps))
    assert e.message.startswith("Dependency cycle: s0 → s1499 → s1498") and "more" in e.message
    assert e.step_id == "s0" and e.key == "needs" and e.line == 2 and len(e.render()) < 1000


def test_1500_step_chain_loads_in_order(tmp_path: Path) -> None:
    n = 1500
    steps = "".join(
        f"  - {{id: s{i}, driver: duckdb.processor" + (f", needs: [s{i + 1}]" if i < n - 1 else "") + "}\n"
        for i in range(n)
    )
    pipeline = load_pipeline(manifest(tmp_path, "steps:\n" + steps), drivers=DRIVERS)
    assert pipeline.step_ids == [f"s{i}" for i in reversed(range(n))]


# --- OML keys and cfg paths --------------------------------------------------------------------------

def test_oml_key_that_looks_like_a_step_index(tmp_path: Path) -> None:
    e = refused(manifest(tmp_path, 'oml_version: "0.1.0"\nname: x\nsteps[x]: {password: hunter22}\nsteps: []\n'))
    assert e.message == "Inline secret at steps[x].password" and e.line == 3 and "hunter22" not in e.render()


@pytest.mark.parametrize(
    ("cfg_path", "problem"),
    [("cfg/" + "c" * 300 + ".json", "characters long"), ("/etc/passwd", "absolute path"),
     ("../../outside.json", "leaves the manifest's directory"), ("cfg/../../x.json", "leaves the manifest"),
     ('"cfg/a\\0.json"', "NUL"), ("'.'", "names the manifest's directory"), ("[a]", "must be a file path")],
    ids=["too-long", "absolute", "dotdot", "dotdot-inside", "nul", "dot", "not-a-string"],
)
def test_unusable_cfg_path(tmp_path: Path, cfg_path: str, problem: str) -> None:
    e = refused(manifest(tmp_path, COMPILED + f"  - id: a\n    driver: duckdb.processor\n    cfg_path: {cfg_path}\n"))
    assert problem in e.message and e.step_id == "a" and e.key == "cfg_path" and e.line == 6
    assert e.hint and "cfg/a.json" in e.hint


def test_cfg_path_with_dotdot_inside_the_directory_is_fine(tmp_path: Path) -> None:
    path = compiled_with_cfg(tmp_path, '{"query": "select 1"}')
    path.write_text(COMPILED + "  - {id: a, driver: duckdb.processor, cfg_path: cfg/../cfg/a.json}\n")
    assert load_pipeline(path, drivers=DRIVERS).step("a").config == {"query": "select 1"}


# --- encodings and NUL -------------------------------------------------------------------------------

def test_non_utf8_manifest(tmp_path: Path) -> None:
    path = tmp_path / "manifest.yaml"
    path.write_bytes(b"name: x\nsteps:\n  - id: caf\xe9\n")
    e = refused(path)
    assert (e.line, e.column) == (3, 12) and "not UTF-8" in e.message and e.hint == "save the file as UTF-8"


def test_non_utf8_cfg(tmp_path: Path) -> None:
    e = refused_cfg(tmp_path, b'{"query": "select \xff"}')
    assert e.line == 1 and "not UTF-8" in e.message


def test_non_utf8_connections_file(tmp_path: Path) -> None:
    path = tmp_path / "osiris_connections.yaml"
    path.write_bytes(b"connections:\n  mysql:\n    a: {password: \xff\xfe}\n")
    with pytest.raises(ConnectionConfigError) as info:
        Connections(path)
    assert info.value.file == str(path) and info.value.line == 3 and "not UTF-8" in info.value.message


def test_non_utf8_dotenv(tmp_path: Path) -> None:
    (tmp_path / ".env").write_bytes(b"A=1\nB=caf\xe9\n")
    with pytest.raises(ConnectionConfigError) as info:
        build_env([tmp_path], {})
    assert info.value.file == str(tmp_path / ".env") and info.value.line == 2


@pytest.mark.parametrize(
    ("where", "text"),
    [("manifest", "name: x\nsteps:\n  - id: a\x00b\n"), ("json manifest", '{"steps":\n[\n{"id": "a\x00"}]}'),
     ("cfg", '{"a": 1,\n\n "b": "\x00"}'), ("connections", "connections:\n\n  mysql: {a: {host: \x00}}\n"),
     ("dotenv", "A=1\nB=2\nC=\x00\n")],
)
def test_nul_character_is_reported_with_its_line(tmp_path: Path, where: str, text: str) -> None:
    call: Any
    if where == "cfg":
        e: InputError = refused_cfg(tmp_path, text)
    else:
        name = {"manifest": "m.yaml", "json manifest": "m.json", "connections": "c.yaml", "dotenv": ".env"}[where]
        path = manifest(tmp_path, text, name=name)
        call = {"connections": Connections, "dotenv": parse_dotenv}.get(where)
        if call is None:
            e = refused(path)
        else:
            with pytest.raises(ConnectionConfigError) as info:
                call(path)
            e = info.value
    assert e.line == 3 and e.message == "NUL character at line 3"


# --- connections file keys ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("body", "line", "what"),
    [("  mysql:\n    ~: {host: db}\n", 3, "null key"), ("  1: {a: {host: db}}\n", 2, "number key"),
     ("  mysql:\n    a: {host: db, true: 1}\n", 3, "boolean key"),
     ("  mysql:\n    a: {host: db, null: 1}\n", 3, "null key"),
     ("  mysql:\n    a: &x {host: db}\n    *x : {host: db}\n", 4, "alias used as a mapping key")],
    ids=["tilde", "int", "bool", "null", "alias"],
)
def test_connections_file_with_bad_keys(tmp_path: Path, body: str, line: int, what: str) -> None:
    path = tmp_path / "osiris_connections.yaml"
    path.write_text("connections:\n" + body)
    with pytest.raises(ConnectionConfigError) as info:
        Connections(path)
    e = info.value
    assert e.file == str(path) and e.line == line and what in e.message and e.hint


# --- files that are not regular files ----------------------------------------------------------------

@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_as_manifest(tmp_path: Path) -> None:
    fifo = tmp_path / "manifest.yaml"
    os.mkfifo(fifo)  # reading it would block forever
    e = refused(fifo)
    assert "is a FIFO (named pipe), not a regular file" in e.message


def test_directory_as_manifest(tmp_path: Path) -> None:
    (tmp_path / "dir.yaml").mkdir()
    e = refused(tmp_path / "dir.yaml")
    assert "is a directory" in e.message


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_dev_zero_as_manifest(tmp_path: Path) -> None:
    link = tmp_path / "zero.yaml"
    link.symlink_to("/dev/zero")
    e = refused(link)
    assert "is a device, not a regular file" in e.message
    with pytest.raises(ManifestError, match="is a device"):
        load_pipeline("/dev/zero", drivers=DRIVERS)


def test_file_over_the_size_limit(tmp_path: Path) -> None:
    big = tmp_path / "manifest.yaml"
    with big.open("wb") as f:
        f.truncate(yamlio.MAX_FILE_BYTES + 1)  # sparse: nothing is written
    e = refused(big)
    assert "the limit is 64.0 MB" in e.message


def test_cfg_that_is_a_fifo(tmp_path: Path) -> None:
    path = manifest(tmp_path, COMPILED + "  - {id: a, driver: duckdb.processor}\n")
    (tmp_path / "cfg").mkdir()
    os.mkfifo(tmp_path / "cfg" / "a.json")
    with pytest.raises(ManifestError, match="cfg file is a FIFO") as info:
        load_pipeline(path, drivers=DRIVERS)
    assert info.value.step_id == "a"


# --- alias bomb --------------------------------------------------------------------------------------

def alias_bomb() -> str:
    """The classic 'billion laughs': nine levels of nine aliases, 9**9 strings once expanded."""
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for prev, cur in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{cur}: &{cur} [" + ", ".join([f"*{prev}"] * 9) + "]")
    lines += ["steps:", "  - id: a", "    driver: duckdb.processor", "    config: {query: *i}"]
    return "\n".join(lines) + "\n"


def test_alias_bomb_is_refused_before_it_is_built(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    counts = {"events": 0, "constructed": 0}
    get_event, construct = yamlio._Loader.get_event, yamlio._Loader.construct_object

    def counting_get_event(self: Any) -> Any:
        counts["events"] += 1
        return get_event(self)

    def counting_construct(self: Any, node: Any, deep: bool = False) -> Any:
        counts["constructed"] += 1
        return construct(self, node, deep)

    monkeypatch.setattr(yamlio._Loader, "get_event", counting_get_event)
    monkeypatch.setattr(yamlio._Loader, "construct_object", counting_construct)
    text = alias_bomb()
    assert len(text.encode()) < 600
    e = refused(manifest(tmp_path, text))
    assert "aliases expand to more than 100,000 nodes" in e.message and e.line is not None
    # Refused while scanning: a few dozen events read, nothing constructed, nothing expanded.
    assert counts["events"] < 100 and counts["constructed"] == 0


def test_alias_scan_counts_expanded_nodes() -> None:
    stats = yamlio.scan_yaml("a: &a [1, 2, 3]\nb: [*a, *a]\n")
    assert stats.alias_uses == 2 and stats.alias_nodes == 8 and stats.nodes == 1 + 2 + 4 + 1 + 8


def test_modest_anchors_and_merge_keys_still_work(tmp_path: Path) -> None:
    text = ("defaults: &d {delimiter: ';', header: true}\nsteps:\n"
            "  - id: w\n    driver: filesystem.csv_writer\n    config:\n      <<: *d\n      path: out.csv\n")
    assert load_pipeline(manifest(tmp_path, text), drivers=DRIVERS).step("w").config == {
        "delimiter": ";", "header": True, "path": "out.csv"}


# --- step ids ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("step_id", "problem"),
    [("x" * 256, "is 256 bytes long"), ("é" * 128, "is 256 bytes long"), ("a\x00b", "NUL"),
     ("a/b", "path separator"), ("a\\b", "path separator"), ("..", "names a directory"),
     (".", "names a directory"), ("/etc", "path separator"), ("../escape", "path separator")],
    ids=["256-bytes", "multibyte", "nul", "slash", "backslash", "dotdot", "dot", "absolute", "dotdot-slash"],
)
def test_step_id_that_cannot_be_a_directory_name(tmp_path: Path, step_id: str, problem: str) -> None:
    quoted = json.dumps(step_id, ensure_ascii=False).replace("\\u0000", "\\0")  # YAML spells NUL as \0
    text = f"steps:\n  - {{id: ok, driver: duckdb.processor}}\n  - id: {quoted}\n    driver: duckdb.processor\n"
    e = refused(manifest(tmp_path, text))
    assert e.message.startswith("steps[1] id") and problem in e.message and e.line == 3
    assert e.hint and "<run>/artifacts/<step_id>/" in e.hint
    assert len(e.message) < 200  # a long id is shortened, not echoed in full


def test_step_id_with_a_lone_surrogate(tmp_path: Path) -> None:
    # Only JSON can spell one (libyaml refuses the escape); JSON documents carry no line numbers.
    doc = {"steps": [{"id": "\ud800", "driver": "duckdb.processor"}]}
    e = refused(manifest(tmp_path, json.dumps(doc), name="manifest.json"))
    assert e.message == "steps[0] id '\ud800' contains a lone surrogate (not valid Unicode text)"
    assert "\\ud800" in e.render()  # escaped, so the message still prints


def test_cfg_path_with_a_lone_surrogate(tmp_path: Path) -> None:
    doc = {"pipeline": {}, "meta": {}, "steps": [{"id": "a", "driver": "duckdb.processor", "cfg_path": "\udc00"}]}
    e = refused(manifest(tmp_path, json.dumps(doc), name="manifest.json"))
    assert "lone surrogate" in e.message and e.step_id == "a" and e.key == "cfg_path"


def test_empty_step_id(tmp_path: Path) -> None:
    e = refused(manifest(tmp_path, 'steps:\n  - id: ""\n    driver: duckdb.processor\n'))
    assert "has no 'id'" in e.message and e.line == 2


@pytest.mark.parametrize("step_id", ["load.orders", "données 1", "x" * 255, "C:", "-a", "a..b", "123"])
def test_step_ids_osiris_allows_still_load(tmp_path: Path, step_id: str) -> None:
    doc = {"steps": [{"id": step_id, "driver": "duckdb.processor"}]}
    path = manifest(tmp_path, json.dumps(doc), name="manifest.json")
    assert load_pipeline(path, drivers=DRIVERS).step_ids == [step_id]


# --- parameters --------------------------------------------------------------------------------------

OML = """oml_version: "0.1.0"
name: p
params:
  min_year: {default: 2020}
  table: movies
steps:
  - id: q
    component: duckdb.processor
    mode: transform
    config: {query: "SELECT * FROM ${params.table} WHERE y >= ${params.min_year} ${params.extra}"}
"""


def test_param_default_holding_a_literal_secret(tmp_path: Path) -> None:
    text = OML.replace("  table: movies\n", "  table: movies\n  db_password: {default: hunter22}\n")
    e = refused(manifest(tmp_path, text))
    assert e.message == "Inline secret at params.db_password.default" and e.line == 6
    assert "hunter22" not in e.render() and e.hint and "${ENV}" in e.hint


def test_param_default_from_env_is_fine(tmp_path: Path) -> None:
    text = OML.replace("  table: movies\n", "  table: movies\n  db_password: {default: '${DB_PW}'}\n")
    assert load_pipeline(manifest(tmp_path, text), drivers=DRIVERS, env={}, params={"extra": ""})


def test_cli_param_holding_a_literal_secret(tmp_path: Path) -> None:
    text = OML.replace("${params.extra}", "${params.api_token}")
    e = refused(manifest(tmp_path, text), params={"api_token": "abcdef123"})
    assert "--param api_token looks like a secret" in e.message and "abcdef123" not in e.render()
    assert e.hint and "${ENV}" in e.hint and "OSIRIS_PARAM_API_TOKEN" in e.hint


def test_unknown_cli_param_lists_the_declared_ones(tmp_path: Path) -> None:
    e = refused(manifest(tmp_path, OML), params={"min_yr": "2021"})
    assert e.message == "--param min_yr: no such parameter; declared params: min_year, table"
    assert e.hint == "did you mean 'min_year'?"


def test_cli_param_used_in_the_document_but_not_declared_is_accepted(tmp_path: Path) -> None:
    p = load_pipeline(manifest(tmp_path, OML), drivers=DRIVERS, env={}, params={"extra": "LIMIT 1"})
    assert p.step("q").config["query"].endswith("y >= 2020 LIMIT 1")


@pytest.mark.parametrize("kind", ["seed", "compiled"])
def test_cli_param_for_a_format_without_params(tmp_path: Path, kind: str) -> None:
    if kind == "seed":
        path = manifest(tmp_path, STEP + "      query: select 1\n")
    else:
        path = compiled_with_cfg(tmp_path, '{"query": "select 1"}')
    e = refused(path, params={"year": "2020"})
    assert e.message.startswith(f"--param year: {kind} manifests have no params") and e.hint


# --- end to end through the CLI ----------------------------------------------------------------------

@pytest.mark.parametrize(
    "case", ["secret-tag", "alias-bomb", "bad-date", "cycle", "unknown-param", "dev-zero", "bad-connections"],
)
def test_cli_reports_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str) -> None:
    args: list[str] = []
    if case == "secret-tag":
        path = config_line(tmp_path, "password: !s3cret")
    elif case == "alias-bomb":
        path = manifest(tmp_path, alias_bomb())
    elif case == "bad-date":
        path = config_line(tmp_path, "start: 2024-02-30")
    elif case == "cycle":
        path = manifest(tmp_path, "steps:\n" + "".join(
            f"  - {{id: s{i}, driver: duckdb.processor, needs: [s{(i + 1) % 1500}]}}\n" for i in range(1500)))
    elif case == "unknown-param":
        path, args = manifest(tmp_path, OML), ["--param", "nope=1"]
    elif case == "dev-zero":
        path = Path("/dev/zero")
    else:
        path = manifest(tmp_path, STEP + "      query: select 1\n")
        conns = tmp_path / "osiris_connections.yaml"
        conns.write_text("connections:\n  duckdb:\n    ~: {path: x}\n")
        args = ["--connections", str(conns)]
    assert main(["run", str(path), *args, "--run-dir", str(tmp_path / "run")]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip("\n").split("\n")
    assert len(lines) == 1 and lines[0].startswith("osiris-tui: error: ")
    assert "Traceback" not in captured.err + captured.out and "s3cret" not in captured.err


@pytest.mark.parametrize(
    ("args", "expected"),
    [(["--param", " =hunter22"], "empty name before '='"), (["--param", "table=a", "--param", "table=b"], "twice"),
     (["--param", "api_token=abcdef123"], "looks like a secret"), (["--param", "tabel=x"], "no such parameter")],
    ids=["empty-name", "twice", "secret", "unknown"],
)
def test_cli_param_validation(tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str],
                              expected: str) -> None:
    path = manifest(tmp_path, OML.replace("${params.extra}", "${params.api_token}"))
    assert main(["run", str(path), *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and expected in err and "hunter22" not in err and "abcdef123" not in err


def test_cli_subprocess_has_no_traceback(tmp_path: Path) -> None:
    import subprocess

    path = config_line(tmp_path, "n: !!int abc")
    result = subprocess.run([sys.executable, "-m", "osiris_tui", "run", str(path)], capture_output=True,
                            text=True, timeout=60, cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1 and f"{path}:5:" in result.stderr


def test_fixture_copies_still_load(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "compiled", tmp_path / "compiled")
    assert load_pipeline(tmp_path / "compiled" / "manifest.yaml", drivers=DRIVERS).steps
    write(tmp_path, "seed.yaml", (FIXTURES / "seed.yaml").read_text())
    assert load_pipeline(tmp_path / "seed.yaml", drivers=DRIVERS).steps
