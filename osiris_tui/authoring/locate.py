"""Where a step's value is written: the file (cfg JSON, OML or seed YAML), the path inside it, the line."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from osiris_tui.authoring import files, json_value, yaml_value
from osiris_tui.authoring.errors import EditRefused
from osiris_tui.authoring.json_value import PathKey
from osiris_tui.manifest.model import Step

SQL_KEYS = ("query", "sql")


def sql_keys(config: dict[str, Any]) -> list[str]:
    """The config keys that hold SQL text (`query`, `sql`), in config order."""
    return [k for k, v in config.items() if k.lower() in SQL_KEYS and isinstance(v, str)]


@dataclass(frozen=True)
class ValueSite:
    """One config value of one step, in the file it is written in."""

    step_id: str
    key: str
    file: Path
    format: Literal["json", "yaml"]
    path: tuple[PathKey, ...]

    @property
    def what(self) -> str:
        return f"{self.key} of step '{self.step_id}'"


def _yaml_config_key(text: files.Text, position: int) -> str:
    """`config`, or OML's older `with`, whichever the step uses."""
    for key in ("config", "with"):
        try:
            yaml_value.find_scalar(text.body, ("steps", position, key), file=text.file)
        except EditRefused as exc:
            if "no key" in exc.message:
                continue
        return key
    return "config"


def value_site(step: Step, key: str) -> ValueSite:
    """Where `key` of `step`'s config is written (reads the file of an OML step to tell config/with)."""
    source = step.source
    if source is None:
        raise EditRefused(f"step '{step.id}' has no source file", step_id=step.id,
                          hint="this pipeline was built in memory")
    if source.kind == "cfg":
        return ValueSite(step.id, key, source.file, "json", (key,))
    config_key = "config"
    if source.kind == "oml":
        config_key = _yaml_config_key(files.read(source.file), step.position)
    return ValueSite(step.id, key, source.file, "yaml", ("steps", step.position, config_key, key))


@dataclass(frozen=True)
class Current:
    """A value as the file has it now, and the line of its key."""

    site: ValueSite
    value: str
    line: int
    text: files.Text


def read_value(site: ValueSite) -> Current:
    """The value at `site` as written in its file (for OML: `${params.X}` not resolved)."""
    text = files.read(site.file)
    if site.format == "json":
        span = json_value.value_span(text.body, site.path, file=site.file)
        value = json.loads(text.body[span.start:span.end])
        if not isinstance(value, str):
            raise EditRefused(f"'{site.key}' is not text in this file", file=site.file, line=span.key_line,
                              step_id=site.step_id)
        return Current(site, value, span.key_line, text)
    value, line = yaml_value.read_scalar(text.body, site.path, file=site.file)
    return Current(site, value, line, text)


def save_value(site: ValueSite, value: str, *, expected: bytes | None = None) -> files.Saved:
    """Write `value` at `site`, changing nothing else in the file; atomic. With `expected` (the bytes the
    value was read from), a file changed meanwhile is refused rather than overwritten."""
    text = files.read(site.file)
    if expected is not None and text.raw != expected:
        raise EditRefused("the file changed since the editor opened", file=site.file, step_id=site.step_id,
                          hint="Esc, then open the editor again to edit the new content")
    if site.format == "json":
        body = json_value.replace_value(text.body, site.path, value, file=site.file)
    else:
        body = yaml_value.replace_scalar(text.body, site.path, value, file=site.file)
    data = text.encode(body)
    files.write_atomic(site.file, data)
    return files.Saved(site.file, text.raw, data, site.what)


def editor_target(step: Step, key: str | None = None) -> tuple[Path, int]:
    """The file to open for `step` and the line to open it at (the key's, else the step's, else 1)."""
    source = step.source
    if source is None:
        raise EditRefused(f"step '{step.id}' has no source file", step_id=step.id)
    line = source.line or step.line or 1
    if source.kind == "cfg":
        line = 1
    if key is not None:
        try:
            line = read_value(value_site(step, key)).line
        except EditRefused:
            pass
    return source.file, line
