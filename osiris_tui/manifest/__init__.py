"""Files → a validated :class:`Pipeline`: seed format, compiled Osiris manifests (+ cfg JSON) or OML.

Every problem is a :class:`~osiris_tui.errors.ManifestError` naming the file, the place and a fix.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from osiris_tui.errors import ManifestError
from osiris_tui.manifest.common import Doc
from osiris_tui.manifest.model import ConfigSource, ManifestKind, Pipeline, Step, safe_id
from osiris_tui.manifest.yamlio import kind_of, load_document

__all__ = [
    "ConfigSource",
    "ManifestError",
    "ManifestKind",
    "Pipeline",
    "Step",
    "detect_kind",
    "load_pipeline",
    "safe_id",
]


def detect_kind(data: Any) -> ManifestKind:
    """Which format a parsed document is: "oml", "compiled" or "seed".

    OML has `oml_version`; a compiled manifest has `pipeline`, `steps` and `meta` (Osiris's rule) or steps
    with `cfg_path`; steps with `mode`/`component` and no `driver` look like OML missing its version.
    Anything else with `steps` (or without) is read as the seed format, whose checks explain what is wrong.
    """
    if not isinstance(data, Mapping):
        raise ManifestError(f"The top level must be a mapping, not {kind_of(data)}")
    if "oml_version" in data:
        return "oml"
    if {"pipeline", "steps", "meta"} <= data.keys():
        return "compiled"
    steps = data.get("steps")
    entries = [s for s in steps if isinstance(s, Mapping)] if isinstance(steps, list) else []
    if any("cfg_path" in s for s in entries):
        return "compiled"
    if entries and not any("driver" in s for s in entries) and any("mode" in s or "uses" in s for s in entries):
        return "oml"
    return "seed"


def _default_drivers() -> list[str]:
    from osiris_tui.drivers.registry import default_registry

    return default_registry().names()


def load_pipeline(
    path: str | Path,
    *,
    params: Mapping[str, str] | None = None,
    drivers: Collection[str] | None = None,
    env: Mapping[str, str] | None = None,
) -> Pipeline:
    """Load, validate and order the pipeline in `path` (any of the three kinds).

    `params` are `--param k=v` values (OML only), `drivers` the available driver names (default: the
    registry's), `env` the environment for `OSIRIS_PARAM_*` (default: `os.environ`).
    """
    doc = Doc(Path(path))
    data = load_document(doc.path)
    if not isinstance(data, dict):
        what = "the file is empty" if data is None else f"it is a {kind_of(data)}"
        raise doc.error(
            f"The top level must be a mapping ({what})",
            hint="a manifest starts with keys such as 'steps:' (or 'oml_version:' / 'pipeline:')",
        )
    kind = detect_kind(data)
    names = set(_default_drivers()) if drivers is None else drivers  # (a registry lists its plugins when asked)
    # (each kind's loader is imported when a file of that kind comes)
    if kind == "oml":
        from osiris_tui.manifest.oml import load_oml

        pipeline = load_oml(doc, data, names, env=os.environ if env is None else env, params=params)
    else:
        if params:
            name = next(iter(params))
            raise ManifestError(
                f"--param {name}: {kind} manifests have no params (parameters exist only in OML pipelines)",
                file=doc.path,
                hint="drop --param; a compiled manifest already holds the values it was compiled with"
                if kind == "compiled" else "drop --param, or write the pipeline as OML with a params: block",
            )
        if kind == "compiled":
            from osiris_tui.manifest.compiled import load_compiled as load
        else:
            from osiris_tui.manifest.seed import load_seed as load
        pipeline = load(doc, data, names)
    return _absolute(pipeline)


def _absolute(pipeline: Pipeline) -> Pipeline:
    """Store absolute paths so the pipeline still works after the working directory changes."""
    pipeline.path = pipeline.path.absolute()
    for step in pipeline.steps:
        if step.source is not None:
            step.source = dataclasses.replace(step.source, file=step.source.file.absolute())
    return pipeline
