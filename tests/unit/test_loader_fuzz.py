"""Fuzzing the loaders: whatever the bytes, only an InputError (one line) may come out.

Fixed seed (`derandomize=True`) and bounded example counts: about 5,000 cases in all, the same ones on every
run. Inputs are generated documents (YAML and JSON), manifest-shaped documents, free text, raw bytes and
mutations of the real sample manifests, cfg files and connection files.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from osiris_tui.errors import InputError
from osiris_tui.manifest import load_pipeline
from osiris_tui.runtime.connections import Connections, parse_dotenv
from tests.unit.manifest_helpers import DRIVERS, FIXTURES

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_manifests"


def fuzz(examples: int) -> Callable[[Any], Any]:
    return settings(
        max_examples=examples, derandomize=True, database=None, deadline=None, print_blob=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                               HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )


def only_input_errors(call: Callable[[], Any]) -> None:
    """Run `call`; an InputError is fine (and must render as one line), anything else fails the test."""
    try:
        call()
    except InputError as exc:
        text = exc.render()
        assert isinstance(text, str) and "\n" not in text and "\r" not in text


def load(path: Path, params: dict[str, str] | None = None) -> None:
    only_input_errors(lambda: load_pipeline(path, drivers=DRIVERS, env={}, params=params))


# --- vocabulary ----------------------------------------------------------------------------------------

KEYS = ["steps", "id", "driver", "component", "mode", "config", "needs", "cfg_path", "inputs", "uses", "with",
        "oml_version", "name", "params", "default", "pipeline", "meta", "connection", "password", "query",
        "path", "df", "version", "<<", "primary_key", "write_mode", "connections", "mysql", "duckdb", "host"]
TRICKY = ["${params.x}", "${params.min_amount}", "${extract.df}", "${a}", "@mysql.a", "@duckdb", "../x.json",
          "/etc/passwd", "cfg/a.json", "2024-02-30", "!s3cret", "${X:-y}", "a/b", "..", ".", "", " ", "~",
          "read", "write", "transform", "extract", "0.1.0", "replace", "upsert", "a" * 300, "hunter2222",
          "\x00", "\ud800", "é", "\t", "\n", "a: b", "- x", "*a", "&a", "[", "{"]
TOKENS = ["&a ", "*a", "*b", " &b", "!!int ", "!!seq ", "!!map ", "!!str ", "!!bool ", "!!timestamp ", "!foo ",
          "!!binary ", "!!set ", "<<: *a\n", "[", "]", "{", "}", ": ", "- ", "\t", "\x00", "~", "'", '"', "? ",
          "2024-02-30", "9" * 4400, "0x" + "f" * 4000, "1e999", "${params.min_amount}", "${params.nope}",
          "../", "/", "\\", "..", "needs: [", "cfg_path: ", "id: ", "oml_version: ", "\ud800", "\xff", "\n",
          "\n  ", "---\n", "...\n", "%YAML 1.1\n", "#", "|\n", ">-\n", "password: !x\n", "null", "[" * 150]

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**30), 10**30), st.floats(allow_nan=True), st.sampled_from(TRICKY),
    st.text(max_size=12), st.sampled_from(DRIVERS),
)
keys = st.one_of(st.sampled_from(KEYS), st.text(max_size=6), st.integers(-3, 3), st.booleans(), st.none())
documents = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=5), max_leaves=25,
)
step_ids = st.sampled_from(["a", "b", "c", "load-orders", "x/y", "..", "", "a" * 260, "b.c"])
steps = st.fixed_dictionaries(
    {"id": st.one_of(step_ids, scalars)},
    optional={
        "driver": st.one_of(st.sampled_from(DRIVERS), scalars),
        "component": st.one_of(st.sampled_from(DRIVERS), scalars),
        "mode": st.sampled_from(["read", "write", "transform", "extract", "bogus"]),
        "config": st.one_of(st.dictionaries(st.sampled_from(KEYS), scalars, max_size=5), scalars),
        "needs": st.one_of(st.lists(step_ids, max_size=3), scalars),
        "inputs": st.one_of(st.dictionaries(st.sampled_from(["df", "x"]),
                                            st.sampled_from(["${a.df}", "${b}", "${zz.df}", "a"]), max_size=2),
                            scalars),
        "cfg_path": st.one_of(st.sampled_from(["cfg/a.json", "../a.json", "/abs.json", "cfg/" + "x" * 300]),
                              scalars),
    },
)
headers = st.sampled_from([
    {}, {"oml_version": "0.1.0", "name": "p"}, {"pipeline": {"id": "p"}, "meta": {}},
    {"oml_version": "0.1.0", "name": "p", "params": {"x": {"default": 1}, "token": {"default": "literal-token"}}},
])
manifests = st.builds(lambda head, s: {**head, "steps": s}, headers, st.lists(steps, max_size=5))


def dump(doc: Any, as_json: bool, flow: bool) -> str:
    if as_json:
        return json.dumps(doc, default=str)
    return yaml.safe_dump(doc, default_flow_style=flow, allow_unicode=True)


def write_text(path: Path, text: str) -> Path:
    path.write_bytes(text.encode("utf-8", "surrogatepass"))  # lone surrogates become invalid UTF-8
    return path


# --- generated documents -------------------------------------------------------------------------------

@fuzz(1200)
@given(doc=documents, as_json=st.booleans(), flow=st.booleans())
def test_fuzz_generated_documents(tmp_path: Path, doc: Any, as_json: bool, flow: bool) -> None:
    load(write_text(tmp_path / ("m.json" if as_json else "m.yaml"), dump(doc, as_json, flow)))


@fuzz(1000)
@given(doc=manifests, as_json=st.booleans(), flow=st.booleans(),
       params=st.none() | st.dictionaries(st.sampled_from(["x", "token", "nope"]), st.sampled_from(["1", "abcdef"]),
                                          max_size=2))
def test_fuzz_manifest_shaped_documents(
    tmp_path: Path, doc: Any, as_json: bool, flow: bool, params: dict[str, str] | None
) -> None:
    (tmp_path / "cfg").mkdir(exist_ok=True)
    (tmp_path / "cfg" / "a.json").write_text('{"query": "select 1"}')
    load(write_text(tmp_path / ("m.json" if as_json else "m.yaml"), dump(doc, as_json, flow)), params)


YAML_CHARS = st.sampled_from([*"abcxyz019 :-[]{},&*!|>'\"#%@`?~<=\n\t\\.$/", "\x00", "\x85", "é", "\ufeff"])


@fuzz(700)
@given(text=st.one_of(st.text(YAML_CHARS, max_size=80), st.text(max_size=40)), as_json=st.booleans())
def test_fuzz_text(tmp_path: Path, text: str, as_json: bool) -> None:
    load(write_text(tmp_path / ("m.json" if as_json else "m.yaml"), text))


@fuzz(300)
@given(data=st.binary(max_size=200), as_json=st.booleans())
def test_fuzz_bytes(tmp_path: Path, data: bytes, as_json: bool) -> None:
    path = tmp_path / ("m.json" if as_json else "m.yaml")
    path.write_bytes(data)
    load(path)


# --- mutated real files --------------------------------------------------------------------------------

def _samples() -> list[tuple[Path, str]]:
    """(directory to copy, manifest name inside it) for every sample and fixture manifest."""
    found = [(p.parent, p.name) for p in sorted(SAMPLES.glob("*/*.yaml")) if p.name != "osiris_connections.yaml"]
    found += [(FIXTURES, "seed.yaml"), (FIXTURES, "movies.oml.yaml"), (FIXTURES / "compiled", "manifest.yaml")]
    return found


SAMPLE_FILES = _samples()
CONNECTION_FILES = sorted(SAMPLES.glob("*/osiris_connections.yaml"))

mutation = st.one_of(
    st.tuples(st.just("insert"), st.integers(0, 10**6), st.sampled_from(TOKENS)),
    st.tuples(st.just("delete"), st.integers(0, 10**6), st.integers(1, 40)),
    st.tuples(st.just("dupline"), st.integers(0, 10**6), st.just("")),
    st.tuples(st.just("dropline"), st.integers(0, 10**6), st.just("")),
    st.tuples(st.just("swap"), st.integers(0, 10**6), st.just("")),
    st.tuples(st.just("char"), st.integers(0, 10**6), st.characters()),
    st.tuples(st.just("truncate"), st.integers(0, 10**6), st.just("")),
)


def mutate(text: str, ops: list[tuple[str, int, Any]]) -> str:
    for op, where, arg in ops:
        lines = text.split("\n")
        line = where % max(len(lines), 1)
        pos = where % (len(text) + 1)
        if op == "insert":
            text = text[:pos] + arg + text[pos:]
        elif op == "delete":
            text = text[:pos] + text[pos + arg:]
        elif op == "char":
            text = text[:pos] + arg + text[pos + 1:]
        elif op == "truncate":
            text = text[:pos]
        elif op == "dupline":
            text = "\n".join([*lines[: line + 1], *lines[line:]])
        elif op == "dropline":
            text = "\n".join(lines[:line] + lines[line + 1:])
        elif op == "swap" and line + 1 < len(lines):
            lines[line], lines[line + 1] = lines[line + 1], lines[line]
            text = "\n".join(lines)
    return text


@pytest.fixture
def sample_copies(tmp_path: Path) -> list[Path]:
    """Each sample's directory copied once (with cfg/), so mutated manifests still find their files."""
    out = []
    for i, (directory, name) in enumerate(SAMPLE_FILES):
        target = tmp_path / f"s{i}"
        shutil.copytree(directory, target, ignore=shutil.ignore_patterns("data", "out", "*.csv"))
        out.append(target / name)
    return out


