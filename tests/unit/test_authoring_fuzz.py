"""Any text value can be written into any style of YAML scalar and JSON string: the file then reads as
before with only that value changed, and the text before the value is untouched."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from osiris_tui.authoring.json_value import replace_value
from osiris_tui.authoring.yaml_value import find_scalar, replace_scalar

F = Path("f.yaml")
VALUES = st.text(st.characters(exclude_categories=("Cs",)), max_size=40) | st.sampled_from(
    ["", " ", "\n", "a\n", "a\n\n", " x\n y", "#", "- a", "a: b", "'", '"', "\t", "null", "1", "x\r\ny"])
DOCS = [
    "# head\nsteps:\n  - id: s\n    config:\n      query: SELECT 1  # c\n      other: 2\n",
    "steps:\n  - config:\n      query: 'it''s'\n# tail\n",
    'steps:\n  - config: {query: "x", b: [1, 2]}  # flow\n',
    "steps:\n  - config:\n      query: |\n        SELECT 1\n        FROM t\n\n      z: 1\n",
    "steps:\n  - config:\n      query: >-\n        folded\n        more\n",
    "steps:\r\n  - config:\r\n      query: |+\r\n        keep\r\n\r\n      z: 1\r\n",
]
PATH = ("steps", 0, "config", "query")


@settings(max_examples=150, deadline=None)
@given(doc=st.sampled_from(DOCS), value=VALUES)
def test_yaml_any_value_any_style(doc: str, value: str) -> None:
    site = find_scalar(doc, PATH, file=F)
    start, rest = site.start, doc[doc.index("\n", site.end):]
    new = replace_scalar(doc, PATH, value, file=F)
    expected = yaml.safe_load(doc)
    expected["steps"][0]["config"]["query"] = value
    assert yaml.safe_load(new) == expected
    assert new[:start] == doc[:start] and new.endswith(rest)


@settings(max_examples=150, deadline=None)
@given(value=VALUES, indent=st.sampled_from([None, 2, "\t"]), crlf=st.booleans())
def test_json_any_value(value: str, indent: int | str | None, crlf: bool) -> None:
    doc = json.dumps({"a": "é", "query": "old", "z": [1, {"query": "keep"}]}, indent=indent, ensure_ascii=False)
    if crlf:
        doc = doc.replace("\n", "\r\n")
    new = replace_value(doc, ("query",), value, file=F)
    assert json.loads(new) == {"a": "é", "query": value, "z": [1, {"query": "keep"}]}
    at = doc.index('"old"')
    assert new[:at] == doc[:at] and new.endswith(doc[at + len('"old"'):])
