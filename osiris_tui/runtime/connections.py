"""Connection files (`osiris_connections.yaml`), `@family.alias` references, `${VAR}` and the default alias.

Lookup: `--connections FILE`, then the first `osiris_connections.yaml` found in `$OSIRIS_HOME`, the
manifest's directory, the working directory and its parent. `.env` files (`$OSIRIS_HOME`, the manifest's
directory, the working directory) fill in variables that the environment does not set.
Unlike Osiris, `${VAR:-default}` works and a missing variable names the variable, the file and the alias.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from osiris_tui.errors import ConnectionConfigError
from osiris_tui.manifest.yamlio import kind_of, line_of, mark_of, parse_yaml, read_text
from osiris_tui.secrets import MASK, is_secret_key, mask_text, mask_value, register_secret, register_secrets

FILE_NAME = "osiris_connections.yaml"
# Families whose steps resolve nothing unless the config names a connection (as in Osiris's runner).
OPTIONAL_FAMILIES = {"duckdb", "filesystem"}
# Families whose drivers cannot work without a connection.
REQUIRED_FAMILIES = {"mysql", "supabase"}

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


@dataclass(frozen=True)
class EnvUse:
    """An environment variable a connection field used."""

    name: str
    field: str
    is_set: bool
    default: str | None = None
    secret: bool = False


@dataclass(repr=False)
class ResolvedConnection:
    """A connection as a step's driver receives it, plus where each part came from.

    `fields` hold the real secret values (the driver needs them); show `masked()` and `masked_env()`."""

    family: str
    alias: str
    reference: str | None  # "@mysql.shop", or None when the default alias was used
    file: Path | None
    fields: dict[str, Any]
    env: list[EnvUse] = field(default_factory=list)

    @property
    def is_default(self) -> bool:
        return self.reference is None

    @property
    def label(self) -> str:
        return self.reference or f"@{self.family}.{self.alias} (default)"

    def masked(self) -> dict[str, Any]:
        """The fields with every secret masked (by key, and registered values inside other fields)."""
        return mask_value(self.fields)

    def masked_env(self) -> list[EnvUse]:
        """The environment variables used, with the default of a secret one masked."""
        return [replace(u, default=None if u.default is None else MASK if u.secret else mask_text(u.default))
                for u in self.env]

    def __repr__(self) -> str:
        return (f"ResolvedConnection(family={self.family!r}, alias={self.alias!r}, reference={self.reference!r}, "
                f"file={self.file!r}, fields={self.masked()!r})")


def parse_dotenv(path: Path) -> dict[str, str]:
    """`KEY=value` lines (optionally `export`, quoted values, `#` comments).

    The file must be a regular UTF-8 text file without NUL characters (a :class:`ConnectionConfigError`
    names the line otherwise).
    """
    text = read_text(path, what=".env file", error=ConnectionConfigError)
    values: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        else:
            value = value.split(" #", 1)[0].strip()
        values[key.strip()] = value
    return values


def build_env(search_dirs: list[Path], base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment with `.env` values filled in where a variable is not already set."""
    env = dict(os.environ if base is None else base)
    for directory in search_dirs:
        dotenv = directory / ".env"
        if dotenv.is_file():
            for k, v in parse_dotenv(dotenv).items():
                env.setdefault(k, v)
    return env


def _search_dirs(manifest_dir: Path | None, env: Mapping[str, str]) -> list[Path]:
    dirs: list[Path] = []
    if env.get("OSIRIS_HOME"):
        dirs.append(Path(env["OSIRIS_HOME"]).expanduser())
    if manifest_dir is not None:
        dirs.append(manifest_dir)
    cwd = Path.cwd()
    dirs += [cwd, cwd.parent]
    unique: list[Path] = []
    for d in dirs:
        if d.resolve() not in [u.resolve() for u in unique]:
            unique.append(d)
    return unique


