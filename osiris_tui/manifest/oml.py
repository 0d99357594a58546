"""OML v0.1.0, compiled in memory the way `osiris compile` does (cfg keys, defaults, modes, implicit needs)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from osiris_tui.manifest import params as params_mod
from osiris_tui.manifest.common import (
    Doc,
    check_config,
    check_driver,
    check_needs,
    check_step_ids,
    check_steps_list,
    did_you_mean,
)
from osiris_tui.manifest.components import OML_MODES, ComponentSpec, get_spec
from osiris_tui.manifest.model import ConfigSource, Pipeline, Step
from osiris_tui.manifest.validate import order_steps
from osiris_tui.manifest.yamlio import mark_of, plain
from osiris_tui.secrets import is_secret_key

FORBIDDEN_KEYS = ("version", "connectors", "tasks", "outputs")
_SECRET_HINT = (
    'move it to osiris_connections.yaml and reference it with connection: "@family.alias", '
    "or write the value as ${ENV_VAR}"
)


def is_secret_name(key: Any) -> bool:
    """A key that must not hold an inline value and is dropped from the cfg (`secrets.is_secret_key`;
    it covers every spec's declared secrets)."""
    return is_secret_key(key)


def is_inline_secret(key: Any, value: Any) -> bool:
    """Osiris's rule: a secret-named key holding a literal string longer than 4 characters (not `${...}`)."""
    return is_secret_name(key) and isinstance(value, str) and len(value) > 4 and not value.startswith("${")


def _find_inline_secret(value: Any, path: str) -> tuple[Any, Any, str] | None:
    """(parent mapping, key, dotted path) of the first inline secret value, walking the whole document."""
    if isinstance(value, dict):
        for k, v in value.items():
            here = f"{path}.{k}" if path else str(k)
            if is_inline_secret(k, v):
                return value, k, here
            if found := _find_inline_secret(v, here):
                return found
    elif isinstance(value, list):
        for i, v in enumerate(value):
            if found := _find_inline_secret(v, f"{path}[{i}]"):
                return found
    return None


def _check_secrets(doc: Doc, data: dict[Any, Any]) -> None:
    """No inline secret anywhere; the steps are searched one by one so the error names the step."""
    steps = data.get("steps")
    found = _find_inline_secret({k: v for k, v in data.items() if k != "steps" or not isinstance(v, list)}, "")
    step_id = None
    if not found and isinstance(steps, list):
        for index, step in enumerate(steps):
            if found := _find_inline_secret(step, f"steps[{index}]"):
                if isinstance(step, dict) and step.get("id") is not None:
                    step_id = str(step["id"])
                break
    if not found:
        _check_param_secrets(doc, data)
        return
    parent, key, path = found
    # The key is named in the message, not as `key=`: "key 'password': …" would be masked as a secret pair.
    raise doc.error(f"Inline secret at {path}", node=parent, key=key, step_id=step_id, hint=_SECRET_HINT,
                    show_key=False)


def _check_param_secrets(doc: Doc, data: dict[Any, Any]) -> None:
    """A parameter named like a secret must not have a literal default (`params: {db_password: {default: x}}`)."""
    block = data.get("params")
    if not isinstance(block, dict):
        return
    for name, spec in block.items():
        if isinstance(spec, dict) and is_inline_secret(name, spec.get("default")):
            raise doc.error(
                f"Inline secret at params.{name}.default", node=spec, key="default", value=True, show_key=False,
                hint="give the parameter no default and set it with ${ENV} (OSIRIS_PARAM_"
                f"{str(name).upper()}) or use a connection",
            )


def _check_header(doc: Doc, data: dict[Any, Any]) -> None:
    for key in FORBIDDEN_KEYS:
        if key in data:
            raise doc.error(
                f"Top-level key '{key}' is not allowed in OML v0.1.0",
                node=data, key=key,
                hint="OML uses oml_version, name, params, profiles, metadata and steps"
                + (" (write oml_version instead of version)" if key == "version" else ""),
            )
    version = data.get("oml_version")
    if version is None:
        raise doc.error("Missing 'oml_version'", node=data, hint='add oml_version: "0.1.0"')
    if not str(version).startswith("0."):
        raise doc.error(f"Unsupported OML version: {version}", node=data, key="oml_version",
                        hint='this tool reads OML "0.1.0"')
    if not data.get("name"):
        raise doc.error("Missing pipeline 'name'", node=data, hint="add name: my-pipeline")


def _mode(doc: Doc, raw: dict[Any, Any], spec: ComponentSpec | None, component: str, step_id: str) -> str:
    mode = raw.get("mode")
    if spec is None:
        return OML_MODES.get(mode, mode) if isinstance(mode, str) else ""
    allowed = ", ".join(spec.oml_modes)
    if mode is None:
        raise doc.error(f"Step has no 'mode' (component '{component}' runs in: {allowed})",
                        node=raw, step_id=step_id, hint=f"add mode: {spec.oml_modes[0]}")
    mapped = OML_MODES.get(mode, mode) if isinstance(mode, str) else None
    if mapped not in spec.modes:
        raise doc.error(f"Mode '{mode}' not supported by component '{component}'. Allowed: {allowed}",
                        node=raw, key="mode", step_id=step_id, hint=f"use mode: {spec.oml_modes[0]}")
    return str(mapped)


def build_cfg(doc: Doc, config: dict[Any, Any], component: str, mode: str, step_id: str) -> dict[str, Any]:
    """The cfg Osiris writes: component, mapped mode, config keys minus secrets, then spec defaults."""
    spec = get_spec(component)
    cfg: dict[str, Any] = {"component": component, "mode": mode}
    for key, value in config.items():
        if is_secret_name(key):
            continue
        if spec is not None and key not in spec.properties and key != "connection":
            hint = did_you_mean(str(key), spec.allowed_keys)
            if key in ("url", "project_id") and component.startswith("supabase."):
                hint = 'credentials come from a connection: connection: "@supabase.alias"'
            raise doc.error(
                f"Unknown configuration key '{key}' for component '{component}'. "
                f"Allowed: {', '.join(spec.allowed_keys)}",
                node=config, key=key, step_id=step_id, hint=hint,
            )
        cfg[str(key)] = plain(value)
    if spec is not None:
        for key, default in spec.defaults().items():
            cfg.setdefault(key, default)
        for mode_key in ("write_mode", "mode"):
            wanted = config.get(mode_key)
            # mysql.writer's replace swaps in a staging table and needs no key.
            keyed = ("upsert",) if component == "mysql.writer" else ("replace", "upsert")
            if wanted in keyed and not any(config.get(k) for k in spec.key_columns):
                others = spec.key_columns[1:]
                raise doc.error(
                    f"{mode_key} '{wanted}' requires primary_key" + (f" (or {', '.join(others)})" if others else ""),
                    node=config, key=mode_key, step_id=step_id,
                    hint=f"add {spec.key_columns[0]}: [id] (the column(s) that identify a row)",
                )
    return dict(sorted(cfg.items()))


def load_oml(
    doc: Doc, data: dict[Any, Any], drivers: Collection[str], *, env: Mapping[str, str],
    params: Mapping[str, str] | None,
) -> Pipeline:
    """Compile an OML document in memory: secrets, header, params, then steps (as `osiris compile`)."""
    _check_secrets(doc, data)
    _check_header(doc, data)
    effective = params_mod.collect(doc, data, env, params)
    resolved = params_mod.resolve(doc, data, effective, skip=("params",))
    raw_steps = check_steps_list(doc, resolved)
    ids = check_step_ids(doc, raw_steps)
    steps: list[Step] = []
    raws: dict[str, Any] = {}
    warnings: list[str] = []
    for pos, (raw, step_id) in enumerate(zip(raw_steps, ids, strict=True)):
        comp_key = "component" if "component" in raw or "uses" not in raw else "uses"
        component = check_driver(doc, raw.get(comp_key), drivers, node=raw, key=comp_key, step_id=step_id)
        mode = _mode(doc, raw, get_spec(component), component, step_id)
        config_key = "config" if "config" in raw or "with" not in raw else "with"
        config = check_config(doc, raw, config_key, step_id)
        if "needs" in raw:
            needs = check_needs(doc, raw, step_id)
        elif pos > 0:
            needs = [ids[pos - 1]]
            warnings.append(
                f"step '{step_id}' has no 'needs': it depends on the previous step '{ids[pos - 1]}'"
                " (Osiris's implicit linear chaining)"
            )
        else:
            needs = []
        if "inputs" in raw:
            warnings.append(f"step '{step_id}': 'inputs' is ignored in OML (Osiris wires steps through 'needs')")
        line = (mark_of(raw) or (None,))[0]
        steps.append(Step(
            id=step_id, driver=component, component=component, needs=needs,
            config=build_cfg(doc, config, component, mode, step_id),
            source=ConfigSource("oml", doc.path, line), position=pos, line=line,
        ))
        raws[step_id] = raw
    ordered, forward = order_steps(doc, steps, raws)
    return Pipeline(
        name=str(resolved["name"]), path=doc.path, kind="oml", steps=ordered, warnings=warnings + forward,
        params=plain(effective.values), param_sources=dict(effective.sources), param_text=dict(effective.raw),
    )
