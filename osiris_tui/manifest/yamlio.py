"""Read YAML/JSON documents, remembering where every mapping and key sits (1-based line and column).

Input is hostile until proven otherwise. Files must be regular files of at most :data:`MAX_FILE_BYTES`,
UTF-8 and free of NUL characters. Before a YAML document is built, its event stream is scanned once: nesting
depth, alias uses and the number of nodes the document expands to (aliases counted in full) are bounded, and
only the plain YAML tags are accepted, each on the kind of node it belongs to. Scalars that cannot be read
as their tag (`!!int abc`, `2024-02-30`, integers of more than 4,300 digits) are errors with a place,
and no error echoes a value, which may be a secret.
"""

from __future__ import annotations

import json
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from osiris_tui.errors import InputError, ManifestError

Mark = tuple[int, int]

MAX_FILE_BYTES = 64 * 1024 * 1024
"""Largest file read (manifest, cfg, connections, .env)."""
MAX_DEPTH = 100
"""Deepest nesting of mappings and lists in any document."""
MAX_ALIASES = 10_000
"""Most alias uses (`*name`) in one YAML document."""
MAX_ALIAS_NODES = 100_000
"""Most nodes that alias uses may add to a YAML document once expanded."""
MAX_NODES = 2_000_000
"""Most nodes in one YAML document, aliases expanded."""
MAX_INT_DIGITS = 4300
"""Python's default limit on decimal digits when converting between int and str."""
_MAX_INT_BITS = int(MAX_INT_DIGITS * 3.32)  # an int of this many bits still prints in under MAX_INT_DIGITS digits

_YAML = "tag:yaml.org,2002:"
_SCALAR_TAGS = frozenset(_YAML + t for t in ("str", "int", "float", "bool", "null", "timestamp", "merge"))
_TAG_WHAT = {"int": "an integer", "float": "a number", "bool": "a boolean (true/false)", "null": "null",
             "timestamp": "a date or timestamp", "str": "text"}


class LocDict(dict[Any, Any]):
    """A dict that knows where it (`mark`), each of its keys and each of its values start in the file."""

    mark: Mark | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.key_marks: dict[Any, Mark] = {}
        self.value_marks: dict[Any, Mark] = {}


class LocList(list[Any]):
    """A list that knows where it and each of its items start in the file."""

    mark: Mark | None = None

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.item_marks: list[Mark] = []


def _mark(node: yaml.Node) -> Mark:
    return node.start_mark.line + 1, node.start_mark.column + 1


def short_tag(tag: str) -> str:
    """`tag:yaml.org,2002:int` → `!!int`."""
    return "!!" + tag[len(_YAML):] if tag.startswith(_YAML) else tag


class _BadValue(yaml.MarkedYAMLError):
    """A scalar that cannot be read as its tag; carries the node's place and (once known) its key."""

    def __init__(self, node: yaml.Node, reason: str, hint: str) -> None:
        super().__init__(problem=reason, problem_mark=node.start_mark)
        self.mark: yaml.Mark = node.start_mark
        self.reason, self.hint = reason, hint
        self.key: str | None = None


def _bad_scalar(node: yaml.Node) -> _BadValue:
    value = node.value if isinstance(node, yaml.ScalarNode) else ""
    name = node.tag[len(_YAML):] if node.tag.startswith(_YAML) else ""
    what = _TAG_WHAT.get(name, short_tag(node.tag))
    if name == "int" and isinstance(value, str) and sum(c.isdigit() for c in value) > MAX_INT_DIGITS:
        return _BadValue(node, f"integer with more than {MAX_INT_DIGITS} digits",
                         "quote it to keep it as text, or shorten it")
    if name == "timestamp":
        return _BadValue(node, "value looks like a date or timestamp but is not a valid one",
                         "fix the date, or quote the value to keep it as text")
    return _BadValue(node, f"value cannot be read as {what} ({short_tag(node.tag)})",
                     "fix the value, or remove the tag and quote the value to keep it as text")


