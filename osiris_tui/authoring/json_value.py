"""Find the text of one value in a JSON document and replace only that token.

Osiris writes `cfg/<step>.json` with `json.dumps`; a person may have re-indented it. Whatever the layout,
only the characters of the value change: indentation, key order, line endings and the other values stay.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from osiris_tui.authoring.errors import EditRefused
from osiris_tui.manifest.yamlio import position

_WS = re.compile(r"[ \t\r\n]*")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_LITERAL = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?|true|false|null")
_NON_ASCII_ESCAPE = re.compile(r"\\u(?!00[0-7][0-9a-fA-F])[0-9a-fA-F]{4}")

PathKey = str | int


@dataclass(frozen=True)
class Span:
    """Where a value's token is: `start`/`end` character offsets, and the 1-based line of its key."""

    start: int
    end: int
    key_line: int


class _Malformed(Exception):
    pass


def _ws(text: str, i: int) -> int:
    m = _WS.match(text, i)
    return m.end() if m else i


def _skip(text: str, i: int) -> int:
    """The offset just after the JSON value starting at `i`."""
    if i >= len(text):
        raise _Malformed
    c = text[i]
    if c == '"':
        m = _STRING.match(text, i)
        if not m:
            raise _Malformed
        return m.end()
    if c in "[{":
        depth = 0
        while i < len(text):
            c = text[i]
            if c == '"':
                m = _STRING.match(text, i)
                if not m:
                    raise _Malformed
                i = m.end()
                continue
            if c in "[{":
                depth += 1
            elif c in "]}":
                depth -= 1
                if depth == 0:
                    return i + 1
            i += 1
        raise _Malformed
    m = _LITERAL.match(text, i)
    if not m:
        raise _Malformed
    return m.end()


def _members(text: str, i: int) -> list[tuple[Any, int, int, int]]:
    """(key, key offset, value start, value end) of the object starting at `i`."""
    if text[i] != "{":
        raise _Malformed
    out: list[tuple[Any, int, int, int]] = []
    i = _ws(text, i + 1)
    if text[i] == "}":
        return out
    while True:
        m = _STRING.match(text, i)
        if not m:
            raise _Malformed
        key = json.loads(m.group())
        i = _ws(text, m.end())
        if text[i] != ":":
            raise _Malformed
        start = _ws(text, i + 1)
        end = _skip(text, start)
        out.append((key, m.start(), start, end))
        i = _ws(text, end)
        if text[i] == "}":
            return out
        if text[i] != ",":
            raise _Malformed
        i = _ws(text, i + 1)


def _items(text: str, i: int) -> list[tuple[int, int]]:
    if text[i] != "[":
        raise _Malformed
    out: list[tuple[int, int]] = []
    i = _ws(text, i + 1)
    if text[i] == "]":
        return out
    while True:
        end = _skip(text, i)
        out.append((i, end))
        i = _ws(text, end)
        if text[i] == "]":
            return out
        if text[i] != ",":
            raise _Malformed
        i = _ws(text, i + 1)


def value_span(text: str, path: Sequence[PathKey], *, file: Path) -> Span:
    """The span of the value at `path` (object keys and list indices); EditRefused when absent or ambiguous."""
    where = ".".join(str(p) for p in path)
    try:
        i = _ws(text, 0)
        key_line = 1
        span = (i, _skip(text, i))
        for step in path:
            if isinstance(step, int):
                items = _items(text, span[0])
                if not 0 <= step < len(items):
                    raise EditRefused(f"no item {step} at {where}", file=file)
                span = items[step]
                key_line = position(text, span[0])[0]
                continue
            found = [m for m in _members(text, span[0]) if m[0] == step]
            if not found:
                raise EditRefused(f"no key '{step}' in the JSON ({where})", file=file,
                                  hint=f"add \"{step}\" to the file, or edit it with the external editor")
            if len(found) > 1:
                lines = " and ".join(str(position(text, f[1])[0]) for f in found)
                raise EditRefused(f"key '{step}' appears more than once (lines {lines})", file=file,
                                  line=position(text, found[-1][1])[0],
                                  hint="remove the duplicate key first; JSON readers disagree on which one counts")
            _, key_at, start, end = found[0]
            span = (start, end)
            key_line = position(text, key_at)[0]
    except (_Malformed, IndexError, json.JSONDecodeError):
        raise EditRefused("the JSON cannot be read", file=file, hint="fix the file's syntax first") from None
    return Span(span[0], span[1], key_line)


def value_at(data: Any, path: Sequence[PathKey]) -> Any:
    for step in path:
        data = data[step]
    return data


def with_value(data: Any, path: Sequence[PathKey], value: Any) -> Any:
    """A copy of parsed `data` with the value at `path` replaced (the containers on the path copied)."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    copy: Any = list(data) if isinstance(data, list) else dict(data)
    copy[head] = with_value(data[head], rest, value)
    return copy


def encode_like(value: Any, old_token: str, text: str) -> str:
    """`value` as a JSON token, escaping non-ASCII characters only if the file already does."""
    raw_unicode = any(ord(c) > 127 for c in text)
    escapes = bool(_NON_ASCII_ESCAPE.search(old_token)) or (not raw_unicode and bool(_NON_ASCII_ESCAPE.search(text)))
    return json.dumps(value, ensure_ascii=escapes and not raw_unicode)


def replace_value(text: str, path: Sequence[PathKey], value: Any, *, file: Path) -> str:
    """`text` with only the token of the value at `path` replaced by `value` (checked by parsing both)."""
    span = value_span(text, path, file=file)
    token = encode_like(value, text[span.start:span.end], text)
    new = text[:span.start] + token + text[span.end:]
    try:
        before, after = json.loads(text), json.loads(new)
    except ValueError:
        raise EditRefused("the JSON cannot be read", file=file, hint="fix the file's syntax first") from None
    if after != with_value(before, path, value):
        raise EditRefused("the value cannot be rewritten safely in this file", file=file, line=span.key_line,
                          hint="edit it with the external editor")
    return new
