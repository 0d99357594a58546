"""OML parameters as the Config tab shows them — value, where it came from, which steps use it — and a new
value typed for the options it fills (a `limit` gets an integer, `header` a boolean) or refused."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from osiris_tui.authoring.errors import EditRefused
from osiris_tui.errors import InputError
from osiris_tui.manifest.components import NO_DEFAULT, get_spec
from osiris_tui.manifest.model import Pipeline
from osiris_tui.manifest.params import coerce, referenced
from osiris_tui.manifest.yamlio import load_document
from osiris_tui.secrets import MASK, is_secret_key, mask_text

_WHOLE = re.compile(r"\$\{params\.([^}]+)\}")
# Options without a default in the specs, by the type their value must have.
_TYPES_WITHOUT_DEFAULT: dict[str, type] = {
    "limit": int, "port": int, "offset": int, "batch_size": int, "page_size": int, "skip_rows": int,
    "create_if_missing": bool, "columns": list, "primary_key": list, "upsert_keys": list,
}
_TYPE_NAMES = {bool: "a boolean (true/false)", int: "an integer", float: "a number", str: "text",
               list: "a list ([a, b])", dict: "a mapping ({k: v})"}
_TRUE, _FALSE = {"true", "yes", "on", "1"}, {"false", "no", "off", "0"}


@dataclass(frozen=True)
class Use:
    """A parameter filling a step's option whole (`limit: ${params.n}`), or spliced into text."""

    step_id: str
    option: str
    component: str
    whole: bool


@dataclass
class Usage:
    """Which steps use which parameter, read from the OML (placeholders unresolved)."""

    declared: list[str] = field(default_factory=list)
    uses: dict[str, list[Use]] = field(default_factory=dict)
    steps: dict[str, set[str]] = field(default_factory=dict)  # param → step ids


def usage(file: Path) -> Usage:
    """Read the OML's `params:` and every `${params.X}` of its steps."""
    try:
        data = load_document(file)
    except InputError as exc:
        raise EditRefused(exc.message, file=file, line=exc.line, hint=exc.hint) from None
    out = Usage()
    if not isinstance(data, dict):
        return out
    block = data.get("params")
    if isinstance(block, dict):
        out.declared = [str(n) for n in block]
    for raw in data.get("steps") or []:
        if not isinstance(raw, dict):
            continue
        step_id = str(raw.get("id"))
        component = str(raw.get("component") or raw.get("uses") or "")
        for name in referenced(raw):
            out.steps.setdefault(name, set()).add(step_id)
        config = raw.get("config", raw.get("with"))
        for option, value in (config or {}).items() if isinstance(config, dict) else ():
            if not isinstance(value, str):
                continue
            whole = _WHOLE.fullmatch(value)
            for name in ([whole[1]] if whole else referenced(value)):
                out.uses.setdefault(name, []).append(Use(step_id, str(option), component, bool(whole)))
    return out


@dataclass(frozen=True)
class ParamRow:
    name: str
    value: Any  # None when unset
    shown: str  # the value as text, masked when the name is a secret's
    source: str  # "default", "OSIRIS_PARAM_X", "--param", "set here", "unset"
    steps: tuple[str, ...]  # the steps that use it, in run order


def rows(pipeline: Pipeline, found: Usage, edited: Collection[str] = ()) -> list[ParamRow]:
    """One row per parameter (declared first, then those only referenced), in that order."""
    names = list(dict.fromkeys([*found.declared, *sorted(found.steps), *pipeline.params]))
    order = {sid: i for i, sid in enumerate(pipeline.step_ids)}
    out = []
    for name in names:
        known = name in pipeline.params
        value = pipeline.params.get(name)
        source = "set here" if name in edited else pipeline.param_sources.get(name, "default" if known else "unset")
        text = pipeline.param_text.get(name, _text(value)) if known else "(no value)"
        text = mask_text(text)
        if is_secret_key(name) and known:
            value, text = MASK, MASK
        steps = sorted(found.steps.get(name, ()), key=lambda s: order.get(s, len(order)))
        out.append(ParamRow(name, value, text, source, tuple(steps)))
    return out


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return yaml.safe_dump(value, default_flow_style=True).strip()
    return "null" if value is None else str(value)


def option_type(component: str, option: str) -> type | None:
    """The type a component's option takes (from its spec's default), or None when any value goes."""
    spec = get_spec(component)
    if spec is None or option not in spec.properties:
        return None
    default = spec.properties[option]
    if default is NO_DEFAULT:
        return _TYPES_WITHOUT_DEFAULT.get(option)
    return type(default) if default is not None else None


def _convert(text: str, kind: type) -> Any:
    raw = text.strip()
    if kind is bool:
        if raw.lower() in _TRUE | _FALSE:
            return raw.lower() in _TRUE
        raise ValueError
    if kind is int:
        if not re.fullmatch(r"[-+]?\d+", raw) or len(raw) > 30:
            raise ValueError
        return int(raw)
    if kind is float:
        return float(raw)
    if kind is str:
        return text
    parsed = yaml.safe_load(raw) if raw else None
    if kind is list and isinstance(parsed, str):
        return [parsed]
    if not isinstance(parsed, kind):
        raise ValueError
    return parsed


def convert(name: str, text: str, found: Usage, *, file: Path | None = None) -> Any:
    """`text` as the value parameter `name` takes: typed for the options it fills whole, otherwise read
    as `--param` reads it. EditRefused names the option and the type it expects."""
    if is_secret_key(name):
        raise EditRefused(f"parameter '{name}' looks like a secret; it is not set in the app", file=file,
                          hint=f"export OSIRIS_PARAM_{name.upper()}=… and restart")
    typed: list[tuple[Any, Use]] = []
    for use in found.uses.get(name, []):
        kind = option_type(use.component, use.option) if use.whole else None
        if kind is None:
            continue
        try:
            typed.append((_convert(text, kind), use))
        except (ValueError, yaml.YAMLError):
            raise EditRefused(
                f"parameter '{name}' fills option '{use.option}' of step '{use.step_id}', which takes "
                f"{_TYPE_NAMES.get(kind, kind.__name__)}; {text!r} is not one", file=file,
                step_id=use.step_id, key=use.option, hint="enter a value of that type",
            ) from None
    if not typed:
        return coerce(text)
    first, use = typed[0]
    for value, other in typed[1:]:
        if value != first or type(value) is not type(first):
            raise EditRefused(
                f"parameter '{name}' fills '{use.option}' of '{use.step_id}' and '{other.option}' of "
                f"'{other.step_id}', which take different types", file=file,
                hint="use two parameters")
    return first
