"""Read YAML/JSON documents, remembering where every mapping and key sits (1-based line and column)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from osiris_tui.errors import InputError, ManifestError

Mark = tuple[int, int]


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


# libyaml's parser when available (several times faster); its nodes carry the same marks.
_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_Base):  # type: ignore[misc, valid-type]
    """SafeLoader whose mappings are :class:`LocDict` and which rejects duplicate keys."""


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> Any:
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
        data[key] = loader.construct_object(value_node, deep=True)
        data.key_marks[key] = _mark(key_node)
        data.value_marks[key] = _mark(value_node)


def _construct_seq(loader: _Loader, node: yaml.SequenceNode) -> Any:
    data = LocList()
    data.mark = _mark(node)
    yield data
    for item in node.value:
        data.append(loader.construct_object(item, deep=True))
        data.item_marks.append(_mark(item))


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)


def parse_yaml(text: str, file: Path, *, error: type[InputError] = ManifestError) -> Any:
    """Parse one YAML document; syntax errors become `error` (a :class:`ManifestError`) with line and column."""
    try:
        return yaml.load(text, Loader=_Loader)
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
    except yaml.YAMLError as exc:
        raise error(f"Invalid YAML: {exc}", file=file) from None


def line_of(data: Any, *path: Any) -> int | None:
    """1-based line of the key at `path` in parsed data (the deepest one found)."""
    line = None
    for key in path:
        if not isinstance(data, LocDict) or key not in data:
            break
        line = data.key_marks[key][0]
        data = data[key]
    return line


def parse_json(text: str, file: Path) -> Any:
    """Parse JSON; syntax errors become a :class:`ManifestError` with line and column."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ManifestError(
            f"Invalid JSON: {exc.msg}", file=file, line=exc.lineno, column=exc.colno,
            hint="fix the JSON syntax (a cfg file must be one JSON object)",
        ) from None


def read_text(file: Path, *, what: str = "File") -> str:
    """The text of `file`, or a :class:`ManifestError` saying why it cannot be read."""
    if not file.exists():
        raise ManifestError(f"{what} not found", file=file, hint="check the path")
    if file.is_dir():
        raise ManifestError(f"{what} is a directory, not a file", file=file)
    try:
        return file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ManifestError(f"{what} is not UTF-8 text ({exc.reason} at byte {exc.start})", file=file) from None
    except OSError as exc:
        raise ManifestError(f"{what} cannot be read: {exc.strerror or exc}", file=file) from None


def load_document(file: Path) -> Any:
    """Read and parse a manifest: JSON when the name ends in `.json`, YAML otherwise."""
    if file.is_dir() and (file / "manifest.yaml").is_file():
        raise ManifestError(
            "Manifest path is a directory", file=file, hint=f"did you mean {file / 'manifest.yaml'}?"
        )
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
