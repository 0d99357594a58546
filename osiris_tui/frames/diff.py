"""What changed between two frames: schema drift, row counts, nulls, and rows added, removed or changed.

`diff(a, b, keys=["id"])` compares two Arrow tables (or pandas frames) with DuckDB, scanning them where
they lie. With key columns, rows are matched by key (NULL matches NULL) and each matched pair is compared
cell by cell; without keys, whole rows are compared as multisets (what `A EXCEPT ALL B` and
`B EXCEPT ALL A` hold, a duplicated row counting as often as it occurs). Rows are compared on the
columns both frames have; the others are schema drift.

Values compare exactly, with `IS DISTINCT FROM` (NULL equals NULL): floats bit for bit apart from NaN
payloads (so `-0.0` differs from `0.0`, NaN equals NaN and differs from NULL), Decimals by value (`1.10`
as decimal(10,2) equals `1.1000` as decimal(12,4)), timestamps at the finer of the two units (1000 ns is
1 µs, 1 ns is not 0 µs), an integer and a float by exact value (2**53 + 1 is not 2.0**53). A column
whose two types DuckDB cannot compare (a number in A, text in B) is compared by its text.

Duplicate keys are an error (`DuplicateKeyError`, with how many key values repeat and one example) when
the repeated key is on both sides: a key that matches several rows cannot say which row became which. A
key repeated on one side only is that many rows added (or removed). Without keys, duplicates are counted.

The result holds counts and, as Arrow, the row numbers of the differing rows and which cells differ
(a few bytes per differing row); `DiffResult.page(start, stop)` takes the values of a page of them from
the two tables, so a million-row diff is never turned into Python objects. `DiffJob.cancel()` (any thread)
interrupts the query that runs; `diff(..., cancel=event)` checks an event between queries.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

ROW = "__row"  # the row-number column added to each side (renamed when a frame has one)
Kind = Literal["keyed", "rows"]
Pair = tuple[str, str, str, pa.DataType, pa.DataType, bool]  # name, SQL of A's and B's column, types, by text


class DiffError(Exception):
    """The frames cannot be compared as asked (an unknown key column, keys of incomparable types)."""

    def __init__(self, message: str, *, column: str | None = None, side: str | None = None,
                 hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.column = column
        self.side = side
        self.hint = hint

    def __str__(self) -> str:
        return self.message + (f" ({self.hint})" if self.hint else "")


class DuplicateKeyError(DiffError):
    """The key columns do not identify one row of a side: `count` key values occur more than once."""

    def __init__(self, side: str, keys: Sequence[str], count: int, example: dict[str, Any], times: int) -> None:
        from osiris_tui.frames.format import plain  # only when there is an error to tell

        shown = ", ".join(f"{k}={plain(v)}" for k, v in example.items())
        what = "key value occurs" if count == 1 else "key values occur"
        self.detail = f"{count:,} {what} more than once (e.g. {shown}: {times:,} rows)"
        super().__init__(f"{', '.join(keys)} is not unique in {side}: {self.detail}", side=side,
                         hint="choose key columns that identify one row, or compare without keys")
        self.keys = tuple(keys)
        self.count = count
        self.example = example
        self.times = times


class DiffCancelled(Exception):
    """The comparison was cancelled."""


class CancelFlag(Protocol):
    def is_set(self) -> bool: ...


@dataclass(frozen=True)
class Column:
    name: str
    type: str


@dataclass(frozen=True)
class Retyped:
    name: str
    before: str
    after: str


@dataclass(frozen=True)
class NullDelta:
    """A column's null count in A and in B (None: the column is not in that frame)."""

    name: str
    before: int | None
    after: int | None

    @property
    def delta(self) -> int:
        return (self.after or 0) - (self.before or 0)


@dataclass(frozen=True)
class ChangedRow:
    """One differing row of a page: `status` is "added" (only in B), "removed" (only in A) or "changed".
    `before` / `after` map each shown column to its value (a side the row is not on is None); `changed`
    names the columns whose values differ (a changed row only)."""

    status: Literal["added", "removed", "changed"]
    key: dict[str, Any]
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    changed: tuple[str, ...] = ()


