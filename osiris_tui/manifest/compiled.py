"""Compiled Osiris manifests: `pipeline`/`steps`/`meta` plus one `cfg/<step_id>.json` per step."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path
from typing import Any

from osiris_tui.errors import ManifestError
from osiris_tui.manifest.common import Doc, check_driver, check_needs, check_step_ids, check_steps_list
from osiris_tui.manifest.model import ConfigSource, Pipeline, Step
from osiris_tui.manifest.validate import order_steps
from osiris_tui.manifest.yamlio import kind_of, mark_of, parse_json, read_text


def cfg_file(doc: Doc, raw: dict[Any, Any], step_id: str) -> Path:
    """The step's cfg path (relative paths are relative to the manifest's directory)."""
    rel = raw.get("cfg_path", f"cfg/{step_id}.json")
    if not isinstance(rel, str) or not rel:
        raise doc.error("'cfg_path' must be a file path", node=raw, key="cfg_path", step_id=step_id)
    path = Path(rel)
    return path if path.is_absolute() else doc.path.parent / path


def read_cfg(file: Path, *, step_id: str, doc: Doc | None = None, node: Any = None) -> dict[str, Any]:
    """Load one cfg JSON object; a missing, unreadable, malformed or non-object file is a ManifestError."""
    if not file.exists() and doc is not None:
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
