"""Compiled Osiris manifests: `pipeline`/`steps`/`meta` plus one `cfg/<step_id>.json` per step."""

from __future__ import annotations

import posixpath
from collections.abc import Collection
from pathlib import Path, PurePosixPath
from typing import Any

from osiris_tui.errors import ManifestError
from osiris_tui.manifest.common import (
    MAX_NAME_BYTES,
    Doc,
    check_driver,
    check_needs,
    check_step_ids,
    check_steps_list,
    short,
)
from osiris_tui.manifest.model import ConfigSource, Pipeline, Step
from osiris_tui.manifest.validate import order_steps
from osiris_tui.manifest.yamlio import kind_of, mark_of, parse_json, read_text

MAX_CFG_PATH = 255
"""Longest `cfg_path` accepted (Osiris writes `cfg/<step_id>.json`)."""


def cfg_path_problem(rel: str) -> str | None:
    """Why `rel` is not a usable cfg path (relative, inside the manifest's directory), or None."""
    if len(rel) > MAX_CFG_PATH:
        return f"is {len(rel)} characters long (at most {MAX_CFG_PATH})"
    if "\x00" in rel:
        return "contains a NUL character"
    try:
        parts = [len(p.encode("utf-8")) for p in rel.split("/")]
    except UnicodeEncodeError:
        return "contains a lone surrogate (not valid Unicode text)"
    if any(n > MAX_NAME_BYTES for n in parts):
        return f"has a part longer than {MAX_NAME_BYTES} bytes"
    if PurePosixPath(rel).is_absolute() or rel.startswith("\\") or (len(rel) > 1 and rel[1] == ":"):
        return "is an absolute path"
    normal = posixpath.normpath(rel.replace("\\", "/"))
    if normal == ".." or normal.startswith("../"):
        return "leaves the manifest's directory ('..')"
    if normal == ".":
        return "names the manifest's directory, not a file"
    return None


def cfg_file(doc: Doc, raw: dict[Any, Any], step_id: str) -> Path:
    """The step's cfg path, relative to the manifest's directory and inside it."""
    rel = raw.get("cfg_path")
    if rel is None:
        return doc.path.parent / "cfg" / f"{step_id}.json"
    if not isinstance(rel, str) or not rel:
        raise doc.error("'cfg_path' must be a file path", node=raw, key="cfg_path", step_id=step_id,
                        hint=f"write it as cfg_path: cfg/{short(step_id)}.json")
    if problem := cfg_path_problem(rel):
        raise doc.error(
            f"'cfg_path' {problem}", node=raw, key="cfg_path", step_id=step_id,
            hint=f"cfg_path is relative to the manifest's directory, e.g. cfg/{short(step_id)}.json",
        )
    return doc.path.parent / rel


def read_cfg(file: Path, *, step_id: str, doc: Doc | None = None, node: Any = None) -> dict[str, Any]:
    """Load one cfg JSON object; a missing, unreadable, malformed or non-object file is a ManifestError."""
    if doc is not None and not _exists(file):
        raise doc.error(
            f"cfg file not found: {file}", node=node, key="cfg_path", step_id=step_id,
            hint="compile the pipeline again, or keep the cfg/ directory next to the manifest",
        )
    try:
        text = read_text(file, what="cfg file")
        data = parse_json(text, file)
    except ManifestError as exc:
        raise ManifestError(
            exc.message, file=exc.file, line=exc.line, column=exc.column, step_id=step_id, hint=exc.hint
        ) from None
    if not isinstance(data, dict):
        raise ManifestError(
            f"cfg must be a JSON object, not {kind_of(data)}", file=file, step_id=step_id,
            hint='write it as {"key": value, ...}',
        )
    return data


def _exists(file: Path) -> bool:
    try:
        return file.exists()
    except (OSError, ValueError):
        return True  # read_cfg reports why it cannot be read


def _driver_key(raw: dict[Any, Any]) -> str:
    return "driver" if raw.get("driver") not in (None, "") or "component" not in raw else "component"


def load_compiled(doc: Doc, data: dict[Any, Any], drivers: Collection[str]) -> Pipeline:
    """Validate a compiled manifest, load each step's cfg and build the Pipeline."""
    raw_steps = check_steps_list(doc, data)
    ids = check_step_ids(doc, raw_steps)
    steps: list[Step] = []
    raws: dict[str, Any] = {}
    for pos, (raw, step_id) in enumerate(zip(raw_steps, ids, strict=True)):
        key = _driver_key(raw)
        driver = check_driver(doc, raw.get(key), drivers, node=raw, key=key, step_id=step_id)
        needs = check_needs(doc, raw, step_id)
        file = cfg_file(doc, raw, step_id)
        config = read_cfg(file, step_id=step_id, doc=doc, node=raw)
        component = raw.get("component") if isinstance(raw.get("component"), str) else None
        steps.append(Step(
            id=step_id, driver=driver, config=config, needs=needs, component=component or driver,
            source=ConfigSource("cfg", file), position=pos, line=(mark_of(raw) or (None,))[0],
        ))
        raws[step_id] = raw
    ordered, warnings = order_steps(doc, steps, raws)
    pipeline = data.get("pipeline")
    name = data.get("name") or (pipeline.get("id") if isinstance(pipeline, dict) else None) or doc.path.stem
    return Pipeline(name=str(name), path=doc.path, kind="compiled", steps=ordered, warnings=warnings)