@dataclass(frozen=True)
class ChangePage:
    """A page of differing rows, as Arrow (`before` rows of A, `after` rows of B, NULL rows where a row is
    not on that side) plus each row's status and which compared columns differ."""

    start: int
    status: list[str]
    before: pa.Table
    after: pa.Table
    flags: pa.Table  # one boolean column per compared column, named as it

    def __len__(self) -> int:
        return len(self.status)

    def changed_columns(self, i: int) -> tuple[str, ...]:
        return tuple(name for name in self.flags.column_names if self.flags.column(name)[i].as_py())

    def rows(self, keys: Sequence[str] = ()) -> list[ChangedRow]:
        """The page as exact Python values (`format.values`: nanoseconds kept); a page is small."""
        from osiris_tui.frames.format import values

        def records(table: pa.Table) -> list[dict[str, Any]]:
            columns = {name: values(table.column(name)) for name in table.column_names}
            return [{name: column[i] for name, column in columns.items()} for i in range(table.num_rows)]

        before, after = records(self.before), records(self.after)
        out = []
        for i, status in enumerate(self.status):
            side = after[i] if status != "removed" else before[i]
            out.append(ChangedRow(status, {k: side.get(k) for k in keys},  # type: ignore[arg-type]
                                  before[i] if status != "added" else None,
                                  after[i] if status != "removed" else None,
                                  self.changed_columns(i) if status == "changed" else ()))
        return out


@dataclass
class DiffResult:
    """Counts of what differs between A and B, and the differing rows, fetched a page at a time."""

    kind: Kind
    keys: tuple[str, ...]
    names: tuple[str, str]  # what A and B are ("previous output of x", "b.parquet")
    rows_a: int
    rows_b: int
    added_columns: tuple[Column, ...]
    dropped_columns: tuple[Column, ...]
    retyped: tuple[Retyped, ...]
    compared: tuple[str, ...]  # the columns rows were compared on (common, not keys)
    nulls: tuple[NullDelta, ...]  # every column of A and B
    added: int  # rows only in B
    removed: int  # rows only in A
    changed: int  # keyed: rows in both whose compared cells differ
    cells: dict[str, int]  # keyed: changed cells per compared column
    a: pa.Table = field(repr=False)
    b: pa.Table = field(repr=False)
    _rows: pa.Table = field(repr=False)  # ra, rb (int64, NULL: not on that side), f0… (one per compared column)

    @property
    def schema_changed(self) -> bool:
        return bool(self.added_columns or self.dropped_columns or self.retyped)

    @property
    def null_changes(self) -> tuple[NullDelta, ...]:
        """The columns of both frames whose null count changed."""
        return tuple(n for n in self.nulls if n.delta and n.before is not None and n.after is not None)

    @property
    def differing(self) -> int:
        """How many rows differ (added + removed + changed): the rows `page` pages through."""
        return self._rows.num_rows

    @property
    def equal(self) -> bool:
        """Same columns, same types, same rows (in any order)."""
        return not self.schema_changed and self.differing == 0 and self.rows_a == self.rows_b

    @property
    def unchanged(self) -> int:
        """Rows of B that have an equal row in A."""
        return self.rows_b - self.added - self.changed

    def shown_columns(self) -> list[str]:
        """Keys, then the compared columns, then the columns only B has, then those only A had."""
        return [*self.keys, *self.compared, *(c.name for c in self.added_columns),
                *(c.name for c in self.dropped_columns)]

    def page(self, start: int, stop: int) -> ChangePage:
        """The differing rows `start:stop` (clamped), in key order (keyed) or row order (without keys)."""
        start = max(0, min(start, self.differing))
        stop = max(start, min(stop, self.differing))
        part = self._rows.slice(start, stop - start)
        ra, rb = part.column("ra"), part.column("rb")
        status = ["added" if x is None else "removed" if y is None else "changed"
                  for x, y in zip(ra.to_pylist(), rb.to_pylist(), strict=True)]
        flags = part.drop_columns(["ra", "rb"]).rename_columns(list(self.compared))
        return ChangePage(start, status, self.a.take(ra), self.b.take(rb), flags)

    def summary(self) -> dict[str, Any]:
        """The counts as JSON-ready values (what `osiris-tui diff --json` prints)."""
        return {
            "equal": self.equal,
            "a": self.names[0],
            "b": self.names[1],
            "keys": list(self.keys),
            "rows": {"a": self.rows_a, "b": self.rows_b, "delta": self.rows_b - self.rows_a},
            "schema": {
                "added": [{"name": c.name, "type": c.type} for c in self.added_columns],
                "dropped": [{"name": c.name, "type": c.type} for c in self.dropped_columns],
                "retyped": [{"name": r.name, "before": r.before, "after": r.after} for r in self.retyped],
            },
            "nulls": [{"name": n.name, "a": n.before, "b": n.after, "delta": n.delta} for n in self.null_changes],
            "compared_columns": list(self.compared),
            "added": self.added,
            "removed": self.removed,
            "changed": self.changed if self.kind == "keyed" else None,
            "unchanged": self.unchanged,
            "changed_cells": dict(self.cells) if self.kind == "keyed" else None,
        }


