"""supabase.extractor: reads a table through PostgREST (supabase-py) into a DataFrame.

Osiris 0.5.7 has a spec but no runtime driver for this component; this one follows the spec's options
(compat §6): ``table``, ``schema`` (public), ``select`` ("*"), ``filter``, ``order``, ``limit``, ``offset``,
plus ``page_size`` (1000), ``timeout``, ``retries``, ``parse_dates`` (true) and ``primary_key`` (optional
paging key when the table's is not discoverable).

Paging. A PostgREST server caps the rows one request returns (``db-max-rows``; 1000 on Supabase) and says
nothing when it does, so the driver asks for pages of ``page_size`` rows with ``offset``/``limit`` and keeps
going after a short page until a page comes back **empty**. ``limit`` (when given) caps the total rows read,
``offset`` is where reading starts. Offset paging needs a total order, so the driver orders by:

1. the ``order`` the step asks for, followed by the primary-key columns as tie-breakers;
2. without ``order``: the primary key (from the step's ``primary_key``, else PostgREST's OpenAPI
   description, where key columns are marked ``<pk/>``);
3. with no key known: every selected column (the column list comes from the OpenAPI description or a
   one-row probe). Rows that are complete duplicates are then indistinguishable anyway.

Rows are still read with offsets, so concurrent writes to the table while it is being read can shift
pages (a row may be missed or read twice); that is inherent to REST paging.

Filters. ``filter`` maps a column to a value (equality; ``None`` means ``IS NULL``; a list means ``IN``)
or to ``{op: value}`` with op in ``eq neq gt gte lt lte like ilike is in``, each also as ``not.<op>``.
Several ops on one column are ANDed. ``like``/``ilike`` use PostgREST's ``*`` or SQL's ``%`` wildcards.

Types. JSON values become columns as follows: integers → ``int64`` (``Int64`` when the column has
nulls); integers mixed with floats → ``float64`` (PostgreSQL's ``"Infinity"``/``"-Infinity"``/``"NaN"`` strings
among numbers become the float values); booleans → ``bool`` (``boolean`` with nulls);
strings stay strings, except timestamps: a column whose PostgreSQL type (from the OpenAPI description) is
``timestamp``/``timestamptz``, or — when the type is unknown — whose every non-null value is an ISO 8601
date-time *with a time part*, is parsed to ``datetime64`` (UTC-aware when the values carry offsets, naive
otherwise). ``date`` columns and anything ambiguous stay strings; ``parse_dates: false`` keeps every
string. JSON objects/arrays stay Python objects (``object`` dtype). Metric ``rows_read``.
"""

from __future__ import annotations

import re
import time
from typing import Any

import httpx
import pandas as pd
from postgrest import APIError

from osiris_tui.drivers.base import RunnerContext
from osiris_tui.drivers.supabase_client import (
    DEFAULT_RETRIES,
    DEFAULT_RETRY_BASE_SLEEP,
    DEFAULT_TIMEOUT,
    RestSession,
    check_cancelled,
    config_float,
    config_int,
    describe_error,
    log_event,
    resolve_connection,
    split_names,
)
from osiris_tui.secrets import mask_text

COMPONENT = "supabase.extractor"
DEFAULT_PAGE_SIZE = 1000
_FILTER_OPS = {"eq", "neq", "gt", "gte", "lt", "lte", "like", "ilike", "is", "in"}
_ISO_DATETIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(?P<tz>Z|[+-]\d{2}(:?\d{2})?)?$"
)
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_FLOAT_WORDS = {"Infinity", "-Infinity", "NaN"}