@fuzz(1300)
@given(which=st.integers(0, len(SAMPLE_FILES) - 1), ops=st.lists(mutation, min_size=1, max_size=4),
       in_cfg=st.booleans(), params=st.sampled_from([None, {"min_amount": "10"}, {"status": "x", "zz": "1"}]))
def test_fuzz_mutated_samples(
    sample_copies: list[Path], which: int, ops: list[tuple[str, int, Any]], in_cfg: bool,
    params: dict[str, str] | None,
) -> None:
    path = sample_copies[which]
    original = SAMPLE_FILES[which][0] / SAMPLE_FILES[which][1]
    cfgs = sorted((original.parent / "cfg").glob("*.json"))
    if in_cfg and cfgs:
        cfg = cfgs[ops[0][1] % len(cfgs)]
        target = path.parent / "cfg" / cfg.name
        try:
            write_text(target, mutate(cfg.read_text(), ops))
            load(path)
        finally:
            shutil.copy(cfg, target)
        return
    mutated = path.with_name("mutated-" + path.name)
    write_text(mutated, mutate(original.read_text(), ops))
    load(mutated, params)


@fuzz(500)
@given(which=st.integers(0, len(CONNECTION_FILES) - 1), ops=st.lists(mutation, min_size=1, max_size=4),
       dotenv=st.booleans())
def test_fuzz_mutated_connection_files(
    tmp_path: Path, which: int, ops: list[tuple[str, int, Any]], dotenv: bool
) -> None:
    original = CONNECTION_FILES[which].read_text()
    if dotenv:
        path = write_text(tmp_path / ".env", mutate("A=1\nexport B='two'\n# c\nC=\"x y\" # z\n", ops))
        only_input_errors(lambda: parse_dotenv(path))
        return
    path = write_text(tmp_path / "osiris_connections.yaml", mutate(original, ops))

    def resolve_all() -> None:
        conns = Connections(path, env={"SHOP_DB_PW": "pw"})
        for family in conns.data:
            for alias in conns.aliases(family):
                only_input_errors(lambda f=family, a=alias: conns.resolve_reference(f"@{f}.{a}", f))
            only_input_errors(lambda f=family: conns.resolve_reference(None, f))

    only_input_errors(resolve_all)
