"""`${params.NAME}` resolution for OML: defaults < env `OSIRIS_PARAM_NAME` < `--param name=value`."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from osiris_tui.errors import ManifestError
from osiris_tui.manifest.common import Doc, did_you_mean, short
from osiris_tui.manifest.yamlio import MAX_INT_DIGITS, LocDict, LocList

ENV_PREFIX = "OSIRIS_PARAM_"
_PLACEHOLDER = re.compile(r"\$\{params\.([^}]+)\}")
_INT = re.compile(r"[-+]?\d+")
_FLOAT = re.compile(r"[-+]?(\d+\.\d*|\.\d+|\d+)([eE][-+]?\d+)?")


def coerce(text: str) -> Any:
    """A command-line/env string as YAML would read a plain scalar: true/false, int, float, else the text."""
    low = text.strip().lower()
    if low in ("true", "false"):
        return low == "true"
    if _INT.fullmatch(text.strip()) and len(text.strip()) <= MAX_INT_DIGITS:
        return int(text)
    if _FLOAT.fullmatch(text.strip()):
        return float(text)
    return text


@dataclass
class Params:
    """Effective parameter values. `raw` keeps the original text of env/CLI values for string splicing;
    `sources` says where each value came from: "default", "OSIRIS_PARAM_<NAME>" or "--param"."""

    values: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, str] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)

    def lookup(self, name: str) -> tuple[bool, Any, str]:
        """(found, typed value, text for splicing into a longer string)."""
        for key in (name, name.lower()):
            if key in self.values:
                value = self.values[key]
                return True, value, self.raw.get(key, str(value))
        return False, None, ""


def collect(
    doc: Doc, data: Mapping[Any, Any], env: Mapping[str, str], cli: Mapping[str, Any] | None
) -> Params:
    """Gather parameters with Osiris's precedence (profiles are not supported)."""
    params = Params()
    block = data.get("params")
    if block is not None and not isinstance(block, dict):
        raise doc.error("'params' must be a mapping of name → {default: value}", node=data, key="params")
    for name, spec in (block or {}).items():
        if isinstance(spec, dict):
            if "default" in spec:
                params.values[str(name)] = spec["default"]
                params.sources[str(name)] = "default"
        else:
            params.values[str(name)] = spec
            params.sources[str(name)] = "default"
    for key, text in env.items():
        if key.startswith(ENV_PREFIX) and len(key) > len(ENV_PREFIX):
            name = key[len(ENV_PREFIX):].lower()
            params.values[name], params.raw[name] = coerce(text), text
            params.sources[name] = key
    if cli:
        check_cli(doc, data, block or {}, cli)
    for name, text in (cli or {}).items():
        if isinstance(text, str):
            params.values[name], params.raw[name] = coerce(text), text
        else:
            params.values[name] = text
            params.raw.pop(name, None)
        params.sources[name] = "--param"
    return params


def referenced(value: Any) -> set[str]:
    """Every NAME used as `${params.NAME}` in `value` (iteratively)."""
    names: set[str] = set()
    todo = [value]
    while todo:
        item = todo.pop()
        if isinstance(item, dict):
            todo.extend(item.keys())
            todo.extend(item.values())
        elif isinstance(item, list):
            todo.extend(item)
        elif isinstance(item, str) and "${params." in item:
            names.update(_PLACEHOLDER.findall(item))
    return names


def check_cli(doc: Doc, data: Mapping[Any, Any], block: Mapping[Any, Any], cli: Mapping[str, Any]) -> None:
    """`--param` names are declared in `params` (or used as `${params.NAME}`); secret-named ones hold no literal."""
    from osiris_tui.manifest.oml import is_inline_secret

    declared = [str(n) for n in block]
    known = set(declared) | referenced({k: v for k, v in data.items() if k != "params"})
    for name, text in cli.items():
        if name not in known:
            listed = ", ".join(short(n) for n in declared[:30]) or "(none)"
            hint = did_you_mean(name, known) or "declare it under params: in the OML, or drop the --param"
            raise ManifestError(
                f"--param {short(name)}: no such parameter; declared params: {listed}", file=doc.path, hint=hint,
            )
        if is_inline_secret(name, text):
            raise ManifestError(
                f"--param {short(name)} looks like a secret and holds a literal value", file=doc.path,
                hint=f"use ${{ENV}} / a connection: export OSIRIS_PARAM_{name.upper()}=… instead of --param",
            )


def resolve(
    doc: Doc, value: Any, params: Params, *, parent: Any = None, key: Any = None, skip: Collection[str] = ()
) -> Any:
    """`value` with every `${params.X}` replaced (keeping file marks); an unknown X is an error.

    A string that is just one placeholder takes the parameter's typed value; inside a longer string
    the value is spliced in as text (as Osiris does). Keys in `skip` (top level only) are kept as they are.
    """
    if isinstance(value, LocDict):
        out = LocDict()
        out.mark, out.key_marks, out.value_marks = value.mark, value.key_marks, value.value_marks
        for k, v in value.items():
            out[k] = v if k in skip else resolve(doc, v, params, parent=value, key=k)
        return out
    if isinstance(value, dict):
        return {k: v if k in skip else resolve(doc, v, params, parent=value, key=k) for k, v in value.items()}
    if isinstance(value, list):
        items = [resolve(doc, v, params, parent=value, key=i) for i, v in enumerate(value)]
        if isinstance(value, LocList):
            out_list = LocList(items)
            out_list.mark, out_list.item_marks = value.mark, value.item_marks
            return out_list
        return items
    if not isinstance(value, str) or "${params." not in value:
        return value

    def missing(name: str) -> Exception:
        return doc.error(
            f"Unresolved parameter '{name}' in {value!r}",
            node=parent, key=key, value=isinstance(parent, dict), show_key=False,
            hint=(
                f"add params: {{{name}: {{default: ...}}}} to the OML, set {ENV_PREFIX}{name.upper()},"
                f" or pass --param {name}=VALUE"
            ),
        )

    whole = _PLACEHOLDER.fullmatch(value)
    if whole:
        found, typed, _ = params.lookup(whole[1])
        if not found:
            raise missing(whole[1])
        return typed

    def splice(m: re.Match[str]) -> str:
        found, _, text = params.lookup(m[1])
        if not found:
            raise missing(m[1])
        return text

    return _PLACEHOLDER.sub(splice, value)