class SupabaseExtractor:
    """Reads every row of ``table`` (filtered, ordered, optionally limited) into ``{"df": DataFrame}``."""

    def run(self, *, step_id: str, config: dict[str, Any], inputs: dict | None, ctx: RunnerContext) -> dict:
        conn = resolve_connection(step_id, config, COMPONENT)
        table = config.get("table")
        if not table or not isinstance(table, str):
            raise ValueError(f"Step '{step_id}': 'table' is required for {COMPONENT}")
        schema = str(config.get("schema") or conn.schema or "public")
        select = config.get("select") or "*"
        if isinstance(select, list | tuple):
            select = ",".join(str(c) for c in select)
        select = str(select)
        page_size = config_int(step_id, config, "page_size", DEFAULT_PAGE_SIZE, minimum=1)
        limit = config_int(step_id, config, "limit", -1, minimum=0) if config.get("limit") is not None else None
        offset = config_int(step_id, config, "offset", 0, minimum=0)
        filters = _parse_filters(step_id, config.get("filter"))
        order = _parse_order(step_id, config.get("order"))
        parse_dates = config.get("parse_dates", True)
        where = f"{schema}.{table} at {conn.host} (step '{step_id}')"

        session = RestSession(
            conn, schema,
            timeout=config_float(step_id, config, "timeout", DEFAULT_TIMEOUT),
            retries=config_int(step_id, config, "retries", DEFAULT_RETRIES),
            retry_base_sleep=config_float(step_id, config, "retry_base_sleep", DEFAULT_RETRY_BASE_SLEEP),
        )
        started = time.monotonic()
        try:
            log_event(ctx, "read.start", table=table, schema=schema, select=select, page_size=page_size)
            formats, pk = _describe_table(session, table)
            pk = split_names(config.get("primary_key")) or pk
            order_terms = _stable_order(session, table, select, order, pk, formats, filters)
            rows = self._read_pages(session, ctx, table, select, filters, order_terms, offset, limit, page_size,
                                    where)
        except (APIError, httpx.HTTPError) as exc:
            raise RuntimeError(
                mask_text(f"Supabase read of {where} failed: {describe_error(exc, session.last_status)}")
            ) from None
        finally:
            session.close()

        df = build_frame(rows, formats, select, parse_dates)
        duration_ms = int((time.monotonic() - started) * 1000)
        log_event(ctx, "read.complete", table=table, rows_read=len(df), duration_ms=duration_ms)
        ctx.log_metric("rows_read", len(df))
        return {"df": df}

    def _read_pages(self, session: RestSession, ctx: RunnerContext, table: str, select: str,
                    filters: list[tuple[str, str, Any]], order_terms: list[tuple[str, bool, bool | None]],
                    offset: int, limit: int | None, page_size: int, where: str) -> list[dict]:
        rows: list[dict] = []
        start = offset
        page = 0
        cap_reported = False
        while limit is None or len(rows) < limit:
            check_cancelled(ctx)
            want = page_size if limit is None else min(page_size, limit - len(rows))
            query = _apply_filters(session.table(table).select(select), filters)
            for column, desc, nulls_first in order_terms:
                query = query.order(column, desc=desc, nullsfirst=nulls_first)
            query = query.range(start, start + want - 1)

            def on_retry(attempt: int, delay: float, reason: str, _page: int = page) -> None:
                log_event(ctx, "read.retry", table=table, page=_page + 1, attempt=attempt,
                          delay_ms=int(delay * 1000), reason=reason)

            data = session.call(query.execute, on_retry=on_retry).data
            if not isinstance(data, list):
                raise RuntimeError(mask_text(f"Supabase read of {where}: unexpected reply {str(data)[:200]!r}"))
            page += 1
            if not data:
                break
            rows.extend(data)
            start += len(data)
            if len(data) < want and not cap_reported:
                # Either the end of the table or a server-side row cap: only an empty page tells.
                cap_reported = True
                log_event(ctx, "read.short_page", table=table, page=page, requested=want, returned=len(data))
            log_event(ctx, "read.progress", table=table, page=page, rows=len(data), rows_read=len(rows))
        return rows