# libyaml's parser when available (several times faster); its nodes carry the same marks.
_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_Base):  # type: ignore[misc, valid-type]
    """SafeLoader whose mappings are :class:`LocDict`, which rejects duplicate keys and bad scalars."""

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            value = super().construct_object(node, deep=deep)
        except yaml.YAMLError:
            raise
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError, IndexError):
            raise _bad_scalar(node) from None
        if isinstance(value, int) and value.bit_length() > _MAX_INT_BITS:
            raise _BadValue(node, f"integer with more than {MAX_INT_DIGITS} digits",
                            "quote it to keep it as text, or shorten it")
        return value


def _construct_map(loader: _Loader, node: yaml.Node) -> Any:
    if not isinstance(node, yaml.MappingNode):
        raise yaml.constructor.ConstructorError(None, None, "!!map tag on a node that is not a mapping",
                                                node.start_mark)
    data = LocDict()
    data.mark = _mark(node)
    yield data
    seen: dict[Any, yaml.Node] = {}
    for key_node, _ in node.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
            key = loader.construct_object(key_node)
            if key in seen:
                first = _mark(seen[key])[0]
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping", node.start_mark,
                    f"found duplicate key '{key}' (first at line {first})", key_node.start_mark,
                )
            seen[key] = key_node
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping", node.start_mark, "found an unhashable key", key_node.start_mark
            ) from None
        try:
            data[key] = loader.construct_object(value_node, deep=True)
        except _BadValue as exc:
            if exc.key is None:
                exc.key = str(key)
            raise
        data.key_marks[key] = _mark(key_node)
        data.value_marks[key] = _mark(value_node)


def _construct_seq(loader: _Loader, node: yaml.Node) -> Any:
    if not isinstance(node, yaml.SequenceNode):
        raise yaml.constructor.ConstructorError(None, None, "!!seq tag on a node that is not a list",
                                                node.start_mark)
    data = LocList()
    data.mark = _mark(node)
    yield data
    for item in node.value:
        data.append(loader.construct_object(item, deep=True))
        data.item_marks.append(_mark(item))


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)


# -- the event scan -------------------------------------------------------------------------------------

@dataclass
class _Frame:
    start: int  # nodes counted when the collection began
    anchor: str | None
    is_map: bool
    items: int = 0  # nodes completed inside (keys and values)
    key: str | None = None  # the last scalar key (mappings)

    @property
    def at_key(self) -> bool:
        return self.is_map and self.items % 2 == 0


@dataclass
class ScanStats:
    """What the scan of one YAML text counted (the loader refuses a text before any count passes its limit)."""

    events: int = 0
    nodes: int = 0
    alias_uses: int = 0
    alias_nodes: int = 0
    depth: int = 0
    anchors: dict[str, int] = field(default_factory=dict)


class _Refused(Exception):
    def __init__(self, message: str, mark: Any, hint: str) -> None:
        super().__init__(message)
        self.message, self.mark, self.hint = message, mark, hint


def _where(stack: list[_Frame]) -> str:
    """"on key 'k'" for the innermost mapping key around the current node, or "" at the top."""
    for frame in reversed(stack):
        if frame.is_map and frame.key is not None:
            return f" on key '{frame.key}'"
    return ""