# -- types -------------------------------------------------------------------------------------------
def _logical(t: pa.DataType) -> str:
    """A type's name, the same for types that differ only in how Arrow lays them out (string and
    large_string, list and large_list), which a Parquet round trip or a pandas version may change."""
    if pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return "string"
    if pa.types.is_large_binary(t) or pa.types.is_binary_view(t):
        return "binary"
    if pa.types.is_large_list(t) or pa.types.is_list_view(t) or pa.types.is_large_list_view(t):
        return f"list<{_logical(t.value_type)}>"
    if pa.types.is_list(t):
        return f"list<{_logical(t.value_type)}>"
    return str(t)


def _is_float(t: pa.DataType) -> bool:
    return pa.types.is_floating(t)


def _distinct(x: str, y: str, tx: pa.DataType, ty: pa.DataType) -> str:
    """A DuckDB expression: whether `x` (of type `tx`) and `y` differ, exactly."""
    base = f"({x} IS DISTINCT FROM {y})"
    if _is_float(tx) and _is_float(ty):  # -0.0 = 0.0 in SQL, not here
        return f"({base} OR ({x} = 0 AND {y} = 0 AND signbit({x}) <> signbit({y})))"
    if pa.types.is_integer(tx) and _is_float(ty):  # compared as DOUBLE, an int beyond 2**53 would round
        return f"({base} OR coalesce(TRY_CAST({y} AS HUGEINT) <> {x}, false))"
    if _is_float(tx) and pa.types.is_integer(ty):
        return f"({base} OR coalesce(TRY_CAST({x} AS HUGEINT) <> {y}, false))"
    return base


def _text_distinct(x: str, y: str) -> str:
    return f"(CAST({x} AS VARCHAR) IS DISTINCT FROM CAST({y} AS VARCHAR))"


def _equal(x: str, y: str, tx: pa.DataType, ty: pa.DataType, by_text: bool) -> list[str]:
    """The negation of `_distinct` as join conditions, equalities first (so DuckDB can hash on them)."""
    if by_text:
        return [f"CAST({x} AS VARCHAR) IS NOT DISTINCT FROM CAST({y} AS VARCHAR)"]
    conditions = [f"{x} IS NOT DISTINCT FROM {y}"]
    if _is_float(tx) and _is_float(ty):
        conditions.append(f"signbit({x}) IS NOT DISTINCT FROM signbit({y})")
    elif pa.types.is_integer(tx) and _is_float(ty):
        conditions.append(f"coalesce(TRY_CAST({y} AS HUGEINT) = {x}, true)")
    elif _is_float(tx) and pa.types.is_integer(ty):
        conditions.append(f"coalesce(TRY_CAST({x} AS HUGEINT) = {y}, true)")
    return conditions


# -- the job ------------------------------------------------------------------------------------------
def as_table(frame: Any) -> pa.Table:
    """An Arrow table as is; a pandas DataFrame converted as the cache converts it (`to_arrow`)."""
    if isinstance(frame, pa.Table):
        return frame
    if isinstance(frame, pa.RecordBatch):
        return pa.Table.from_batches([frame])
    from osiris_tui.frames.export import to_arrow

    return to_arrow(frame)


def _with_rows(table: pa.Table, name: str) -> pa.Table:
    """`table` with its columns named c0, c1, … (any name is safe in SQL, case kept apart) and a row
    number column (zero copy of the data)."""
    renamed = table.rename_columns([f"c{i}" for i in range(table.num_columns)])
    return renamed.append_column(name, pa.array(np.arange(table.num_rows, dtype=np.int64)))


