"""Which built-in drivers need an optional extra (`pip install 'osiris-tui[mysql]'`), checked before a run.

`pip install osiris-tui` brings the debugger with the CSV and DuckDB drivers; the database drivers'
client libraries come with an extra. A step whose driver's libraries are missing is bad input, reported
at load (exit 2) with the command that installs them — found without importing them, so the check
costs nothing.
"""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

from osiris_tui.errors import InputError

if TYPE_CHECKING:
    from osiris_tui.manifest.model import Pipeline, Step


@dataclass(frozen=True)
class Extra:
    name: str  # the extra: `osiris-tui[<name>]`
    modules: tuple[str, ...]  # what a driver of this family cannot run without
    brings: str  # what the extra installs, for the message

    @property
    def command(self) -> str:
        return f"pip install 'osiris-tui[{self.name}]'"


MYSQL = Extra("mysql", ("pymysql",), "PyMySQL and connectorx")
SUPABASE = Extra("supabase", ("supabase", "postgrest", "httpx", "psycopg"), "supabase-py and psycopg")

# Built-in driver → its extra (drivers not listed need only the base install).
DRIVER_EXTRAS: dict[str, Extra] = {
    "mysql.extractor": MYSQL,
    "mysql.writer": MYSQL,
    "supabase.extractor": SUPABASE,
    "supabase.writer": SUPABASE,
}


def is_installed(module: str) -> bool:
    """Whether `module` can be imported (found on the path; not imported)."""
    if module in sys.modules:
        return sys.modules[module] is not None
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def missing_modules(driver: str) -> tuple[Extra, list[str]] | None:
    """The extra `driver` needs and its missing modules, or None when nothing is missing."""
    extra = DRIVER_EXTRAS.get(driver)
    if extra is None:
        return None
    missing = [m for m in extra.modules if not is_installed(m)]
    return (extra, missing) if missing else None


def install_command(extras: list[Extra]) -> str:
    """`pip install 'osiris-tui[mysql]'` (or `[mysql,supabase]` for several)."""
    return f"pip install 'osiris-tui[{','.join(e.name for e in extras)}]'"


def require_extras(pipeline: Pipeline, steps: list[Step]) -> None:
    """Raise an InputError when a step's built-in driver needs an extra that is not installed: it names
    the first such step, its driver and the missing modules, and installs every extra the pipeline lacks."""
    found: list[tuple[Step, Extra, list[str]]] = []
    for step in steps:
        missing = missing_modules(step.driver)
        if missing is not None and all(extra is not missing[0] for _, extra, _ in found):
            found.append((step, *missing))
    if not found:
        return
    step, extra, modules = found[0]
    others = "".join(f"; step '{s.id}' ({s.driver}) needs the '{e.name}' extra too" for s, e, _ in found[1:])
    raise InputError(
        f"driver '{step.driver}' needs the '{extra.name}' extra ({extra.brings}), which is not installed "
        f"(missing: {', '.join(modules)}){others}",
        file=pipeline.path, line=step.line, step_id=step.id,
        hint=f"{install_command([e for _, e, _ in found])}, then run again",
    )