def scan_yaml(text: str) -> ScanStats:
    """Walk the YAML event stream of `text` once, refusing (:class:`_Refused`) what is too big or tagged wrongly.

    Parse errors are left to the loader, which reports them with their place.
    """
    stats = ScanStats()
    stack: list[_Frame] = []
    loader = _Loader(text)

    def add(count: int, mark: Any) -> None:
        stats.nodes += count
        if stats.nodes > MAX_NODES:
            raise _Refused(f"YAML document has more than {MAX_NODES:,} nodes (aliases expanded)", mark,
                           "split the pipeline or remove anchors/aliases")

    def completed() -> None:
        if stack:
            stack[-1].items += 1

    def check_tag(tag: str | None, kind: str, mark: Any) -> None:
        if tag is None or tag == "!":
            return
        expected = {"scalar": None, "list": _YAML + "seq", "mapping": _YAML + "map"}[kind]
        if tag == expected or (kind == "scalar" and tag in _SCALAR_TAGS):
            return
        line = mark.line + 1
        if tag in _SCALAR_TAGS or tag in (_YAML + "seq", _YAML + "map"):
            raise _Refused(f"{short_tag(tag)} tag on a {kind}{_where(stack)} at line {line}", mark,
                           f"remove the tag ({short_tag(tag)} does not fit a {kind})")
        fix = "quote the value" if kind == "scalar" else "remove the tag"
        if tag.startswith(_YAML):  # a standard tag the loader does not build (!!binary, !!set, !!omap, ...)
            raise _Refused(f"unsupported YAML tag {short_tag(tag)}{_where(stack)} at line {line} — {fix}", mark,
                           "manifests use plain strings, numbers, booleans, dates, lists and mappings")
        raise _Refused(f"unknown YAML tag{_where(stack)} at line {line} — {fix}", mark,
                       "a value starting with '!' is read as a YAML tag unless it is quoted")

    try:
        while loader.check_event():
            event = loader.get_event()
            stats.events += 1
            mark = event.start_mark
            if isinstance(event, yaml.ScalarEvent):
                check_tag(event.tag, "scalar", mark)
                add(1, mark)
                if event.anchor is not None:
                    stats.anchors[event.anchor] = 1
                if stack and stack[-1].at_key:
                    stack[-1].key = event.value if len(event.value) <= 80 else event.value[:80] + "…"
                completed()
            elif isinstance(event, yaml.AliasEvent):
                if stack and stack[-1].at_key:
                    raise _Refused(f"YAML alias used as a mapping key at line {mark.line + 1}", mark,
                                   "write the key out instead of *alias")
                size = stats.anchors.get(event.anchor, 1) if event.anchor is not None else 1
                stats.alias_uses += 1
                stats.alias_nodes += size
                if stats.alias_uses > MAX_ALIASES:
                    raise _Refused(f"YAML document uses aliases more than {MAX_ALIASES:,} times", mark,
                                   "write the values out instead of *alias")
                if stats.alias_nodes > MAX_ALIAS_NODES:
                    raise _Refused(
                        f"YAML aliases expand to more than {MAX_ALIAS_NODES:,} nodes (alias bomb?)", mark,
                        "remove the nested anchors/aliases; write the values out",
                    )
                add(size, mark)
                if stack and stack[-1].is_map:
                    stack[-1].key = None
                completed()
            elif isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                is_map = isinstance(event, yaml.MappingStartEvent)
                check_tag(event.tag, "mapping" if is_map else "list", mark)
                if stack and stack[-1].at_key:
                    stack[-1].key = None
                add(1, mark)
                stack.append(_Frame(stats.nodes - 1, event.anchor, is_map))
                stats.depth = max(stats.depth, len(stack))
                if len(stack) > MAX_DEPTH:
                    raise _Refused(f"nesting deeper than {MAX_DEPTH} levels at line {mark.line + 1}", mark,
                                   "flatten the structure")
            elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                frame = stack.pop()
                if frame.anchor is not None:
                    stats.anchors[frame.anchor] = stats.nodes - frame.start
                completed()
            elif isinstance(event, yaml.DocumentStartEvent):
                stats.anchors.clear()
    except yaml.YAMLError:
        pass  # the loader reports it with its place
    finally:
        loader.dispose()
    return stats


# -- parsing ------------------------------------------------------------------------------------------

def parse_yaml(text: str, file: Path, *, error: type[InputError] = ManifestError) -> Any:
    """Parse one YAML document; every problem becomes `error` (a :class:`ManifestError`) with line and column."""
    check_nul(text, file, error=error)
    try:
        scan_yaml(text)
    except _Refused as exc:
        raise error(exc.message, file=file, line=exc.mark.line + 1, column=exc.mark.column + 1,
                    hint=exc.hint) from None
    try:
        return yaml.load(text, Loader=_Loader)
    except _BadValue as exc:
        where = f" on key '{exc.key}'" if exc.key is not None else ""
        raise error(
            f"Invalid value{where} at line {exc.mark.line + 1}: {exc.reason}",
            file=file, line=exc.mark.line + 1, column=exc.mark.column + 1, hint=exc.hint,
        ) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        raise error(
            f"Invalid YAML: {problem}",
            file=file,
            line=mark.line + 1 if mark else None,
            column=mark.column + 1 if mark else None,
            hint="check indentation, colons and quoting around this place",
        ) from None
    except yaml.reader.ReaderError as exc:
        at = exc.position if isinstance(exc.position, int) else None
        if at is not None and _Base is not yaml.SafeLoader:  # libyaml counts bytes of the UTF-8 text
            at = len(text.encode("utf-8", "surrogatepass")[:at].decode("utf-8", "ignore"))
        line, column = position(text, at) if at is not None else (None, None)
        char = exc.character if isinstance(exc.character, int) else ord(exc.character or "\x00"[:1])
        raise error(
            f"Invalid YAML: character U+{char:04X} is not allowed ({exc.reason})",
            file=file, line=line, column=column, hint="remove the control character",
        ) from None
    except yaml.YAMLError as exc:
        raise error(f"Invalid YAML: {type(exc).__name__}", file=file) from None
    except RecursionError:
        raise error(f"nesting deeper than {MAX_DEPTH} levels", file=file, hint="flatten the structure") from None


