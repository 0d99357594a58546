"""Our component specs: the modes each built-in component runs in, its config keys and their defaults.

They mirror the `configSchema` of Osiris's `components/*/spec.yaml` (defaults included, because the
compiler writes them into every cfg). Components without a spec here (plugin drivers) accept any key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

NO_DEFAULT: Any = object()

OML_MODES = {"read": "extract", "write": "write", "transform": "transform"}
"""OML canonical mode → the mode written into the cfg (Osiris's ModeMapper)."""


@dataclass(frozen=True)
class ComponentSpec:
    """Modes (component form: extract/write/transform), config keys → default, and secret key names."""

    name: str
    modes: tuple[str, ...]
    properties: dict[str, Any]
    secrets: frozenset[str] = field(default_factory=frozenset)
    key_columns: tuple[str, ...] = ("primary_key",)

    def defaults(self) -> dict[str, Any]:
        """Keys with a default (except `mode`, which the compiler never fills in)."""
        return {k: v for k, v in self.properties.items() if v is not NO_DEFAULT and k != "mode"}

    @property
    def allowed_keys(self) -> list[str]:
        return sorted({*self.properties, "connection"})

    @property
    def oml_modes(self) -> list[str]:
        return [oml for oml, comp in OML_MODES.items() if comp in self.modes]


def _spec(name: str, modes: tuple[str, ...], props: dict[str, Any], **kw: Any) -> ComponentSpec:
    return ComponentSpec(name, modes, props, **kw)


_ND = NO_DEFAULT

SPECS: dict[str, ComponentSpec] = {
    s.name: s
    for s in (
        _spec("filesystem.csv_extractor", ("extract",), {
            "path": _ND, "delimiter": ",", "encoding": "utf-8", "header": True, "columns": _ND,
            "skip_rows": 0, "limit": _ND, "parse_dates": False, "dtype": _ND, "na_values": _ND,
            "chunk_size": 10000, "comment": _ND, "skip_blank_lines": True, "compression": "infer",
        }),
        _spec("filesystem.csv_writer", ("write",), {
            "path": _ND, "delimiter": ",", "header": True, "encoding": "utf-8", "newline": "lf",
            "quoting": "minimal", "chunk_size": 1000, "create_dirs": True,
        }),
        _spec("duckdb.processor", ("transform",), {"query": _ND}),
        _spec("mysql.extractor", ("extract",), {
            "host": "localhost", "port": 3306, "database": _ND, "user": _ND, "password": _ND, "table": _ND,
            "schema": _ND, "query": _ND, "columns": _ND, "limit": _ND, "offset": 0, "batch_size": 10000,
            "pool_size": 5, "pool_recycle": 3600, "echo": False,
        }, secrets=frozenset({"password"})),
        _spec("mysql.writer", ("write",), {
            "host": _ND, "port": _ND, "database": _ND, "user": _ND, "password": _ND, "schema": _ND,
            "table": _ND, "mode": "append", "write_mode": _ND, "primary_key": _ND, "upsert_keys": _ND,
            "batch_size": 1000, "create_if_missing": _ND, "create_table": False, "truncate_before": False,
        }, secrets=frozenset({"password"}), key_columns=("primary_key", "upsert_keys")),
        _spec("supabase.extractor", ("extract",), {
            "key": _ND, "table": _ND, "schema": "public", "select": "*", "filter": _ND, "order": _ND,
            "limit": _ND, "offset": 0, "page_size": 1000, "timeout": 30, "retries": 3,
        }, secrets=frozenset({"key"})),
        _spec("supabase.writer", ("write",), {
            "key": _ND, "table": _ND, "schema": "public", "mode": _ND, "write_mode": "append",
            "primary_key": _ND, "returning": "minimal", "create_if_missing": True, "batch_size": 100,
            "timeout": 30, "retries": 3, "prefer": "return=minimal", "ddl_channel": "auto",
        }, secrets=frozenset({"key"})),
    )
}


def get_spec(name: str) -> ComponentSpec | None:
    """Our spec for a component, or None for components we do not know (plugins)."""
    return SPECS.get(name)