# -- config parsing -------------------------------------------------------------------------------------
def _parse_filters(step_id: str, spec: Any) -> list[tuple[str, str, Any]]:
    if spec in (None, {}, []):
        return []
    if not isinstance(spec, dict):
        raise ValueError(f"Step '{step_id}': 'filter' must be a mapping of column → value or {{op: value}}")
    out: list[tuple[str, str, Any]] = []
    for column, cond in spec.items():
        if isinstance(cond, dict):
            if not cond:
                raise ValueError(f"Step '{step_id}': filter on '{column}' has no operator")
            for op, value in cond.items():
                base = op[4:] if op.startswith("not.") else op
                if base not in _FILTER_OPS:
                    raise ValueError(
                        f"Step '{step_id}': unknown filter operator '{op}' on '{column}' "
                        f"(use one of {', '.join(sorted(_FILTER_OPS))}, optionally prefixed 'not.')"
                    )
                if base == "in" and not isinstance(value, list | tuple):
                    raise ValueError(f"Step '{step_id}': filter '{column}: {{in: …}}' needs a list")
                out.append((str(column), op, value))
        elif cond is None:
            out.append((str(column), "is", None))
        elif isinstance(cond, list | tuple):
            out.append((str(column), "in", list(cond)))
        else:
            out.append((str(column), "eq", cond))
    return out


def _apply_filters(query: Any, filters: list[tuple[str, str, Any]]) -> Any:
    for column, op, value in filters:
        if op.startswith("not."):
            query = query.not_
            op = op[4:]
        if op == "is":
            query = query.is_(column, value)
        elif op == "in":
            query = query.in_(column, list(value))
        elif op in ("like", "ilike"):
            query = getattr(query, op)(column, str(value).replace("%", "*"))
        else:
            query = getattr(query, op)(column, value)
    return query


def _parse_order(step_id: str, spec: Any) -> list[tuple[str, bool, bool | None]]:
    if not spec:
        return []
    items = spec.split(",") if isinstance(spec, str) else list(spec)
    out: list[tuple[str, bool, bool | None]] = []
    for item in items:
        parts = str(item).strip().split(".")
        column, mods = parts[0].strip(), [p.lower() for p in parts[1:]]
        unknown = set(mods) - {"asc", "desc", "nullsfirst", "nullslast"}
        if not column or unknown:
            raise ValueError(f"Step '{step_id}': cannot read order term {item!r} (use 'column[.asc|.desc]')")
        nulls = True if "nullsfirst" in mods else False if "nullslast" in mods else None
        out.append((column, "desc" in mods, nulls))
    return out


# -- ordering for stable paging --------------------------------------------------------------------------
def _describe_table(session: RestSession, table: str) -> tuple[dict[str, str], list[str]]:
    """Column → PostgreSQL type, and the primary key, from the OpenAPI description (empty when unavailable)."""
    spec = session.openapi() or {}
    definition = (spec.get("definitions") or {}).get(table) or {}
    props = definition.get("properties") or {}
    formats = {str(k): str(v.get("format") or "") for k, v in props.items() if isinstance(v, dict)}
    pk = [str(k) for k, v in props.items() if isinstance(v, dict) and "<pk/>" in str(v.get("description") or "")]
    return formats, pk


def _selected_columns(select: str) -> list[str] | None:
    """Underlying column names of a select list, or None when it has ``*``, embeds or casts."""
    columns = []
    for item in select.split(","):
        item = item.strip()
        if not item or item == "*" or "(" in item or "::" in item or "->" in item:
            return None
        columns.append(item.rpartition(":")[2].strip().strip('"'))
    return columns


def _stable_order(session: RestSession, table: str, select: str, order: list[tuple[str, bool, bool | None]],
                  pk: list[str], formats: dict[str, str],
                  filters: list[tuple[str, str, Any]]) -> list[tuple[str, bool, bool | None]]:
    terms = list(order)
    ordered = {c for c, _, _ in terms}
    keys = pk
    if not keys:
        keys = _selected_columns(select) or [c for c in formats if not formats[c].startswith("json")]
        if not keys and select.strip() == "*":
            probe = _apply_filters(session.table(table).select("*"), filters).limit(1)
            sample = session.call(probe.execute).data
            keys = list(sample[0].keys()) if sample and isinstance(sample[0], dict) else []
    terms.extend((c, False, None) for c in keys if c not in ordered)
    return terms


