"""Find the text of one scalar in a YAML document and replace only that text.

The document is composed (not loaded) with PyYAML's pure-Python reader, whose marks are character offsets,
so the scalar's exact span is known. Only that span changes: comments, key order, quoting and layout around
it stay byte for byte. The new text is chosen to fit where it goes — plain or quoted as before when the value
allows, a literal block (`|`) for a multi-line value, double quotes inside a flow mapping — and the result
is parsed again: if anything but that value would read differently, nothing is written. A value reached
through an anchor, an alias or a merge key (`<<`), or that carries a tag, is refused: rewriting it would
change other places too, or what the tag means.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from osiris_tui.authoring.errors import EditRefused
from osiris_tui.authoring.json_value import PathKey, with_value
from osiris_tui.errors import InputError
from osiris_tui.manifest.yamlio import parse_yaml

_BLOCK_HEADER = re.compile(r"[|>][-+0-9]*(?P<gap>[ \t]+)?(?P<comment>#.*)?$")
_PLAIN_START = set("-?:,[]{}#&*!|>'\"%@`")
# Characters YAML cannot hold literally (or reads as line breaks): written as escapes in double quotes.
_UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff\ud800-\udfff\ufffe\uffff]")


@dataclass(frozen=True)
class Scalar:
    """A scalar's place: `start`/`end` character offsets, style, and what surrounds it."""

    start: int
    end: int
    style: str | None  # None (plain), "'", '"', "|", ">"
    value: str
    key_line: int  # 1-based line of its key (or the item)
    key_column: int  # 0-based column of its key
    in_flow: bool


def _load(text: str, file: Path) -> Any:
    """The document as the manifest loader reads it (its limits on size, depth and aliases applied)."""
    try:
        return parse_yaml(text, file)
    except InputError as exc:
        raise EditRefused(f"the YAML cannot be read: {exc.message}", file=file, line=exc.line,
                          hint="fix the file first") from None


def _compose(text: str, file: Path) -> yaml.Node:
    _load(text, file)  # refuses what the loader refuses (alias bombs, bad tags) before composing
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        raise EditRefused("the YAML cannot be read", file=file, hint="fix the file's syntax first") from None
    if node is None:
        raise EditRefused("the YAML document is empty", file=file)
    return node


def _uses(root: yaml.Node) -> dict[int, int]:
    """How many times each node is reached (more than once: it is shared through an alias)."""
    seen: dict[int, int] = {}
    todo = [root]
    while todo:
        node = todo.pop()
        seen[id(node)] = seen.get(id(node), 0) + 1
        if seen[id(node)] > 1:
            continue
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                todo.extend((k, v))
        elif isinstance(node, yaml.SequenceNode):
            todo.extend(node.value)
    return seen


