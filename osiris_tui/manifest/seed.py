"""The seed format: `steps: [{id, driver, config, inputs: {df: "${extract.df}"}, needs}]`."""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any

from osiris_tui.manifest.common import Doc, check_config, check_driver, check_needs, check_step_ids, check_steps_list
from osiris_tui.manifest.model import ConfigSource, Pipeline, Step
from osiris_tui.manifest.validate import order_steps
from osiris_tui.manifest.yamlio import mark_of, plain

_REF = re.compile(r"^\$\{\s*(?P<target>[^}]+?)\s*\}$")


def parse_input_ref(value: Any) -> str | None:
    """`${step.df}` or `${step}` → `step`; anything else → None."""
    if not isinstance(value, str) or not (m := _REF.match(value)):
        return None
    target = m["target"]
    return target[: -len(".df")] if target.endswith(".df") else target


def _input_refs(doc: Doc, raw: dict[Any, Any], step_id: str) -> dict[str, str]:
    inputs = raw.get("inputs")
    if inputs is None:
        return {}
    if not isinstance(inputs, dict):
        raise doc.error(
            "'inputs' must be a mapping of name → ${step_id.df}", node=raw, key="inputs", step_id=step_id,
            hint='write it as inputs: {df: "${extract.df}"}',
        )
    refs = {}
    for name, value in inputs.items():
        target = parse_input_ref(value)
        if target is None:
            raise doc.error(
                f"inputs.{name} must be a reference like ${{step_id.df}}, not {value!r}",
                node=inputs, key=name, step_id=step_id, show_key=False,
                hint='write it as "${other_step.df}" (quoted)',
            )
        refs[str(name)] = target
    return refs


def load_seed(doc: Doc, data: dict[Any, Any], drivers: Collection[str]) -> Pipeline:
    """Validate a seed-format document and build its Pipeline."""
    raw_steps = check_steps_list(doc, data)
    ids = check_step_ids(doc, raw_steps)
    steps: list[Step] = []
    raws: dict[str, Any] = {}
    for pos, (raw, step_id) in enumerate(zip(raw_steps, ids, strict=True)):
        key = "driver" if "driver" in raw or "component" not in raw else "component"
        driver = check_driver(doc, raw.get(key), drivers, node=raw, key=key, step_id=step_id)
        line = (mark_of(raw) or (None,))[0]
        steps.append(Step(
            id=step_id, driver=driver, config=plain(check_config(doc, raw, "config", step_id)),
            needs=check_needs(doc, raw, step_id), input_refs=_input_refs(doc, raw, step_id),
            component=raw.get("component") if isinstance(raw.get("component"), str) else None,
            source=ConfigSource("inline", doc.path, line), position=pos, line=line,
        ))
        raws[step_id] = raw
    ordered, warnings = order_steps(doc, steps, raws)
    name = data.get("name")
    return Pipeline(
        name=str(name) if name else doc.path.stem, path=doc.path, kind="seed", steps=ordered, warnings=warnings
    )