def position(text: str, offset: int) -> Mark:
    """1-based (line, column) of character `offset` in `text`."""
    offset = max(0, min(offset, len(text)))
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def check_nul(text: str, file: Path, *, error: type[InputError] = ManifestError) -> None:
    """A NUL character anywhere in a text file is an error at its line."""
    at = text.find("\x00")
    if at >= 0:
        line, column = position(text, at)
        raise error(f"NUL character at line {line}", file=file, line=line, column=column,
                    hint="the file is binary or corrupted; NUL is not allowed in text files")


def line_of(data: Any, *path: Any) -> int | None:
    """1-based line of the key at `path` in parsed data (the deepest one found)."""
    line = None
    for key in path:
        if not isinstance(data, LocDict) or key not in data:
            break
        line = data.key_marks[key][0]
        data = data[key]
    return line


_JSON_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')
_LONG_INT = re.compile(rf"(?<![\d.eE])-?\d{{{MAX_INT_DIGITS + 1},}}(?![\d.eE])")


def _json_too_deep(text: str) -> int | None:
    """Offset of the first bracket that opens level MAX_DEPTH + 1, if any (strings skipped)."""
    depth = 0
    for m in _JSON_TOKENS.finditer(text):
        c = m.group()
        if c in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return m.start()
        elif c in "]}":
            depth -= 1
    return None


def depth_of(value: Any) -> int:
    """How deeply lists and dicts nest in `value` (iteratively: no recursion limit)."""
    deepest = 0
    todo: list[tuple[Any, int]] = [(value, 0)]
    while todo:
        item, depth = todo.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        depth += 1
        deepest = max(deepest, depth)
        if depth <= MAX_DEPTH:
            todo.extend((c, depth) for c in children)
    return deepest


def parse_json(text: str, file: Path, *, error: type[InputError] = ManifestError) -> Any:
    """Parse JSON; syntax errors, huge integers and deep nesting become `error` with line and column."""
    check_nul(text, file, error=error)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise error(
            f"Invalid JSON: {exc.msg}", file=file, line=exc.lineno, column=exc.colno,
            hint="fix the JSON syntax (a cfg file must be one JSON object)",
        ) from None
    except ValueError:  # an integer over Python's digit limit
        m = _LONG_INT.search(text)
        line, column = position(text, m.start()) if m else (None, None)
        raise error(f"integer with more than {MAX_INT_DIGITS} digits", file=file, line=line, column=column,
                    hint="quote it to keep it as text, or shorten it") from None
    except RecursionError:
        too_deep = True
    else:
        too_deep = depth_of(data) > MAX_DEPTH
    if too_deep:
        at = _json_too_deep(text)
        line, column = position(text, at) if at is not None else (None, None)
        raise error(f"nesting deeper than {MAX_DEPTH} levels" + (f" at line {line}" if line else ""),
                    file=file, line=line, column=column, hint="flatten the structure")
    return data


# -- reading files ------------------------------------------------------------------------------------

_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a device"),
          (stat.S_ISBLK, "a device"), (stat.S_ISSOCK, "a socket"))