class DiffJob:
    """One comparison, run once (`run`, in any thread) and cancellable from another (`cancel`)."""

    def __init__(self, a: Any, b: Any, keys: Sequence[str] = (), *, names: tuple[str, str] = ("A", "B"),
                 cancel: CancelFlag | None = None) -> None:
        self.a, self.b = as_table(a), as_table(b)
        self.keys = tuple(dict.fromkeys(keys))
        self.names = names
        self._flag = cancel
        self._cancelled = threading.Event()
        self._lock = threading.Lock()
        self._con: duckdb.DuckDBPyConnection | None = None

    def cancel(self) -> None:
        self._cancelled.set()
        with self._lock:
            con = self._con
        if con is not None:
            try:
                con.interrupt()
            except duckdb.Error:
                pass

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set() or (self._flag is not None and self._flag.is_set())

    def _check(self) -> None:
        if self.cancelled:
            raise DiffCancelled("cancelled")

    def _sql(self, sql: str) -> pa.Table:
        self._check()
        assert self._con is not None
        try:
            return self._con.sql(sql).to_arrow_table()
        except duckdb.InterruptException:
            raise DiffCancelled("cancelled") from None
        except KeyboardInterrupt:
            raise DiffCancelled("interrupted") from None

    def run(self) -> DiffResult:
        a, b = self.a, self.b
        self._check_keys()
        names_a, names_b = a.column_names, b.column_names
        types_a = {n: a.schema.field(n).type for n in names_a}
        types_b = {n: b.schema.field(n).type for n in names_b}
        common = [n for n in names_b if n in types_a]
        added = tuple(Column(n, str(types_b[n])) for n in names_b if n not in types_a)
        dropped = tuple(Column(n, str(types_a[n])) for n in names_a if n not in types_b)
        retyped = tuple(Retyped(n, str(types_a[n]), str(types_b[n])) for n in common
                        if _logical(types_a[n]) != _logical(types_b[n]))
        nulls = tuple([NullDelta(n, a.column(n).null_count, b.column(n).null_count if n in types_b else None)
                       for n in names_a]
                      + [NullDelta(n, None, b.column(n).null_count) for n in names_b if n not in types_a])
        compared = tuple(n for n in common if n not in self.keys)
        row = ROW
        while row in types_a or row in types_b:
            row = "_" + row
        con = duckdb.connect(config={"enable_external_access": False})
        with self._lock:
            self._con = con
        try:
            if self.cancelled:
                raise DiffCancelled("cancelled")
            con.execute("SET TimeZone = 'UTC'")
            con.register("a", _with_rows(a, row))
            con.register("b", _with_rows(b, row))
            col_a = {n: f"c{i}" for i, n in enumerate(names_a)}
            col_b = {n: f"c{i}" for i, n in enumerate(names_b)}
            by_text = {n: self._by_text(col_a[n], col_b[n], types_a[n], types_b[n]) for n in compared}
            pairs = [(n, f"a.{col_a[n]}", f"b.{col_b[n]}", types_a[n], types_b[n], by_text[n]) for n in compared]
            if self.keys:
                rows = self._keyed(col_a, col_b, types_a, types_b, pairs, row)
                kind: Kind = "keyed"
            else:
                rows = self._multiset(col_a, col_b, types_a, types_b, pairs, row)
                kind = "rows"
        finally:
            with self._lock:
                self._con = None
            con.close()
        rows = rows.rename_columns(["ra", "rb", *(f"f{i}" for i in range(len(compared)))])
        ra_null = rows.column("ra").null_count
        rb_null = rows.column("rb").null_count
        changed = rows.num_rows - ra_null - rb_null if kind == "keyed" else 0
        cells: dict[str, int] = {}
        if kind == "keyed":
            for i, n in enumerate(compared):
                cells[n] = int(pc.sum(rows.column(f"f{i}")).as_py() or 0)
        return DiffResult(kind, self.keys, self.names, a.num_rows, b.num_rows, added, dropped, retyped, compared,
                          nulls, ra_null, rb_null, changed, cells, a, b, rows)

    def _check_keys(self) -> None:
        for key in self.keys:
            for table, side in ((self.a, self.names[0]), (self.b, self.names[1])):
                if key not in table.column_names:
                    raise DiffError(f"no column {key!r} in {side}", column=key, side=side,
                                    hint=f"key columns must be in both; {side} has: {', '.join(table.column_names)}")

    def _by_text(self, ca: str, cb: str, ta: pa.DataType, tb: pa.DataType) -> bool:
        """Whether a column is compared by its text: DuckDB cannot compare its two types."""
        if _logical(ta) == _logical(tb):
            return False
        try:
            self._sql(f"SELECT {_distinct(f'a.{ca}', f'b.{cb}', ta, tb)} FROM a POSITIONAL JOIN b LIMIT 0")
        except DiffCancelled:
            raise
        except duckdb.Error:
            return True
        return False

    def _duplicates(self, col_a: dict[str, str], col_b: dict[str, str]) -> None:
        """Raise `DuplicateKeyError` for the first side where a key value on both sides repeats."""
        on = " AND ".join(f"a.{col_a[k]} IS NOT DISTINCT FROM b.{col_b[k]}" for k in self.keys)
        for side, this, other, cols in (("a", "a", "b", col_a), ("b", "b", "a", col_b)):
            inner = ", ".join(f"{this}.{cols[k]} AS k{i}" for i, k in enumerate(self.keys))
            group = ", ".join(f"k{i}" for i in range(len(self.keys)))
            found = self._sql(f"SELECT count(*) AS n, arg_max(struct_pack({group}), c) AS example, max(c) AS times "
                              f"FROM (SELECT {inner}, count(*) AS c FROM {this} SEMI JOIN {other} ON {on} "
                              f"GROUP BY ALL HAVING count(*) > 1)")
            count = found.column("n")[0].as_py()
            if count:
                values = found.column("example")[0].as_py() or {}
                example = dict(zip(self.keys, values.values(), strict=False))
                name = self.names[0] if side == "a" else self.names[1]
                raise DuplicateKeyError(name, self.keys, count, example, found.column("times")[0].as_py())

    def _aligned(self) -> bool:
        """Whether row i of A has the key of row i of B, for every i, with the keys strictly ascending (so
        unique): one key column, equal on both sides, without NULLs — a re-run of a query that orders
        its output by its key. Then rows match by position and no join is needed."""
        if len(self.keys) != 1 or self.a.num_rows != self.b.num_rows or self.a.num_rows < 2:
            return False
        ka, kb = self.a.column(self.keys[0]), self.b.column(self.keys[0])
        if ka.type != kb.type or ka.null_count or not (pa.types.is_integer(ka.type) or pa.types.is_string(ka.type)
                                                       or pa.types.is_large_string(ka.type)
                                                       or pa.types.is_timestamp(ka.type)
                                                       or pa.types.is_date(ka.type)):
            return False
        try:
            ascending = pc.all(pc.less(ka.slice(0, len(ka) - 1), ka.slice(1))).as_py()
        except (pa.ArrowNotImplementedError, pa.ArrowInvalid):
            return False
        return bool(ascending) and ka.equals(kb)

    def _positional(self, pairs: list[Pair], row: str) -> pa.Table:
        tests = [_text_distinct(x, y) if text else _distinct(x, y, tx, ty) for _, x, y, tx, ty, text in pairs]
        flags = "".join(f", {test} AS f{i}" for i, test in enumerate(tests))
        differs = " OR ".join(f"f{i}" for i in range(len(tests))) or "false"
        outs = "".join(f", f{i}" for i in range(len(tests)))
        return self._sql(f"SELECT ra, rb{outs} FROM (SELECT a.{row} AS ra, b.{row} AS rb{flags} "
                         f"FROM a POSITIONAL JOIN b) WHERE {differs} ORDER BY ra")

    def _keyed(self, col_a: dict[str, str], col_b: dict[str, str], types_a: dict[str, pa.DataType],
               types_b: dict[str, pa.DataType], pairs: list[Pair], row: str) -> pa.Table:
        if self._aligned():
            return self._positional(pairs, row)
        on = " AND ".join(f"a.{col_a[k]} IS NOT DISTINCT FROM b.{col_b[k]}" for k in self.keys)
        tests = [_text_distinct(x, y) if text else _distinct(x, y, tx, ty) for _, x, y, tx, ty, text in pairs]
        both = f"a.{row} IS NOT NULL AND b.{row} IS NOT NULL"
        flags = "".join(f", ({both} AND {test}) AS f{i}" for i, test in enumerate(tests))
        order = ", ".join(f"coalesce(b.{col_b[k]}, a.{col_a[k]}) AS o{i}" for i, k in enumerate(self.keys))
        by = ", ".join(f"o{i}" for i in range(len(self.keys)))
        differs = " OR ".join(["ra IS NULL", "rb IS NULL", *(f"f{i}" for i in range(len(tests)))])
        fields = ", ".join(["ra", "rb", *(f"f{i}" for i in range(len(tests)))])
        # One pass: the differing rows, and the counts that tell whether a key matched more than one row
        # (with unique keys, the matched pairs are the rows of either side that are not unmatched).
        sql = (f"SELECT count(*) FILTER (WHERE ra IS NOT NULL AND rb IS NOT NULL) AS pairs, "
               f"count(*) FILTER (WHERE rb IS NULL) AS only_a, count(*) FILTER (WHERE ra IS NULL) AS only_b, "
               f"list(struct_pack({fields}) ORDER BY {by}, ra, rb) FILTER (WHERE {differs}) AS rows "
               f"FROM (SELECT a.{row} AS ra, b.{row} AS rb, {order}{flags} FROM a FULL OUTER JOIN b ON {on})")
        try:
            found = self._sql(sql)
        except duckdb.Error as exc:  # keys of types DuckDB cannot match (or order)
            bad = next((k for k in self.keys if _logical(types_a[k]) != _logical(types_b[k])), self.keys[0])
            raise DiffError(f"cannot match rows by {bad}: it is {types_a[bad]} in {self.names[0]} and "
                            f"{types_b[bad]} in {self.names[1]} ({str(exc).splitlines()[0]})", column=bad,
                            hint="choose key columns of the same type on both sides") from None
        pairs_n, only_a, only_b = (found.column(n)[0].as_py() for n in ("pairs", "only_a", "only_b"))
        if not pairs_n == self.a.num_rows - only_a == self.b.num_rows - only_b:
            self._duplicates(col_a, col_b)
        column = found.column("rows")
        names = ["ra", "rb", *(f"f{i}" for i in range(len(tests)))]
        if not column[0].is_valid:  # no differing row
            return pa.table({n: pa.array([], pa.int64() if n in ("ra", "rb") else pa.bool_()) for n in names})
        flat = pc.list_flatten(column.combine_chunks() if column.num_chunks != 1 else column.chunk(0))
        return pa.Table.from_arrays(flat.flatten(), names=names)

    def _multiset(self, col_a: dict[str, str], col_b: dict[str, str], types_a: dict[str, pa.DataType],
                  types_b: dict[str, pa.DataType], pairs: list[Pair], row: str) -> pa.Table:
        names = [p[0] for p in pairs]

        def numbered(side: str, cols: dict[str, str], types: dict[str, pa.DataType]) -> str:
            # -0.0 and 0.0 fall in one partition in SQL; the sign bit keeps them apart, as the join does
            parts = [cols[n] for n in names] + [f"signbit({cols[n]})" for n in names if _is_float(types[n])]
            partition = f"PARTITION BY {', '.join(parts)} " if parts else ""
            return (f"SELECT {', '.join([cols[n] for n in names] + [row])}, "
                    f"row_number() OVER ({partition}ORDER BY {row}) AS k FROM {side}")

        # the n-th copy of a row in A matches the n-th copy of an equal row in B
        on = " AND ".join(["a.k = b.k", *(c for _, x, y, tx, ty, text in pairs for c in _equal(x, y, tx, ty, text))])
        sql = (f"SELECT a.{row} AS ra, b.{row} AS rb FROM ({numbered('a', col_a, types_a)}) a "
               f"FULL OUTER JOIN ({numbered('b', col_b, types_b)}) b ON {on} "
               f"WHERE a.{row} IS NULL OR b.{row} IS NULL ORDER BY rb NULLS LAST, ra")
        rows = self._sql(sql)
        falses = pa.array(np.zeros(rows.num_rows, dtype=bool))
        for i in range(len(names)):
            rows = rows.append_column(f"f{i}", falses)
        return rows


def diff(a: Any, b: Any, keys: Sequence[str] = (), *, names: tuple[str, str] = ("A", "B"),
         cancel: CancelFlag | None = None) -> DiffResult:
    """Compare `a` (before) with `b` (after); see the module docstring. Raises `DiffError`,
    `DuplicateKeyError` or `DiffCancelled`."""
    return DiffJob(a, b, keys, names=names, cancel=cancel).run()
