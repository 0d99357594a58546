"""User settings: `config.toml` in the user's config directory and `.osiris-tui.toml` next to the manifest.

The user file (`$XDG_CONFIG_HOME/osiris-tui/config.toml`, else `~/.config/osiris-tui/config.toml`) is
read first, then the project file beside the manifest, which overrides it key by key (keymap entries one
binding at a time); command-line flags override both. Every value is checked here for its type and
shape; names that only the app knows (themes, binding ids, step ids) are checked against what it has by
:meth:`Settings.check`. A problem is an :class:`InputError` naming the file, the line, the key and the fix.

    theme = "nord"                  # a Textual theme name (--theme overrides)
    cache_budget = "2GB"            # memory for cached step outputs: bytes, or B/KB/MB/GB/TB, KiB…TiB

    [breakpoints]
    default = ["join"]              # pause before these steps at every start (project file only)
    remember = true                 # keep the breakpoints toggled in the app (.osiris-tui/breakpoints.json)
    continue_on_start = false       # as --run: continue to the first breakpoint at once

    [keymap]                        # binding id = Textual key names, comma separated
    "osiris.step" = "j,f10"
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from osiris_tui.errors import InputError

USER_FILE = Path("osiris-tui") / "config.toml"
PROJECT_FILE = ".osiris-tui.toml"

# key → (type check, what it must be) for each table; "" is the top level.
_SCALARS: dict[str, dict[str, tuple[type | tuple[type, ...], str]]] = {
    "": {"theme": (str, "a theme name"), "cache_budget": ((str, int), 'a size such as "2GB" or "512MiB"')},
    "breakpoints": {"default": (list, "a list of step ids"), "remember": (bool, "true or false"),
                    "continue_on_start": (bool, "true or false")},
}
_TABLES = ("breakpoints", "keymap")

_UNITS = {"": 1, "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
          "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40}
_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*")
_TOML_POSITION = re.compile(r"\(at line (\d+), column (\d+)\)")


@dataclass(frozen=True)
class Origin:
    """Where a setting came from: a file and line, or a command-line flag (`file` is then the flag)."""

    file: str
    line: int | None = None

    def error(self, message: str, *, key: str, hint: str) -> InputError:
        if self.file.startswith("--"):
            return InputError(f"{self.file}: {message}", hint=hint)
        return InputError(message, file=self.file, line=self.line, key=key, hint=hint)


@dataclass(frozen=True)
class Settings:
    """The merged settings; `origins` says where each set key (`theme`, `keymap.<id>`, …) came from."""

    theme: str | None = None
    keymap: Mapping[str, str] = field(default_factory=dict)  # binding id → keys
    default_breakpoints: tuple[str, ...] = ()
    remember_breakpoints: bool = True
    continue_on_start: bool = False
    cache_budget: int | None = None  # bytes; None: no budget set
    files: tuple[Path, ...] = ()  # the files read, lowest precedence first
    origins: Mapping[str, Origin] = field(default_factory=dict)

    def with_theme(self, theme: str | None, origin: str = "--theme") -> Settings:
        """These settings with `theme` from the command line (None: unchanged)."""
        if theme is None:
            return self
        return _replace(self, theme=theme, origins={**self.origins, "theme": Origin(origin)})

    def check(self, *, themes: Collection[str], binding_ids: Collection[str]) -> None:
        """The names only the app knows: the theme and each keymap binding id."""
        if self.theme is not None and self.theme not in themes:
            raise self.origins["theme"].error(
                f"no theme {self.theme!r}", key="theme",
                hint=_did_you_mean(self.theme, themes) + "themes: " + ", ".join(sorted(themes)))
        for binding_id in self.keymap:
            if binding_id not in binding_ids:
                key = f"keymap.{binding_id}"
                raise self.origins[key].error(
                    f"no key binding with id {binding_id!r}", key=key,
                    hint=_did_you_mean(binding_id, binding_ids) + "ids: " + ", ".join(binding_ids))

    def check_steps(self, step_ids: Collection[str]) -> None:
        """Each default breakpoint names a step of the pipeline."""
        for step_id in self.default_breakpoints:
            if step_id not in step_ids:
                raise self.origins["breakpoints.default"].error(
                    f"no step {step_id!r} in the pipeline", key="breakpoints.default",
                    hint=_did_you_mean(step_id, step_ids) + "steps: " + ", ".join(step_ids))


def _replace(settings: Settings, **changes: Any) -> Settings:
    values = {name: getattr(settings, name) for name in Settings.__dataclass_fields__}
    values.update(changes)
    return Settings(**values)


def user_config_path(environ: Mapping[str, str] | None = None) -> Path:
    """`$XDG_CONFIG_HOME/osiris-tui/config.toml` (an absolute XDG_CONFIG_HOME only, as the spec says),
    else `~/.config/osiris-tui/config.toml`."""
    env = os.environ if environ is None else environ
    base = env.get("XDG_CONFIG_HOME", "")
    root = Path(base) if base and os.path.isabs(base) else Path.home() / ".config"
    return root / USER_FILE


def project_config_path(manifest: Path) -> Path:
    return manifest.parent / PROJECT_FILE


def load_settings(manifest: Path | None = None, *, user_file: Path | None = None) -> Settings:
    """The user file, then (given a manifest) the project file beside it; a missing file is skipped."""
    files = [(user_file or user_config_path(), False)]
    if manifest is not None:
        files.append((project_config_path(manifest), True))
    merged: dict[str, Any] = {}
    keymap: dict[str, str] = {}
    origins: dict[str, Origin] = {}
    read: list[Path] = []
    for path, project in files:
        parsed = _read(path, project=project)
        if parsed is None:
            continue
        read.append(path)
        values, file_keymap, file_origins = parsed
        merged.update(values)
        keymap.update(file_keymap)
        origins.update(file_origins)
    return Settings(keymap=keymap, files=tuple(read), origins=origins, **merged)


def parse_size(text: str | int) -> int:
    """`"2GB"` → 2000000000, `"512MiB"` → 536870912, `1024` → 1024 (ValueError when it is not a size)."""
    if isinstance(text, bool):
        raise ValueError(text)
    if isinstance(text, int):
        if text < 0:
            raise ValueError(text)
        return text
    match = _SIZE.fullmatch(text)
    if match is None or match.group(2).upper() not in _UNITS:
        raise ValueError(text)
    number, unit = match.groups()
    scale = _UNITS[unit.upper()]
    return int(float(number) * scale) if "." in number else int(number) * scale


# -- one file -------------------------------------------------------------------------------------------
def _read(path: Path, *, project: bool) -> tuple[dict[str, Any], dict[str, str], dict[str, Origin]] | None:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "it is not UTF-8 text"
        raise InputError(f"cannot read the settings file: {reason}", file=path,
                         hint="fix its permissions or encoding, or remove it") from None
    import tomllib  # (only when there is a settings file)

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        position = _TOML_POSITION.search(message)
        raise InputError(f"not valid TOML: {_TOML_POSITION.sub('', message).strip()}", file=path,
                         line=int(position.group(1)) if position else None,
                         column=int(position.group(2)) if position else None,
                         hint="see the Settings section of the README for the format") from None
    return _FileReader(path, text, project=project).read(data)


class _FileReader:
    """Checks one parsed file and turns it into Settings field values, with an origin for each."""

    def __init__(self, path: Path, text: str, *, project: bool) -> None:
        self.path = path
        self.lines = text.splitlines()
        self.project = project
        self.origins: dict[str, Origin] = {}

    def origin(self, table: str, key: str) -> Origin:
        return Origin(str(self.path), _line_of(self.lines, table, key))

    def fail(self, table: str, key: str, message: str, hint: str) -> InputError:
        dotted = f"{table}.{key}" if table else key
        return self.origin(table, key).error(message, key=dotted, hint=hint)

    def read(self, data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str], dict[str, Origin]]:
        values: dict[str, Any] = {}
        keymap: dict[str, str] = {}
        known = [*_SCALARS[""], *_TABLES]
        for key, value in data.items():
            if key not in known:
                raise self.fail("", key, "unknown setting", _did_you_mean(key, known) + "settings: "
                                + ", ".join(known))
            if key in _TABLES and not isinstance(value, dict):
                raise self.fail("", key, f"must be a table ([{key}])", f"write [{key}] on a line, its keys below")
        for key, value in data.items():
            if key == "keymap":
                keymap = self.keymap(value)
            elif key == "breakpoints":
                values.update(self.breakpoints(value))
            else:
                values.update(self.top(key, value))
        return values, keymap, self.origins

    def checked(self, table: str, key: str, value: Any) -> Any:
        expected, what = _SCALARS[table][key]
        # (a TOML boolean is a Python int: `cache_budget = true` is not a size)
        if isinstance(value, bool) is not (expected is bool) or not isinstance(value, expected):
            raise self.fail(table, key, f"must be {what}, not {_toml_type(value)}", f"e.g. {_example(table, key)}")
        self.origins[f"{table}.{key}" if table else key] = self.origin(table, key)
        return value

    def top(self, key: str, value: Any) -> dict[str, Any]:
        value = self.checked("", key, value)
        if key == "theme":
            if not value.strip():
                raise self.fail("", key, "must not be empty", 'e.g. theme = "nord", or remove the line')
            return {"theme": value}
        try:
            size = parse_size(value)
        except ValueError:
            raise self.fail("", key, f"not a size: {value!r}",
                            'e.g. cache_budget = "2GB"; units: B, KB, MB, GB, TB, KiB, MiB, GiB, TiB') from None
        if size <= 0:
            raise self.fail("", key, "must be more than 0", 'e.g. cache_budget = "2GB", or remove the line')
        return {"cache_budget": size}

    def breakpoints(self, table: dict[str, Any]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        known = list(_SCALARS["breakpoints"])
        for key, value in table.items():
            if key not in known:
                raise self.fail("breakpoints", key, "unknown setting",
                                _did_you_mean(key, known) + "[breakpoints] takes: " + ", ".join(known))
            value = self.checked("breakpoints", key, value)
            if key == "default":
                if not self.project:
                    raise self.fail("breakpoints", key, "default breakpoints name one pipeline's steps",
                                    f"put them in {PROJECT_FILE} next to the manifest")
                if not all(isinstance(step, str) and step for step in value):
                    raise self.fail("breakpoints", key, "must be a list of step ids (strings)",
                                    'e.g. default = ["join"]')
                values["default_breakpoints"] = tuple(dict.fromkeys(value))
            elif key == "remember":
                values["remember_breakpoints"] = value
            else:
                values["continue_on_start"] = value
        return values

    def keymap(self, table: dict[str, Any]) -> dict[str, str]:
        keymap: dict[str, str] = {}
        # `osiris.step = "j"` unquoted is a nested table in TOML; it means the binding id "osiris.step".
        for binding_id, value in _flatten(table):
            if not isinstance(value, str):
                raise self.fail("keymap", binding_id, f"must be a string of keys, not {_toml_type(value)}",
                                f'e.g. "{binding_id}" = "j,f10"')
            keys = [k.strip() for k in value.split(",")]
            if not all(keys) or any(re.search(r"\s", k) for k in keys):
                raise self.fail("keymap", binding_id, f"not a list of keys: {value!r}",
                                'Textual key names, comma separated, e.g. "j,f10" or "ctrl+n"')
            keymap[binding_id] = ",".join(keys)
            self.origins[f"keymap.{binding_id}"] = self.origin("keymap", binding_id)
        return keymap


def _flatten(table: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    items: list[tuple[str, Any]] = []
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            items.extend(_flatten(value, name + "."))
        else:
            items.append((name, value))
    return items


def _line_of(lines: list[str], table: str, key: str) -> int | None:
    """The 1-based line where `key` is set in `[table]` ("" the top level), if a simple scan finds it."""
    current = ""
    head = re.compile(r"\s*\[\s*([^\]]+?)\s*\]\s*(#.*)?$")
    wanted = re.compile(r"\s*[\"']?" + re.escape(key) + r"[\"']?\s*[=.]")
    dotted = re.compile(r"\s*" + re.escape(table) + r"\s*\.\s*[\"']?" + re.escape(key) + r"[\"']?\s*[=.]")
    for number, line in enumerate(lines, 1):
        found = head.match(line)
        if found:
            current = found.group(1)
            continue
        if current == table and wanted.match(line):
            return number
        if table and current == "" and dotted.match(line):
            return number
    # else the `[table]` header (an inline or nested table), or a top-level key written as a table
    for number, line in enumerate(lines, 1):
        found = head.match(line)
        if found and found.group(1) == (table or key):
            return number
    return None


def _did_you_mean(name: str, choices: Collection[str]) -> str:
    import difflib

    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}? " if close else ""


def _toml_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__


def _example(table: str, key: str) -> str:
    return {
        "theme": 'theme = "nord"',
        "cache_budget": 'cache_budget = "2GB"',
        "breakpoints.default": 'default = ["join"]',
        "breakpoints.remember": "remember = false",
        "breakpoints.continue_on_start": "continue_on_start = true",
    }[f"{table}.{key}" if table else key]