def _not_regular(mode: int) -> str | None:
    if stat.S_ISREG(mode):
        return None
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def _size(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB"


def read_bytes(file: Path, *, what: str = "File", error: type[InputError] = ManifestError,
               limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of regular file `file` (at most `limit`), or `error` saying why it cannot be read.

    FIFOs, directories and devices are refused before reading (a FIFO would block, /dev/zero never ends).
    """
    try:
        st = os.stat(file)
    except FileNotFoundError:
        raise error(f"{what} not found", file=file, hint="check the path") from None
    except (OSError, ValueError) as exc:
        raise error(f"{what} cannot be read: {_reason(exc)}", file=file, hint="check the path") from None
    if kind := _not_regular(st.st_mode):
        raise error(f"{what} is {kind}, not a regular file", file=file, hint="give the path of a file")
    if st.st_size > limit:
        raise error(f"{what} is {_size(st.st_size)}; the limit is {_size(limit)}", file=file,
                    hint="is this the right file?")
    try:
        fd = os.open(file, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except (OSError, ValueError) as exc:
        raise error(f"{what} cannot be read: {_reason(exc)}", file=file) from None
    try:
        # Checked again on the open file: the path may have been swapped since the stat.
        if kind := _not_regular(os.fstat(fd).st_mode):
            raise error(f"{what} is {kind}, not a regular file", file=file, hint="give the path of a file")
        chunks, total = [], 0
        while chunk := os.read(fd, min(1024 * 1024, limit + 1 - total)):
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:
                raise error(f"{what} is larger than {_size(limit)}", file=file, hint="is this the right file?")
        return b"".join(chunks)
    except OSError as exc:
        raise error(f"{what} cannot be read: {_reason(exc)}", file=file) from None
    finally:
        os.close(fd)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower() if exc.strerror[:1].isupper() else exc.strerror
    if isinstance(exc, ValueError):
        return "the path contains a NUL character" if "null" in str(exc) else "the path is not usable"
    return type(exc).__name__


def decode_text(data: bytes, file: Path, *, what: str = "File", error: type[InputError] = ManifestError) -> str:
    """`data` as UTF-8 text (a leading BOM dropped); invalid UTF-8 or a NUL is an error at its line."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise error(
            f"{what} is not UTF-8 text ({exc.reason} at byte {exc.start}, line {line})",
            file=file, line=line, column=column, hint="save the file as UTF-8",
        ) from None
    text = text.removeprefix("\ufeff")
    check_nul(text, file, error=error)
    return text


def read_text(file: Path, *, what: str = "File", error: type[InputError] = ManifestError) -> str:
    """The UTF-8 text of regular file `file`, or `error` saying why it cannot be read."""
    return decode_text(read_bytes(file, what=what, error=error), file, what=what, error=error)


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except (OSError, ValueError):
        return False


def load_document(file: Path) -> Any:
    """Read and parse a manifest: JSON when the name ends in `.json`, YAML otherwise."""
    if _is_dir(file):
        candidate = file / "manifest.yaml"
        hint = f"did you mean {candidate}?" if candidate.is_file() else "give the path of a manifest file"
        raise ManifestError("Manifest path is a directory, not a file", file=file, hint=hint)
    text = read_text(file, what="Manifest file")
    if file.suffix.lower() == ".json":
        return parse_json(text, file)
    return parse_yaml(text, file)


def mark_of(node: Any, key: Any = None, *, value: bool = False) -> Mark | None:
    """Where `node` (or its `key`, or that key's value; or its item number `key`) starts, when known."""
    if isinstance(node, LocList):
        if isinstance(key, int) and 0 <= key < len(node.item_marks):
            return node.item_marks[key]
        return node.mark
    if not isinstance(node, LocDict):
        return None
    if key is None:
        return node.mark
    marks = node.value_marks if value else node.key_marks
    return marks.get(key, node.mark)


def plain(value: Any) -> Any:
    """A copy of `value` made of plain dicts and lists (no location bookkeeping)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def kind_of(value: Any) -> str:
    """A YAML-ish name for the type of `value`, for error messages."""
    if value is None:
        return "null"
    names = ((bool, "boolean"), (dict, "mapping"), (list, "list"), (str, "string"), ((int, float), "number"))
    for types, name in names:
        if isinstance(value, types):
            return name
    return type(value).__name__