def find_connections_file(manifest_dir: Path | None, env: Mapping[str, str] | None = None) -> Path | None:
    for directory in _search_dirs(manifest_dir, os.environ if env is None else env):
        candidate = directory / FILE_NAME
        if candidate.is_file():
            return candidate
    return None


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except (OSError, ValueError):
        return True  # reading it reports why it cannot be used


def _check_keys(doc: Any, path: Path) -> None:
    """Every mapping key in a connections file is a non-empty string (not null, a number or a boolean)."""
    todo: list[tuple[Any, str]] = [(doc, "")]
    while todo:
        node, where = todo.pop()
        if isinstance(node, list):
            todo.extend((item, f"{where}[{i}]") for i, item in enumerate(node))
            continue
        if not isinstance(node, dict):
            continue
        for key, value in node.items():
            if not isinstance(key, str) or not key:
                mark = mark_of(node, key)
                what = "a null key (~)" if key is None else "an empty key" if key == "" else f"a {kind_of(key)} key"
                raise ConnectionConfigError(
                    f"{what} in {where or 'the top level'}"
                    + (f" at line {mark[0]}" if mark else ""),
                    file=path, line=mark[0] if mark else None, column=mark[1] if mark else None,
                    hint="family, alias and field names must be strings; quote the key",
                )
            todo.append((value, f"{where}.{key}" if where else key))


