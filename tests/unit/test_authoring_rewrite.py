"""Rewriting one value in JSON and YAML files: only that value's text changes, or the edit is refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from osiris_tui.authoring.errors import EditRefused
from osiris_tui.authoring.json_value import replace_value, value_span
from osiris_tui.authoring.yaml_value import double_quoted, replace_scalar

F = Path("x.yaml")


def test_json_compact_changes_only_the_token() -> None:
    text = '{"component":"duckdb.processor","mode":"transform","query":"SELECT 1"}'
    new = replace_value(text, ("query",), 'SELECT "a"\nFROM t', file=F)
    assert new == '{"component":"duckdb.processor","mode":"transform","query":"SELECT \\"a\\"\\nFROM t"}'


def test_json_indented_crlf_tabs_keep_layout() -> None:
    text = '{\r\n\t"b": 2,\r\n\t"query" :  "old",\r\n\t"a": [1, {"query": "inner"}]\r\n}\r\n'
    new = replace_value(text, ("query",), "new\tone", file=F)
    assert new == text.replace('"old"', '"new\\tone"')
    assert json.loads(new)["a"][1]["query"] == "inner"


def test_json_unicode_follows_the_file() -> None:
    raw = '{"query": "SELECT \'é\'"}'
    assert replace_value(raw, ("query",), "SELECT 'ü'", file=F) == '{"query": "SELECT \'ü\'"}'
    escaped = '{"query": "SELECT \'\\u00e9\'"}'
    assert replace_value(escaped, ("query",), "SELECT 'ü'", file=F) == '{"query": "SELECT \'\\u00fc\'"}'


def test_json_nested_path_and_key_line() -> None:
    text = '{\n  "a": 1,\n  "opts": {\n    "sql": "x"\n  }\n}'
    assert value_span(text, ("opts", "sql"), file=F).key_line == 4
    assert json.loads(replace_value(text, ("opts", "sql"), "y", file=F)) == {"a": 1, "opts": {"sql": "y"}}


def test_json_refuses_duplicates_missing_and_malformed() -> None:
    with pytest.raises(EditRefused, match="more than once"):
        replace_value('{"query": "a", "query": "b"}', ("query",), "c", file=F)
    with pytest.raises(EditRefused, match="no key 'query'"):
        replace_value('{"sql": "a"}', ("query",), "c", file=F)
    with pytest.raises(EditRefused, match="cannot be read"):
        replace_value('{"query": "a"', ("query",), "c", file=F)


OML = """\
# pipeline
oml_version: "0.1.0"   # version
name: p
steps:
  - id: load
    config:
      path: a.csv  # the input
  - id: q
    config:
      query: |  # the query
        SELECT 1
        FROM x

      # after the query
      other: 1
