"""Breakpoints on data: before or after a step, enabled or not, with a DuckDB condition and an ignore count.

A breakpoint's condition is a SQL boolean over one frame: the step's output (`after`) or its first
input (`before`): `count(*) = 0`, `avg((customer_id IS NULL)::INT) > 0.05`, `max(amount) > 1e6`. It
holds when `SELECT (<condition>) FROM frame` yields a true row (an aggregate gives one row; a row-wise
condition such as `amount < 0` holds when any row makes it true). DuckDB evaluates it on the Arrow
table where it lies, on a private connection that cannot touch files. The first `ignore_count` hits
are skipped, as pudb's are.

Breakpoints are saved next to the manifest (`<manifest dir>/.osiris-tui/breakpoints.json`, keyed by
the manifest's file name) so that reopening a pipeline brings them back. The older file (a list of
step ids per absolute manifest path under the working directory's `.osiris-tui/`) is still read.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import threading
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from osiris_tui.errors import InputError
from osiris_tui.frames.sql_errors import condition_error
from osiris_tui.secrets import mask_text

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

When = Literal["before", "after"]
WHENS: tuple[When, ...] = ("before", "after")

STORE_DIR = ".osiris-tui"
STORE_NAME = "breakpoints.json"
LEGACY_STORE = Path(STORE_DIR) / STORE_NAME  # relative to the working directory


@dataclass(frozen=True)
class Breakpoint:
    step_id: str
    when: When = "before"
    condition: str | None = None
    enabled: bool = True
    ignore_count: int = 0

    @property
    def key(self) -> tuple[str, When]:
        return self.step_id, self.when

    @property
    def plain(self) -> bool:
        """A breakpoint as `b` sets it: before the step, always, from the first hit."""
        return self.when == "before" and self.condition is None and self.enabled and self.ignore_count == 0

    def spec(self) -> str:
        """The `--break` spelling of this breakpoint (its enabled flag and ignore count aside)."""
        text = self.step_id if self.when == "before" and not self.condition else f"{self.when}:{self.step_id}"
        return f"{text} if {self.condition}" if self.condition else text

    def describe(self) -> str:
        """`after extract-orders: count(*) = 0`, plus what else is set."""
        text = f"{self.when} {self.step_id}" + (f": {self.condition}" if self.condition else "")
        extras = [] if self.enabled else ["disabled"]
        if self.ignore_count:
            extras.append(f"ignore {self.ignore_count}")
        return text + (f" ({', '.join(extras)})" if extras else "")

    def to_json(self) -> dict[str, Any]:
        """As saved: a secret value typed into the condition is masked (it never reaches the disk)."""
        data = asdict(self)
        if self.condition:
            data["condition"] = mask_text(self.condition)
        return data

    @classmethod
    def from_json(cls, data: Any) -> Breakpoint | None:
        """From a saved entry: a step id (older files) or an object; None when it is not one."""
        if isinstance(data, str):
            return cls(data)
        if not isinstance(data, dict) or not isinstance(data.get("step_id"), str):
            return None
        when = data.get("when", "before")
        condition = data.get("condition")
        ignore = data.get("ignore_count", 0)
        if when not in WHENS or not (condition is None or isinstance(condition, str)):
            return None
        if not isinstance(ignore, int) or isinstance(ignore, bool) or ignore < 0:
            ignore = 0
        return cls(data["step_id"], when, condition.strip() or None if condition else None,
                   data.get("enabled", True) is not False, ignore)


@dataclass(frozen=True)
class BreakpointHit:
    """Why the run stopped at a breakpoint (or could not tell whether it should)."""

    breakpoint: Breakpoint
    error: str | None = None  # the condition could not be evaluated

    @property
    def message(self) -> str:
        bp = self.breakpoint
        where = f"{bp.when} {bp.step_id}"
        if self.error is not None:
            return f"{where}: the condition {bp.condition} failed: {self.error}"
        return f"{where}: {bp.condition} was true" if bp.condition else where


# -- the --break spelling -------------------------------------------------------------------------------
_SPEC = re.compile(r"^\s*(?:(before|after)\s*:\s*)?(.*?)(?:\s+if\b\s*(.*))?\s*$", re.DOTALL | re.IGNORECASE)


def parse_spec(spec: str, step_ids: Iterable[str] | None = None, *, option: str = "--break") -> Breakpoint:
    """`STEP`, `after:STEP`, `before:STEP if count(*) = 0` → a Breakpoint; InputError naming the problem.

    With `step_ids`, the step must be one of them. The condition's syntax is checked here (its columns
    only when the frame is there, as the step runs).
    """
    match = _SPEC.match(spec)
    if match is None or not match.group(2).strip():
        raise InputError(f"{option} {spec!r}: expected STEP, before:STEP or after:STEP, optionally "
                         "followed by 'if CONDITION'", hint="e.g. --break 'after:extract-orders if count(*) = 0'")
    when = (match.group(1) or "before").lower()
    step_id = match.group(2).strip()
    condition = (match.group(3) or "").strip() or None
    if match.group(3) is not None and condition is None:
        raise InputError(f"{option} {spec!r}: nothing after 'if'", hint="e.g. 'after:STEP if count(*) = 0'")
    known = list(step_ids) if step_ids is not None else None
    if known is not None and step_id not in known:
        raise InputError(f"{option} {spec!r}: no such step {step_id!r}", hint=f"steps: {', '.join(known)}")
    if condition is not None:
        try:
            check_condition(condition)
        except ConditionError as exc:
            raise InputError(f"{option} {spec!r}: {exc.located(condition)}",
                             hint="the condition is a DuckDB SQL boolean, e.g. count(*) = 0") from None
    return Breakpoint(step_id, when, condition)  # type: ignore[arg-type]


# -- conditions ---------------------------------------------------------------------------------------
class ConditionError(Exception):
    """A condition DuckDB rejects. `position` is the 0-based offset into the condition it points at."""

    def __init__(self, message: str, position: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.position = position

    def located(self, condition: str) -> str:
        """The message with where it is: `… (at column 7: "> 0")`."""
        if self.position is None:
            return self.message
        near = condition[self.position:self.position + 12]
        return f"{self.message} (at column {self.position + 1}" + (f": {near!r})" if near else ", the end)")


_PREFIX = "SELECT ("
_SUFFIX = ") AS hit FROM frame"
_local = threading.local()


def _connection() -> duckdb.DuckDBPyConnection:
    """One private connection per thread, which cannot read or write files."""
    con = getattr(_local, "con", None)
    if con is None:
        import duckdb

        con = _local.con = duckdb.connect(config={"enable_external_access": False})
    return con


def _error(exc: Exception, executed: str, condition: str) -> ConditionError:
    text, position = condition_error(str(exc), executed, _PREFIX, condition)
    return ConditionError(text.split("\n")[0] or "invalid condition", position)


def _sql(condition: str) -> str:
    if not condition.strip():
        raise ConditionError("the condition is empty", 0)
    return f"{_PREFIX}{condition}{_SUFFIX}"


def check_condition(condition: str, table: pa.Table | None = None) -> None:
    """Raise ConditionError unless `condition` is one true/false expression over `table` (without a
    table, only its syntax is checked). Nothing is evaluated: a zero-row slice of `table` is bound."""
    import duckdb

    sql = _sql(condition)
    con = _connection()
    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as exc:
        raise _error(exc, sql, condition) from None
    if len(statements) != 1:
        raise ConditionError("the condition must be one expression (no ';')", condition.find(";"))
    if table is None:
        return
    con.register("frame", table.slice(0, 0))
    try:
        described = con.execute(f"DESCRIBE {sql}").fetchall()
    except duckdb.Error as exc:
        raise _error(exc, f"DESCRIBE {sql}", condition) from None
    finally:
        con.unregister("frame")
    if len(described) != 1:
        raise ConditionError("the condition must be one expression", None)
    kind = str(described[0][1])
    if kind != "BOOLEAN":
        raise ConditionError(f"the condition gives {kind}, not true or false (e.g. count(*) = 0)", None)


def evaluate(condition: str, table: pa.Table) -> bool:
    """Whether `condition` holds over `table` (NULL counts as false). ConditionError when it cannot say."""
    import duckdb

    check_condition(condition, table)
    sql = f"SELECT true FROM ({_sql(condition)}) WHERE hit LIMIT 1"
    con = _connection()
    con.register("frame", table)
    try:
        return bool(con.execute(sql).fetchall())
    except duckdb.Error as exc:
        raise _error(exc, sql, condition) from None
    finally:
        con.unregister("frame")


# -- the store ----------------------------------------------------------------------------------------
class BreakpointStore:
    """Breakpoints per manifest in a JSON file; unreadable files count as empty.

    `BreakpointStore()` keeps each manifest's next to it (`<manifest dir>/.osiris-tui/breakpoints.json`,
    `{manifest file name: [breakpoint, ...]}`); `BreakpointStore(path)` keeps them all in `path`.
    What an older version saved (`{absolute manifest path: [step ids]}` in `legacy`) is read when the
    new file has nothing for the manifest.
    """

    def __init__(self, path: Path | None = None, *, legacy: Path | None = LEGACY_STORE) -> None:
        self._path = path
        self.legacy = legacy

    def path_for(self, manifest: Path) -> Path:
        return self._path if self._path is not None else manifest.resolve().parent / STORE_DIR / STORE_NAME

    @staticmethod
    def _read(path: Path | None) -> dict[str, Any]:
        if path is None:
            return {}
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    @staticmethod
    def _entries(items: Any) -> list[Breakpoint]:
        if not isinstance(items, list):
            return []
        found: dict[tuple[str, When], Breakpoint] = {}
        for item in items:
            bp = Breakpoint.from_json(item)
            if bp is not None:
                found[bp.key] = bp
        return list(found.values())

    def load(self, manifest: Path) -> list[Breakpoint]:
        data = self._read(self.path_for(manifest))
        if manifest.name in data:
            return self._entries(data[manifest.name])
        resolved = str(manifest.resolve())
        if resolved in data:  # written by an older version into the same file
            return self._entries(data[resolved])
        return self._entries(self._read(self.legacy).get(resolved))

    def save(self, manifest: Path, breakpoints: Iterable[Breakpoint] | Mapping[Any, Breakpoint]) -> None:
        items = list(breakpoints.values() if isinstance(breakpoints, Mapping) else breakpoints)
        path = self.path_for(manifest)
        data = self._read(path)
        data.pop(str(manifest.resolve()), None)
        if items:
            data[manifest.name] = [bp.to_json() for bp in sorted(items, key=lambda b: b.key)]
        else:
            data.pop(manifest.name, None)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written whole then renamed, so a crash never leaves half a file.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".breakpoints-")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh, indent=2)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