class Connections:
    """The connections of one file (or none) and the environment used to resolve them."""

    def __init__(self, path: Path | None, env: Mapping[str, str] | None = None) -> None:
        self.path = path
        self.env = dict(os.environ if env is None else env)
        self.data: dict[str, dict[str, dict[str, Any]]] = {}
        self._doc: Any = None
        if path is not None:
            self._load(path)

    @classmethod
    def discover(
        cls, manifest_dir: Path | None, explicit: Path | None = None, env: Mapping[str, str] | None = None
    ) -> Connections:
        """Find the connections file and `.env` files as described in the module docstring."""
        base_env = os.environ if env is None else env
        dirs = _search_dirs(manifest_dir, base_env)
        full_env = build_env(dirs, base_env)
        if explicit is not None:
            if not _exists(explicit):
                raise ConnectionConfigError(
                    "connections file not found", file=explicit, hint="check the --connections path"
                )
            return cls(explicit, full_env)
        return cls(find_connections_file(manifest_dir, base_env), full_env)

    def _load(self, path: Path) -> None:
        text = read_text(path, what="connections file", error=ConnectionConfigError)
        doc = parse_yaml(text, path, error=ConnectionConfigError)
        if doc is None:
            return
        _check_keys(doc, path)
        conns = doc.get("connections") if isinstance(doc, dict) else None
        if not isinstance(conns, dict):
            raise ConnectionConfigError(
                "expected a top-level 'connections' mapping of family → alias → fields",
                file=path,
                hint="see the Connections section of the README",
            )
        for family, aliases in conns.items():
            if not isinstance(aliases, dict) or not all(isinstance(v, dict) for v in aliases.values()):
                raise ConnectionConfigError(
                    f"family '{family}' must map aliases to field mappings",
                    file=path,
                    line=line_of(doc, "connections", family),
                    key=f"connections.{family}",
                )
        self.data = conns
        self._doc = doc

    # -- resolution -----------------------------------------------------------------------------
    def aliases(self, family: str) -> list[str]:
        return list(self.data.get(family, {}))

    def resolve_reference(
        self, reference: str | None, family: str, step_id: str | None = None
    ) -> ResolvedConnection | None:
        """Resolve a step's `connection` value (or the family default when it is None)."""
        ctx = {"step_id": step_id, "key": "connection"}
        if reference is None:
            if family in OPTIONAL_FAMILIES:
                return None
            if family not in self.data:
                if family not in REQUIRED_FAMILIES:
                    return None
                raise self._error(
                    f"No connections configured for family '{family}'",
                    hint=f"add connections.{family}.<alias> to {FILE_NAME} (or pass --connections FILE)",
                    **ctx,
                )
            return self._resolve(family, self._default_alias(family, step_id), None)
        if not isinstance(reference, str) or not reference.startswith("@") or "." not in reference:
            raise self._error(
                f"Invalid connection reference format '{reference}'",
                hint=f"use '@family.alias', e.g. '@{family}.default'",
                **ctx,
            )
        ref_family, alias = reference[1:].split(".", 1)
        if ref_family != family:
            raise self._error(
                f"connection '{reference}' is of family '{ref_family}' but the step's component is '{family}'",
                hint=f"use a '@{family}.<alias>' connection",
                **ctx,
            )
        if family not in self.data:
            raise self._error(
                f"Connection family '{family}' not found"
                + (f" in {self.path}" if self.path else ": no connections file was found"),
                hint=f"add connections.{family}.{alias} to {FILE_NAME} (or pass --connections FILE)",
                **ctx,
            )
        if alias not in self.data[family]:
            raise self._error(
                f"unknown connection alias '{alias}' for family '{family}'",
                hint=f"known aliases: {', '.join(self.aliases(family)) or '(none)'}",
                **ctx,
            )
        return self._resolve(family, alias, reference)

    def _default_alias(self, family: str, step_id: str | None) -> str:
        aliases = self.data[family]
        for alias, fields in aliases.items():
            if fields.get("default") is True:
                return alias
        if "default" in aliases:
            return "default"
        raise self._error(
            f"No default connection for family '{family}'; aliases: {', '.join(aliases)}",
            step_id=step_id,
            key="connection",
            hint=f"set connection: '@{family}.<alias>' in the step, or mark one alias 'default: true'",
        )

    def _resolve(self, family: str, alias: str, reference: str | None) -> ResolvedConnection:
        raw = {k: v for k, v in self.data[family][alias].items() if k != "default"}
        uses: list[EnvUse] = []
        fields = {k: self._substitute(v, k, family, alias, uses) for k, v in raw.items()}
        missing = [u for u in uses if not u.is_set and u.default is None]
        if missing:
            u = missing[0]
            raise self._error(
                f"Environment variable '{u.name}' not set for {u.field} in {family}.{alias}",
                line=line_of(self._doc, "connections", family, alias, u.field),
                key=f"connections.{family}.{alias}.{u.field}",
                hint=f"export {u.name}=… or add it to a .env file next to the manifest",
            )
        base_dir = fields.get("base_dir")
        if isinstance(base_dir, str) and self.path is not None and not Path(base_dir).expanduser().is_absolute():
            # A relative base_dir means "relative to the connections file", wherever the user runs from.
            fields["base_dir"] = str((self.path.parent / base_dir).resolve())
        register_secrets(fields)
        for use in uses:
            if use.secret:
                register_secret(self.env.get(use.name))
        return ResolvedConnection(family, alias, reference, self.path, fields, uses)

    def _substitute(self, value: Any, key: str, family: str, alias: str, uses: list[EnvUse]) -> Any:
        if isinstance(value, dict):
            return {k: self._substitute(v, k, family, alias, uses) for k, v in value.items()}
        if isinstance(value, list):
            return [self._substitute(v, key, family, alias, uses) for v in value]
        if not isinstance(value, str):
            return value

        def replace(m: re.Match[str]) -> str:
            name, default = m.group(1), m.group(2)
            current = self.env.get(name)
            is_set = current not in (None, "")
            uses.append(EnvUse(name, key, is_set, default, is_secret_key(key) or is_secret_key(name)))
            if is_set:
                return current  # type: ignore[return-value]
            return default if default is not None else m.group(0)

        return _VAR.sub(replace, value)

    def _error(self, message: str, **kw: Any) -> ConnectionConfigError:
        kw.setdefault("file", self.path)
        return ConnectionConfigError(message, **kw)