"""


def _check(old: str, new: str, path: tuple, value: str) -> None:
    before, after = yaml.safe_load(old), yaml.safe_load(new)
    node = before
    for p in path[:-1]:
        node = node[p]
    node[path[-1]] = value
    assert after == before


def test_yaml_block_to_block_keeps_comments_and_layout() -> None:
    path = ("steps", 1, "config", "query")
    new = replace_scalar(OML, path, "SELECT 2\nFROM y\nWHERE 'é' = \"é\"\n", file=F)
    assert new == OML.replace("        SELECT 1\n        FROM x\n",
                              "        SELECT 2\n        FROM y\n        WHERE 'é' = \"é\"\n")
    _check(OML, new, path, "SELECT 2\nFROM y\nWHERE 'é' = \"é\"\n")


def test_yaml_block_without_trailing_newline_gets_strip_chomping() -> None:
    path = ("steps", 1, "config", "query")
    new = replace_scalar(OML, path, "SELECT 3", file=F)
    _check(OML, new, path, "SELECT 3")
    assert "# the query" in new and "# after the query" in new


def test_yaml_plain_to_block_moves_the_comment_to_the_header() -> None:
    path = ("steps", 0, "config", "path")
    new = replace_scalar(OML, path, "line one\nline two\n", file=F)
    assert "      path: |  # the input\n        line one\n        line two\n  - id: q" in new
    _check(OML, new, path, "line one\nline two\n")


def test_yaml_plain_stays_plain_and_quotes_when_needed() -> None:
    path = ("steps", 0, "config", "path")
    assert replace_scalar(OML, path, "b.csv", file=F) == OML.replace("path: a.csv", "path: b.csv")
    for tricky in ("true", "123", "a: b", "#x", "it's", "x #y", " lead", "null", "2024-01-01"):
        new = replace_scalar(OML, path, tricky, file=F)
        _check(OML, new, path, tricky)
        assert "# the input" in new


def test_yaml_quoted_styles_are_kept() -> None:
    text = "a: 'it''s'  # c\nb: \"x\"\n"
    new = replace_scalar(text, ("a",), "don't", file=F)
    assert new == "a: 'don''t'  # c\nb: \"x\"\n"
    assert replace_scalar(text, ("b",), 'say "hi"', file=F) == "a: 'it''s'  # c\nb: \"say \\\"hi\\\"\"\n"


def test_yaml_flow_mapping_gets_double_quotes() -> None:
    text = "steps:\n  - {id: q, config: {query: SELECT 1, other: 2}}  # flow\n"
    path = ("steps", 0, "config", "query")
    new = replace_scalar(text, path, "SELECT 1\nFROM t", file=F)
    assert new == 'steps:\n  - {id: q, config: {query: "SELECT 1\\nFROM t", other: 2}}  # flow\n'


def test_yaml_crlf_file_stays_crlf() -> None:
    text = OML.replace("\n", "\r\n")
    path = ("steps", 1, "config", "query")
    new = replace_scalar(text, path, "SELECT 9\nFROM z\n", file=F)
    assert "\n" not in new.replace("\r\n", "")
    assert new == text.replace("SELECT 1\r\n        FROM x", "SELECT 9\r\n        FROM z")


def test_yaml_tabs_unicode_and_control_characters() -> None:
    path = ("steps", 1, "config", "query")
    for value in ("SELECT\t1\nFROM t\n", "SELECT '日本'\n", "SELECT 1\u2028\n", "a\x07b", "  indented\nx\n",
                  "\nleading blank\n", "x\n\n\n"):
        new = replace_scalar(OML, path, value, file=F)
        _check(OML, new, path, value)
        assert new.startswith("# pipeline\noml_version: \"0.1.0\"   # version\n")
        assert new.endswith("      # after the query\n      other: 1\n")


def test_yaml_anchor_alias_merge_and_tag_are_refused() -> None:
    shared = "base: &b\n  query: SELECT 1\nsteps:\n  - config: *b\n"
    with pytest.raises(EditRefused, match="anchor"):
        replace_scalar(shared, ("steps", 0, "config", "query"), "x", file=F)
    with pytest.raises(EditRefused, match="anchor"):
        replace_scalar(shared, ("base", "query"), "x", file=F)
    scalar = "a: &q SELECT 1\nb: *q\n"
    with pytest.raises(EditRefused, match="anchor or alias"):
        replace_scalar(scalar, ("a",), "x", file=F)
    merged = "base: &b {query: x}\nstep:\n  <<: *b\n  other: 1\n"
    with pytest.raises(EditRefused, match="merge key"):
        replace_scalar(merged, ("step", "query"), "y", file=F)
    with pytest.raises(EditRefused, match="tag"):
        replace_scalar("a: !!str 12\n", ("a",), "13", file=F)
    with pytest.raises(EditRefused, match="not a single value"):
        replace_scalar("a: {b: 1}\n", ("a",), "13", file=F)


def test_double_quoted_round_trips() -> None:
    for value in ('a"b\\c', "\x00\x1b\x7f\x85\u2028\ufeff", "tab\tnl\ncr\r", "日本"):
        assert yaml.safe_load("v: " + double_quoted(value)) == {"v": value}


def test_json_braces_and_escapes_inside_other_strings() -> None:
    text = '{"a": "{[\\"}", "b": ["]", {"c": "}"}], "query": "x\\/y \\u00e9"}'
    new = replace_value(text, ("query",), "SELECT '}'", file=F)
    assert new == text.replace('"x\\/y \\u00e9"', '"SELECT \'}\'"')


def test_yaml_quoted_key_multiline_plain_and_document_markers() -> None:
    text = '---\n"query": SELECT a,\n  b FROM t   # two lines\nnext: 1\n...\n'
    new = replace_scalar(text, ("query",), "SELECT c", file=F)
    assert new == '---\n"query": SELECT c   # two lines\nnext: 1\n...\n'


def test_yaml_value_with_colons_hashes_and_quotes() -> None:
    text = "a:\n  b: x   # note\n  c: 2\n"
    for value in ("k: v # not a comment", "'quoted'", '"dq"', "- dash", "{flow}", "*star", "&amp", "%pct",
                  "@at", "`tick", "trailing:", "a\\b"):
        new = replace_scalar(text, ("a", "b"), value, file=F)
        _check(text, new, ("a", "b"), value)
        assert new.endswith("   # note\n  c: 2\n")


def test_yaml_comment_lines_around_a_block_stay() -> None:
    text = "q:\n  # before\n  query: >-\n    folded\n    text\n  # after\nz: 1\n"
    new = replace_scalar(text, ("q", "query"), "line 1\nline 2", file=F)
    assert new == "q:\n  # before\n  query: |-\n    line 1\n    line 2\n  # after\nz: 1\n"


def test_yaml_flow_sequence_item_and_deeper_indent_block() -> None:
    text = "steps: [{id: a, config: {sql: x}}]\nother:\n      query: |\n            deep\n"
    new = replace_scalar(text, ("steps", 0, "config", "sql"), "a, b", file=F)
    assert new.startswith('steps: [{id: a, config: {sql: "a, b"}}]\n')
    deep = replace_scalar(text, ("other", "query"), "one\ntwo\n", file=F)
    assert deep.endswith("      query: |\n            one\n            two\n")


def test_yaml_not_a_string_path_errors() -> None:
    with pytest.raises(EditRefused, match="no key 'query'"):
        replace_scalar("a: 1\n", ("query",), "x", file=F)
    with pytest.raises(EditRefused, match="no item 3"):
        replace_scalar("steps: [a]\n", ("steps", 3), "x", file=F)
    with pytest.raises(EditRefused, match="cannot be read"):
        replace_scalar("a: [1\n", ("a",), "x", file=F)
    with pytest.raises(EditRefused, match="lone surrogate"):
        replace_scalar("a: b\n", ("a",), "\ud800", file=F)


def test_yaml_alias_bomb_is_refused_before_it_is_expanded() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    bomb = "\n".join(lines) + "\nq: SELECT 1\n"
    with pytest.raises(EditRefused, match="alias"):
        replace_scalar(bomb, ("q",), "x", file=F)
