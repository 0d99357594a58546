"""Checks shared by every manifest kind: errors with a place, step ids, driver names and `needs` lists."""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from osiris_tui.errors import ManifestError
from osiris_tui.manifest.yamlio import kind_of, mark_of

_LEGACY_ID = re.compile(r"^(?P<kind>extractors|writers|transforms|processors)\.(?P<family>[\w-]+)@[\w.]+$")
_LEGACY_KIND = {"extractors": "extractor", "writers": "writer", "transforms": "processor", "processors": "processor"}
_DUCKDB_STALE = {"duckdb.transform", "duckdb.transformer", "duckdb.transforms"}


@dataclass(frozen=True)
class Doc:
    """The file being loaded; builds errors that point into it."""

    path: Path

    def error(
        self,
        message: str,
        *,
        node: Any = None,
        key: Any = None,
        value: bool = False,
        step_id: str | None = None,
        hint: str | None = None,
        show_key: bool = True,
    ) -> ManifestError:
        """A :class:`ManifestError` at `node` (or its `key`), naming the step and key when given."""
        mark = mark_of(node, key, value=value)
        return ManifestError(
            message,
            file=self.path,
            line=mark[0] if mark else None,
            column=mark[1] if mark else None,
            step_id=step_id,
            key=str(key) if key is not None and show_key else None,
            hint=hint,
        )


def closest(name: str, choices: Collection[str]) -> str | None:
    """The closest of `choices` to `name` (difflib), if any is close enough."""
    found = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.5)
    return found[0] if found else None


def did_you_mean(name: str, choices: Collection[str]) -> str | None:
    best = closest(name, choices)
    return f"did you mean '{best}'?" if best else None


MAX_NAME_BYTES = 255
"""Longest file name (in UTF-8 bytes) most file systems allow."""


def short(text: str, limit: int = 40) -> str:
    """`text`, cut to `limit` characters with an ellipsis, for messages."""
    return text if len(text) <= limit else text[:limit] + "…"


def path_component_problem(name: str) -> str | None:
    """Why `name` cannot be one directory name, or None when it can.

    Osiris itself takes any string as a step id, but artifacts go to `<run>/artifacts/<step_id>/`, so an id
    must be a single, safe path component.
    """
    if name == "":
        return "is empty"
    if "\x00" in name:
        return "contains a NUL character"
    try:
        size = len(name.encode("utf-8"))
    except UnicodeEncodeError:
        return "contains a lone surrogate (not valid Unicode text)"
    if size > MAX_NAME_BYTES:
        return f"is {size} bytes long in UTF-8 (file names hold at most {MAX_NAME_BYTES})"
    if "/" in name or "\\" in name:
        return "contains a path separator ('/' or '\\')"
    if name in (".", ".."):
        return f"is '{name}', which names a directory"
    return None


def check_step_ids(doc: Doc, steps: list[Any]) -> list[str]:
    """Every step is a mapping with a unique, non-empty `id` usable as a directory name; returns the ids."""
    ids: list[str] = []
    first_seen: dict[str, Any] = {}
    for i, raw in enumerate(steps):
        if not isinstance(raw, dict):
            raise doc.error(
                f"steps[{i}] is a {kind_of(raw)}, not a mapping",
                node=steps, key=i, show_key=False,
                hint="each step is a mapping such as {id: ..., driver: ..., config: {...}}",
            )
        step_id = raw.get("id")
        if step_id is None or step_id == "":
            raise doc.error(f"steps[{i}] has no 'id'", node=raw, hint="give every step a unique id")
        if isinstance(step_id, (dict, list)):
            raise doc.error(f"steps[{i}] 'id' must be a string, not {kind_of(step_id)}", node=raw, key="id",
                            show_key=False, hint="write it as id: my-step")
        if not isinstance(step_id, str):
            step_id = str(step_id)
        if problem := path_component_problem(step_id):
            raise doc.error(
                f"steps[{i}] id" + (f" '{short(step_id)}'" if step_id else "") + f" {problem}",
                node=raw, key="id", value=True, show_key=False,
                hint="step ids name the artifacts directory <run>/artifacts/<step_id>/; use a name such as "
                "'load-orders' (no '/', '\\', NUL, '.' or '..', at most 255 bytes)",
            )
        if step_id in first_seen:
            first = mark_of(first_seen[step_id])
            here = mark_of(raw)
            lines = f" (line {first[0]} and line {here[0]})" if first and here else ""
            raise doc.error(
                f"Duplicate step id '{step_id}'{lines}",
                node=raw, key="id", step_id=step_id, hint="step ids must be unique; rename one of them",
            )
        first_seen[step_id] = raw
        ids.append(step_id)
    return ids


def check_driver(
    doc: Doc, name: Any, drivers: Collection[str], *, node: Any, key: str, step_id: str
) -> str:
    """`name` is a known driver; otherwise one error listing the available ones with the closest as hint."""
    if not isinstance(name, str) or not name.strip():
        raise doc.error(
            f"Step has no '{key}'" if name in (None, "") else f"'{key}' must be a string, not {kind_of(name)}",
            node=node, key=key if name not in (None, "") else None, step_id=step_id,
            hint=f"set '{key}' to one of: {', '.join(sorted(drivers))}",
        )
    if name in drivers:
        return name
    available = ", ".join(sorted(drivers)) or "(none)"
    hint = did_you_mean(name, drivers)
    if name in _DUCKDB_STALE:
        hint = "the component is duckdb.processor (older Osiris docs call it duckdb.transform)"
    elif m := _LEGACY_ID.match(name):
        new = f"{m['family']}.{_LEGACY_KIND[m['kind']]}"
        hint = (
            f"'{name}' is a legacy Osiris driver id; current manifests use component names such as '{new}'"
            " — recompile the OML with a current Osiris or rename the driver"
        )
    raise doc.error(
        f"Unknown driver '{name}'. Available drivers: {available}",
        node=node, key=key, step_id=step_id, hint=hint,
    )


def check_needs(doc: Doc, raw: dict[Any, Any], step_id: str) -> list[str]:
    """`needs` is absent, null or a list of strings; returns it as a list."""
    needs = raw.get("needs")
    if needs is None:
        return []
    if not isinstance(needs, list) or not all(isinstance(n, str) for n in needs):
        raise doc.error(
            "'needs' must be a list of step ids (strings)",
            node=raw, key="needs", step_id=step_id, hint="write it as needs: [other_step_id]",
        )
    return list(dict.fromkeys(needs))


def check_config(doc: Doc, raw: dict[Any, Any], key: str, step_id: str) -> dict[Any, Any]:
    """The step's config mapping (an absent or null config is an empty one)."""
    config = raw.get(key)
    if config is None:
        return {}
    if not isinstance(config, dict):
        raise doc.error(
            f"'{key}' must be a mapping, not {kind_of(config)}",
            node=raw, key=key, step_id=step_id, hint=f"write it as {key}: {{name: value, ...}}",
        )
    return config


def check_steps_list(doc: Doc, data: dict[Any, Any]) -> list[Any]:
    """The top-level `steps` list exists and is not empty."""
    if "steps" not in data:
        raise doc.error("No 'steps' in the manifest", node=data, hint="add a 'steps:' list")
    steps = data["steps"]
    if not isinstance(steps, list):
        raise doc.error(
            f"'steps' must be a list, not {kind_of(steps)}", node=data, key="steps",
            hint="write each step as a '- id: ...' list item",
        )
    if not steps:
        raise doc.error("'steps' is empty", node=data, key="steps", hint="add at least one step")
    return steps