# -- DataFrame building -----------------------------------------------------------------------------------
def build_frame(rows: list[dict], formats: dict[str, str] | None = None, select: str = "*",
                parse_dates: Any = True) -> pd.DataFrame:
    """A DataFrame from PostgREST JSON rows, with the dtypes described in the module docstring."""
    formats = formats or {}
    if rows:
        columns = list(rows[0].keys())
        for row in rows[1:]:
            for k in row:
                if k not in columns:
                    columns.append(k)
    else:
        columns = _selected_columns(select) or list(formats)
    date_columns = set(parse_dates) if isinstance(parse_dates, list | tuple) else None
    data = {}
    for column in columns:
        values = [row.get(column) for row in rows]
        allow_dates = bool(parse_dates) if date_columns is None else column in date_columns
        data[column] = _series(values, formats.get(column, ""), allow_dates)
    return pd.DataFrame(data, columns=columns)


def _series(values: list[Any], fmt: str, parse_dates: bool) -> pd.Series:
    non_null = [v for v in values if v is not None]
    has_null = len(non_null) < len(values)
    if not non_null:
        return pd.Series(values, dtype=_empty_dtype(fmt))
    if all(isinstance(v, bool) for v in non_null):
        return pd.Series(values, dtype="boolean" if has_null else bool)
    if all(isinstance(v, int) and not isinstance(v, bool) for v in non_null):
        if all(_INT64_MIN <= v <= _INT64_MAX for v in non_null):
            return pd.Series(values, dtype="Int64" if has_null else "int64")
        return pd.Series(values, dtype=object)
    numeric = [not isinstance(v, bool) and isinstance(v, int | float) for v in non_null]
    if any(numeric) and all(n or (isinstance(v, str) and v in _FLOAT_WORDS) for n, v in zip(numeric, non_null,
                                                                                         strict=True)):
        # PostgreSQL's JSON spells non-finite floats as strings: "Infinity", "-Infinity", "NaN".
        return pd.Series([float("nan") if v is None else float(v) for v in values], dtype="float64")
    if all(isinstance(v, str) for v in non_null):
        if parse_dates and _looks_like_timestamps(non_null, fmt):
            parsed = _parse_timestamps(values, fmt)
            if parsed is not None:
                return parsed
        return pd.Series(values)
    return pd.Series(values, dtype=object)


def _empty_dtype(fmt: str) -> Any:
    fmt = fmt.lower()
    if fmt in ("bigint", "integer", "smallint"):
        return "Int64"
    if fmt in ("double precision", "real"):
        return "float64"
    if fmt == "boolean":
        return "boolean"
    if fmt.startswith("timestamp"):
        return "datetime64[us, UTC]" if "with time zone" in fmt else "datetime64[us]"
    return object


def _looks_like_timestamps(values: list[str], fmt: str) -> bool:
    fmt = fmt.lower()
    if fmt:
        return fmt.startswith("timestamp")
    return all(_ISO_DATETIME.match(v) for v in values)


def _parse_timestamps(values: list[Any], fmt: str) -> pd.Series | None:
    non_null = [v for v in values if v is not None]
    with_tz = [bool(m and m.group("tz")) for m in (_ISO_DATETIME.match(v) for v in non_null)]
    aware = "with time zone" in fmt.lower() or all(with_tz)
    if not aware and any(with_tz):
        return None  # a mix of offsets and no offsets: keep the strings
    try:
        parsed = pd.to_datetime(pd.Series(values, dtype=object), utc=aware, format="ISO8601")
    except (ValueError, OverflowError, TypeError):
        return None
    return parsed