def _line(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def find_scalar(text: str, path: Sequence[PathKey], *, file: Path) -> Scalar:
    """The scalar at `path`; EditRefused when it is missing, not a scalar, or not safe to rewrite."""
    root = _compose(text, file)
    uses = _uses(root)
    where = ".".join(str(p) for p in path)
    node, in_flow = root, False
    key_line, key_column = 1, 0
    for step in path:
        if uses.get(id(node), 0) > 1:
            raise EditRefused(f"{where} is inside a YAML anchor used elsewhere (an alias *name)", file=file,
                              line=node.start_mark.line + 1,
                              hint="editing it would change every place the alias is used; edit it in the file")
        in_flow = in_flow or bool(getattr(node, "flow_style", False))
        if isinstance(step, int):
            if not isinstance(node, yaml.SequenceNode) or not 0 <= step < len(node.value):
                raise EditRefused(f"no item {step} at {where}", file=file)
            node = node.value[step]
            key_line, key_column = node.start_mark.line + 1, node.start_mark.column
            continue
        if not isinstance(node, yaml.MappingNode):
            raise EditRefused(f"{where}: not a mapping", file=file, line=node.start_mark.line + 1)
        found = [(k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == step]
        if not found:
            merged = any(isinstance(k, yaml.ScalarNode) and k.tag.endswith(":merge") for k, _ in node.value)
            raise EditRefused(
                f"no key '{step}' at {where}" + (" (it may come from a merge key <<)" if merged else ""),
                file=file, line=node.start_mark.line + 1,
                hint="write the key out in the file (a merged value is shared)" if merged
                else f"add '{step}' to the file, or edit it with the external editor")
        key, node = found[-1]
        key_line, key_column = key.start_mark.line + 1, key.start_mark.column
    if not isinstance(node, yaml.ScalarNode):
        raise EditRefused(f"{where} is not a single value", file=file, line=key_line,
                          hint="only text values can be edited in place")
    if uses.get(id(node), 0) > 1 or text[node.start_mark.index:node.start_mark.index + 1] in ("&", "*"):
        raise EditRefused(f"{where} is a YAML anchor or alias (&name / *name)", file=file, line=key_line,
                          hint="editing it would change every place the anchor is used; edit it in the file")
    if text[node.start_mark.index:node.start_mark.index + 1] == "!":
        raise EditRefused(f"{where} carries a YAML tag (!…)", file=file, line=key_line,
                          hint="remove the tag or edit the value in the file")
    start, end = node.start_mark.index, node.end_mark.index
    style = node.style
    if style in ("|", ">"):
        end = _block_end(text, start, end)
    return Scalar(start, end, style, node.value, key_line, key_column, in_flow)


def _header(text: str, start: int) -> str:
    stop = text.find("\n", start)
    return (text[start:] if stop < 0 else text[start:stop]).rstrip("\r")


def _block_end(text: str, start: int, end: int) -> int:
    """The end of a block scalar's last content line (before its line break), so trailing blank lines stay
    where they are."""
    last = start + len(_header(text, start))
    offset = start
    for line in text[start:end].split("\n"):
        if offset > start and line.strip():
            last = offset + len(line.rstrip("\r"))
        offset += len(line) + 1
    return last


def _newline(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


def double_quoted(value: str) -> str:
    """`value` as a YAML double-quoted scalar on one line."""
    out = []
    for ch in value:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif _UNPRINTABLE.match(ch):
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _plain_ok(value: str) -> bool:
    if not value or value != value.strip() or "\n" in value or "\r" in value or _UNPRINTABLE.search(value):
        return False
    if value[0] in _PLAIN_START or ": " in value or " #" in value or value.endswith(":") or "\t" in value:
        return False
    try:
        return yaml.safe_load(value) == value
    except yaml.YAMLError:
        return False


def _single_ok(value: str) -> bool:
    return "\n" not in value and "\r" not in value and not _UNPRINTABLE.search(value)


def _block_ok(value: str) -> bool:
    return "\n" in value and "\r" not in value and not _UNPRINTABLE.search(value) and value.strip() != ""


def _block(value: str, indent: int, parent: int, nl: str, comment: str) -> str:
    body = value[:-1] if value.endswith("\n") else value
    chomp = "+" if value.endswith("\n\n") else ("" if value.endswith("\n") else "-")
    # A first line that starts with a space (or is empty) would mislead the indentation detection.
    indicator = str(indent - parent) if value[:1] in (" ", "\n") and 0 < indent - parent < 10 else ""
    pad = " " * indent
    header = "|" + indicator + chomp + (f"  {comment}" if comment else "")
    return header + "".join(nl + (pad + line if line else "") for line in body.split("\n"))


def _candidates(text: str, site: Scalar, value: str) -> Iterator[tuple[str, int]]:
    """(replacement, end of the replaced text) for each way to write `value` there, best first."""
    nl = _newline(text)
    line_end = text.find("\n", site.end)
    line_end = len(text) if line_end < 0 else line_end
    if text[line_end - 1:line_end] == "\r":
        line_end -= 1
    rest = text[site.end:line_end]
    comment = rest.strip() if rest.strip().startswith("#") else ""
    if site.style in ("|", ">"):
        m = _BLOCK_HEADER.match(_header(text, site.start))
        comment = (m.group("comment") or "") if m else ""
    if not site.in_flow and _block_ok(value):
        indent = site.key_column + 2
        if site.style in ("|", ">"):
            first = text[site.start + len(_header(text, site.start)):site.end].lstrip("\r\n")
            indent = max(indent, len(first) - len(first.lstrip(" ")))
        moved = site.style not in ("|", ">") and bool(comment)  # the line's comment moves to the header
        yield _block(value, indent, site.key_column, nl, comment), line_end if moved else site.end
    block_comment = f"  {comment}" if site.style in ("|", ">") and comment else ""
    if site.style in (None, "|", ">") and _plain_ok(value) and not site.in_flow:
        yield value + block_comment, site.end
    if site.style == "'" and _single_ok(value):
        yield "'" + value.replace("'", "''") + "'" + block_comment, site.end
    yield double_quoted(value) + block_comment, site.end


def replace_scalar(text: str, path: Sequence[PathKey], value: str, *, file: Path) -> str:
    """`text` with the scalar at `path` rewritten to read as `value`; nothing else reads differently."""
    if any(0xD800 <= ord(c) <= 0xDFFF for c in value):
        raise EditRefused("the new value contains a lone surrogate (not valid Unicode text)", file=file)
    site = find_scalar(text, path, file=file)
    try:
        expected = with_value(_load(text, file), path, value)
    except (KeyError, IndexError, TypeError):
        raise EditRefused("the YAML cannot be read", file=file, hint="fix the file's syntax first") from None
    for replacement, end in _candidates(text, site, value):
        new = text[:site.start] + replacement + text[end:]
        if _reads_as(new, expected, file):
            return new
    raise EditRefused("the value cannot be rewritten safely in this file", file=file, line=site.key_line,
                      hint="edit it with the external editor")


def _reads_as(text: str, expected: Any, file: Path) -> bool:
    try:
        return bool(parse_yaml(text, file) == expected)
    except InputError:
        return False


def read_scalar(text: str, path: Sequence[PathKey], *, file: Path) -> tuple[str, int]:
    """(the scalar's text value, the 1-based line of its key)."""
    site = find_scalar(text, path, file=file)
    return site.value, site.key_line
