"""A PostgREST-compatible TEST STAND-IN over real PostgreSQL (tests only, not part of the package).

No real PostgREST can be installed in the test environment, so this small stdlib HTTP server answers
exactly the requests supabase-py / postgrest-py send for the calls the osiris-tui Supabase drivers make,
and runs them as real SQL (psycopg 3) on a real PostgreSQL database. It is NOT a PostgREST
reimplementation: it covers the subset below and rejects the rest.

Supported (under the ``/rest/v1`` prefix, like Supabase):

* ``GET|HEAD /rest/v1/<table>``: ``select=`` (``*``, columns, ``alias:column``), filters
  ``eq neq gt gte lt lte like ilike is in`` (each optionally ``not.``-prefixed),
  ``order=col.asc|desc[.nullsfirst|.nullslast],…``, ``limit``/``offset``, the ``Range``/``Range-Unit``
  headers, ``Prefer: count=exact``; replies carry ``Content-Range``. A server-side cap
  (``max_rows``, like PostgREST's ``db-max-rows``) silently limits every read.
* ``POST /rest/v1/<table>``: insert a JSON object or array (``columns=`` honoured), upsert with
  ``Prefer: resolution=merge-duplicates|ignore-duplicates`` and ``on_conflict=``,
  ``Prefer: return=minimal|representation``. Rows go through ``json_populate_recordset`` as in PostgREST,
  so type coercion is PostgreSQL's.
* ``DELETE /rest/v1/<table>`` with the same filters (``Prefer: return=…``).
* ``GET /rest/v1/`` : a minimal OpenAPI (Swagger 2.0) description of the schema's tables, with
  ``format`` = PostgreSQL type and ``<pk/>`` marking primary-key columns, as PostgREST publishes.
* ``Accept-Profile`` (reads) / ``Content-Profile`` (writes) select the schema (default ``public``).
* ``apikey`` must equal the configured key, and ``Authorization``, when sent, must be ``Bearer <key>``
  (otherwise 401, as Supabase's gateway answers).
* A schema cache like PostgREST's: tables created after start-up are invisible (404 ``PGRST205``) until
  ``NOTIFY pgrst, 'reload schema'`` is sent (the stand-in LISTENs on ``pgrst``) or ``reload_schema()`` is
  called. Column lists are read live.
* Errors use PostgREST's shape ``{"code", "details", "hint", "message"}``: missing table → 404
  ``PGRST205``; SQL errors → 400 (409 for unique/foreign-key violations, 403 for privileges).
* Test controls: ``fail_next(n, status=503, method=None, path=None)`` makes the next *n* matching requests fail with a
  PostgREST-shaped error; ``requests`` records every request (method, path, query, Prefer, Range).

All SQL is parameterised; names go through ``psycopg.sql.Identifier``.
"""

from __future__ import annotations

import json
import queue
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import psycopg
from psycopg import sql

REST_PREFIX = "/rest/v1"
_OPS = {"eq": "=", "neq": "<>", "gt": ">", "gte": ">=", "lt": "<", "lte": "<=", "like": "LIKE", "ilike": "ILIKE"}
_IS_VALUES = {"null": "NULL", "true": "TRUE", "false": "FALSE", "unknown": "UNKNOWN", "not_null": "NOT NULL"}
_RESERVED_PARAMS = {"select", "order", "limit", "offset", "columns", "on_conflict"}


class PgrstError(Exception):
    """An error reply in PostgREST's JSON shape."""

    def __init__(self, status: int, code: str, message: str, details: Any = None, hint: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"code": code, "details": details, "hint": hint, "message": message}


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: list[tuple[str, str]]
    prefer: str
    range: str
    status: int = 0


@dataclass
class _Failure:
    remaining: int
    status: int
    method: str | None
    path: str | None = None


@dataclass
class TableInfo:
    schema: str
    name: str
    columns: dict[str, str] = field(default_factory=dict)  # name -> format_type
    primary_key: list[str] = field(default_factory=list)


def _split_outside_quotes(value: str, sep: str = ",") -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    in_quotes = escaped = False
    for ch in value:
        if escaped:
            current.append(ch)
            escaped = False
            continue
        if ch == "\\" and in_quotes:
            escaped = True
            continue
        if ch == '"':
            in_quotes = not in_quotes
            continue
        if ch == sep and not in_quotes:
            parts.append("".join(current))
            current = []
            continue
        current.append(ch)
    parts.append("".join(current))
    return parts


def _unquote(name: str) -> str:
    name = name.strip()
    if len(name) >= 2 and name[0] == name[-1] == '"':
        return re.sub(r"\\(.)", r"\1", name[1:-1])
    return name


class PostgrestStandin:
    """The stand-in server: ``start()`` on 127.0.0.1 (port 0 = free port), ``stop()`` when done."""

    def __init__(self, dsn: str, key: str, *, max_rows: int | None = 1000, host: str = "127.0.0.1",
                 port: int = 0) -> None:
        self.dsn = dsn
        self.key = key
        self.max_rows = max_rows
        self.requests: list[RecordedRequest] = []
        self._failures: list[_Failure] = []
        self._lock = threading.Lock()
        self._pool: queue.LifoQueue[psycopg.Connection] = queue.LifoQueue()
        self._cache: set[tuple[str, str]] = set()
        self._stop = threading.Event()
        self._httpd = ThreadingHTTPServer((host, port), _make_handler(self))
        self._httpd.daemon_threads = True
        self._threads: list[threading.Thread] = []

    # -- lifecycle -------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def rest_url(self) -> str:
        return self.url + REST_PREFIX

    def start(self) -> PostgrestStandin:
        self.reload_schema()
        serve = threading.Thread(target=self._httpd.serve_forever, name="postgrest-standin", daemon=True)
        listen = threading.Thread(target=self._listen, name="postgrest-standin-listen", daemon=True)
        self._threads = [serve, listen]
        for t in self._threads:
            t.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        for t in self._threads:
            t.join(timeout=5)
        while not self._pool.empty():
            self._pool.get_nowait().close()

    # -- test controls ---------------------------------------------------------------------------
    def reset(self, *, max_rows: int | None = 1000) -> None:
        with self._lock:
            self.max_rows = max_rows
            self._failures.clear()
            self.requests.clear()

    def fail_next(self, n: int, *, status: int = 503, method: str | None = None, path: str | None = None) -> None:
        """The next ``n`` requests (of ``method``, to a path ending in ``path``, if given) get ``status``."""
        with self._lock:
            self._failures.append(_Failure(n, status, method.upper() if method else None, path))

    def reload_schema(self) -> None:
        """What ``NOTIFY pgrst, 'reload schema'`` triggers: re-read the table list from the catalog."""
        with self._connection() as conn:
            rows = conn.execute(
                "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE c.relkind IN ('r','v','m','p','f') "
                "AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
            ).fetchall()
        with self._lock:
            self._cache = {(s, t) for s, t in rows}

    def _take_failure(self, method: str, path: str) -> _Failure | None:
        with self._lock:
            for f in self._failures:
                if (f.remaining > 0 and (f.method is None or f.method == method)
                        and (f.path is None or path.endswith(f.path))):
                    f.remaining -= 1
                    return f
        return None

    def _record(self, req: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(req)

    # -- database --------------------------------------------------------------------------------
    def _connection(self) -> _PooledConnection:
        return _PooledConnection(self)

    def _listen(self) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(self.dsn, autocommit=True) as conn:
                    conn.execute("LISTEN pgrst")
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=0.2):
                            if note.payload in ("", "reload schema"):
                                self.reload_schema()
            except psycopg.Error:
                if self._stop.wait(0.5):
                    return

    def table_info(self, conn: psycopg.Connection, schema: str, table: str) -> TableInfo:
        with self._lock:
            known = (schema, table) in self._cache
        if not known:
            raise PgrstError(404, "PGRST205", f"Could not find the table '{schema}.{table}' in the schema cache")
        info = TableInfo(schema, table)
        rows = conn.execute(
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod), "
            "COALESCE(array_position(i.indkey::int2[], a.attnum) - array_lower(i.indkey::int2[], 1) + 1, 0) "
            "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "LEFT JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary "
            "WHERE n.nspname = %s AND c.relname = %s AND a.attnum > 0 AND NOT a.attisdropped "
            "ORDER BY a.attnum",
            [schema, table],
        ).fetchall()
        if not rows:  # dropped since the last reload
            raise PgrstError(404, "PGRST205", f"Could not find the table '{schema}.{table}' in the schema cache")
        pk: list[tuple[int, str]] = []
        for name, typ, pos in rows:
            info.columns[name] = typ
            if pos:
                pk.append((pos, name))
        info.primary_key = [n for _, n in sorted(pk)]
        return info

    def tables(self, schema: str) -> list[str]:
        with self._lock:
            return sorted(t for s, t in self._cache if s == schema)


class _PooledConnection:
    def __init__(self, server: PostgrestStandin) -> None:
        self.server = server
        self.conn: psycopg.Connection | None = None

    def __enter__(self) -> psycopg.Connection:
        try:
            self.conn = self.server._pool.get_nowait()
        except queue.Empty:
            self.conn = psycopg.connect(self.server.dsn, autocommit=True)
        return self.conn

    def __exit__(self, *exc: object) -> None:
        conn = self.conn
        if conn is None:
            return
        if conn.closed or conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            conn.close()
        else:
            self.server._pool.put(conn)


# -- request parsing ------------------------------------------------------------------------------
def _select_list(select: str, info: TableInfo) -> sql.Composable:
    items = [s for s in _split_outside_quotes(select or "*") if s.strip()]
    if not items or [i.strip() for i in items] == ["*"]:
        return sql.SQL("*")
    out: list[sql.Composable] = []
    for item in items:
        item = item.strip()
        if item == "*":
            out.append(sql.SQL("*"))
            continue
        if "(" in item or "::" in item:
            raise PgrstError(400, "PGRST100", f"the stand-in does not support '{item}' in select")
        alias, _, column = item.rpartition(":")
        column = _unquote(column)
        _check_column(column, info)
        out.append(sql.SQL("{} AS {}").format(sql.Identifier(column), sql.Identifier(_unquote(alias) or column)))
    return sql.SQL(", ").join(out)


def _check_column(column: str, info: TableInfo) -> None:
    if column not in info.columns:
        raise PgrstError(
            400, "42703", f"column {info.name}.{column} does not exist", hint=None, details=None
        )


def _parse_in(value: str) -> list[str | None]:
    if not (value.startswith("(") and value.endswith(")")):
        raise PgrstError(400, "PGRST100", f"failed to parse filter (in.{value})")
    inner = value[1:-1]
    if inner == "":
        return []
    out: list[str | None] = []
    for part in _split_outside_quotes(inner):
        out.append(part)
    return out


def _where(params: list[tuple[str, str]], info: TableInfo) -> tuple[sql.Composable, list[Any]]:
    conds: list[sql.Composable] = []
    args: list[Any] = []
    for key, raw in params:
        if key in _RESERVED_PARAMS:
            continue
        column = _unquote(key)
        negate = False
        op, _, value = raw.partition(".")
        if op == "not":
            negate = True
            op, _, value = value.partition(".")
        ident = sql.Identifier(column)
        if op in _OPS:
            if op in ("like", "ilike"):
                value = value.replace("*", "%")
            cond: sql.Composable = sql.SQL("{} {} %s").format(ident, sql.SQL(_OPS[op]))
            args.append(value)
        elif op == "is":
            if value.lower() not in _IS_VALUES:
                raise PgrstError(400, "PGRST100", f"failed to parse filter (is.{value})")
            cond = sql.SQL("{} IS {}").format(ident, sql.SQL(_IS_VALUES[value.lower()]))
        elif op == "in":
            values = _parse_in(value)
            if not values:
                cond = sql.SQL("FALSE")
            else:
                cond = sql.SQL("{} IN ({})").format(ident, sql.SQL(", ").join(sql.Placeholder() * len(values)))
                args.extend(values)
        else:
            raise PgrstError(400, "PGRST100", f"the stand-in does not support the operator '{op}' ({key}={raw})")
        _check_column(column, info)
        conds.append(sql.SQL("NOT ({})").format(cond) if negate else cond)
    if not conds:
        return sql.SQL(""), args
    return sql.SQL(" WHERE ") + sql.SQL(" AND ").join(conds), args


def _order(order: str | None, info: TableInfo) -> sql.Composable:
    if not order:
        return sql.SQL("")
    terms: list[sql.Composable] = []
    for item in _split_outside_quotes(order):
        parts = item.strip().split(".")
        column = _unquote(parts[0])
        _check_column(column, info)
        term = sql.Identifier(column)
        mods = [p.lower() for p in parts[1:]]
        direction = sql.SQL(" DESC") if "desc" in mods else sql.SQL(" ASC")
        nulls = sql.SQL("")
        if "nullsfirst" in mods:
            nulls = sql.SQL(" NULLS FIRST")
        elif "nullslast" in mods:
            nulls = sql.SQL(" NULLS LAST")
        terms.append(sql.Composed([term, direction, nulls]))
    return sql.SQL(" ORDER BY ") + sql.SQL(", ").join(terms)


def _prefer(header: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in header.split(","):
        k, _, v = part.strip().partition("=")
        if k:
            out[k] = v
    return out


def _error_from_psycopg(exc: psycopg.Error) -> PgrstError:
    diag = exc.diag
    code = diag.sqlstate or "XX000"
    status = 409 if code in ("23505", "23503") else 403 if code == "42501" else 400
    return PgrstError(status, code, diag.message_primary or str(exc), diag.message_detail, diag.message_hint)


def _make_handler(server: PostgrestStandin) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        # -- plumbing ------------------------------------------------------------------------
        def _reply(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
            data = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
            self.send_response(status)
            if body is not None:
                self.send_header("Content-Type", "application/json; charset=utf-8")
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD" and data:
                self.wfile.write(data)

        def _body(self) -> Any:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            if not raw:
                return None
            try:
                return json.loads(raw)
            except ValueError as exc:
                raise PgrstError(400, "PGRST102", f"Empty or invalid json: {exc}") from None

        def _handle(self) -> None:
            split = urlsplit(self.path)
            params = parse_qsl(split.query, keep_blank_values=True)
            record = RecordedRequest(self.command, split.path, params, self.headers.get("Prefer", ""),
                                     self.headers.get("Range", ""))
            server._record(record)
            body = self._body() if self.command in ("POST", "PATCH", "PUT", "DELETE") else None
            try:
                self._authorise()
                failure = server._take_failure(self.command, split.path)
                if failure is not None:
                    raise PgrstError(failure.status, "PGRST001" if failure.status >= 500 else "PGRST000",
                                     "Database client error. Retrying the connection.",
                                     "injected failure (postgrest stand-in)")
                if not split.path.startswith(REST_PREFIX):
                    raise PgrstError(404, "PGRST125", f"Invalid path specified in request URL: {split.path}")
                table = split.path[len(REST_PREFIX):].strip("/")
                schema = (self.headers.get("Accept-Profile") if self.command in ("GET", "HEAD")
                          else self.headers.get("Content-Profile")) or "public"
                if not table:
                    if self.command != "GET":
                        raise PgrstError(405, "PGRST117", "Unsupported HTTP method")
                    status, payload, headers = self._openapi(schema)
                else:
                    status, payload, headers = self._dispatch(schema, table, params, body)
            except PgrstError as err:
                status, payload, headers = err.status, err.body, {}
            record.status = status
            self._reply(status, payload, headers)

        def _authorise(self) -> None:
            apikey = self.headers.get("apikey")
            auth = self.headers.get("Authorization")
            if apikey != server.key or (auth is not None and auth != f"Bearer {server.key}"):
                raise PgrstError(401, "401", "Invalid API key",
                                 hint="Double check your Supabase `anon` or `service_role` API key.")

        do_GET = do_HEAD = do_POST = do_DELETE = do_PATCH = _handle

        # -- endpoints -----------------------------------------------------------------------
        def _openapi(self, schema: str) -> tuple[int, Any, dict[str, str]]:
            definitions: dict[str, Any] = {}
            with server._connection() as conn:
                for name in server.tables(schema):
                    try:
                        info = server.table_info(conn, schema, name)
                    except PgrstError:
                        continue
                    props = {}
                    for col, typ in info.columns.items():
                        prop: dict[str, Any] = {"format": typ}
                        if col in info.primary_key:
                            prop["description"] = "Note:\nThis is a Primary Key.<pk/>"
                        props[col] = prop
                    definitions[name] = {"type": "object", "properties": props,
                                         "required": list(info.primary_key)}
            return 200, {"swagger": "2.0", "info": {"title": "postgrest stand-in"},
                         "definitions": definitions, "paths": {}}, {}

        def _dispatch(self, schema: str, table: str, params: list[tuple[str, str]],
                      body: Any) -> tuple[int, Any, dict[str, str]]:
            with server._connection() as conn:
                info = server.table_info(conn, schema, table)
                try:
                    with conn.transaction():
                        if self.command in ("GET", "HEAD"):
                            return self._read(conn, info, params)
                        if self.command == "POST":
                            return self._insert(conn, info, params, body)
                        if self.command == "DELETE":
                            return self._delete(conn, info, params)
                        raise PgrstError(405, "PGRST117", f"the stand-in does not support {self.command}")
                except psycopg.Error as exc:
                    raise _error_from_psycopg(exc) from None

        def _read(self, conn: psycopg.Connection, info: TableInfo,
                  params: list[tuple[str, str]]) -> tuple[int, Any, dict[str, str]]:
            q = dict(params)
            offset = int(q.get("offset") or 0)
            limit = int(q["limit"]) if q.get("limit") not in (None, "") else None
            rng = self.headers.get("Range")
            if rng and (self.headers.get("Range-Unit", "items") == "items"):
                m = re.fullmatch(r"\s*(\d+)-(\d*)\s*", rng)
                if m:
                    offset = int(m.group(1))
                    if m.group(2):
                        limit = int(m.group(2)) - offset + 1
            if server.max_rows is not None:
                limit = server.max_rows if limit is None else min(limit, server.max_rows)
            target = sql.Identifier(info.schema, info.name)
            where, args = _where(params, info)
            inner = sql.SQL("SELECT {} FROM {}{}{}").format(_select_list(q.get("select", "*"), info), target,
                                                          where, _order(q.get("order"), info))
            if limit is not None:
                inner += sql.SQL(" LIMIT {}").format(sql.Literal(limit))
            if offset:
                inner += sql.SQL(" OFFSET {}").format(sql.Literal(offset))
            query = sql.SQL("SELECT COALESCE(json_agg(_r), '[]'::json)::text, count(*) FROM ({}) _r").format(inner)
            text, n = conn.execute(query, args).fetchone()  # type: ignore[misc]
            total = "*"
            if _prefer(self.headers.get("Prefer", "")).get("count") == "exact":
                count_q = sql.SQL("SELECT count(*) FROM {}{}").format(target, where)
                total = str(conn.execute(count_q, args).fetchone()[0])  # type: ignore[index]
            content_range = f"{offset}-{offset + n - 1}/{total}" if n else f"*/{total}"
            status = 206 if total != "*" and n and offset + n < int(total) else 200
            return status, text.encode(), {"Content-Range": content_range}

        def _insert(self, conn: psycopg.Connection, info: TableInfo, params: list[tuple[str, str]],
                    body: Any) -> tuple[int, Any, dict[str, str]]:
            prefer = _prefer(self.headers.get("Prefer", ""))
            q = dict(params)
            rows = body if isinstance(body, list) else [body] if isinstance(body, dict) else None
            if rows is None or not all(isinstance(r, dict) for r in rows):
                raise PgrstError(400, "PGRST102", "All object keys must match")
            if q.get("columns"):
                columns = [_unquote(c) for c in _split_outside_quotes(q["columns"])]
            else:
                columns = list(rows[0].keys()) if rows else []
            for c in columns:
                _check_column(c, info)
            representation = prefer.get("return") == "representation"
            if not rows or not columns:
                return 201, ([] if representation else None), {"Content-Range": "*/*"}
            target = sql.Identifier(info.schema, info.name)
            cols = sql.SQL(", ").join(sql.Identifier(c) for c in columns)
            stmt = sql.SQL("INSERT INTO {} ({}) SELECT {} FROM json_populate_recordset(NULL::{}, %s::json)").format(
                target, cols, cols, target
            )
            resolution = prefer.get("resolution")
            if resolution in ("merge-duplicates", "ignore-duplicates"):
                conflict = ([_unquote(c) for c in _split_outside_quotes(q["on_conflict"])]
                            if q.get("on_conflict") else info.primary_key)
                if not conflict:
                    raise PgrstError(400, "42P10", "there is no unique or exclusion constraint matching the "
                                     "ON CONFLICT specification")
                for c in conflict:
                    _check_column(c, info)
                stmt += sql.SQL(" ON CONFLICT ({})").format(sql.SQL(", ").join(sql.Identifier(c) for c in conflict))
                updates = [c for c in columns if c not in conflict]
                if resolution == "ignore-duplicates" or not updates:
                    stmt += sql.SQL(" DO NOTHING")
                else:
                    stmt += sql.SQL(" DO UPDATE SET ") + sql.SQL(", ").join(
                        sql.SQL("{} = EXCLUDED.{}").format(sql.Identifier(c), sql.Identifier(c)) for c in updates
                    )
            if representation:
                stmt = sql.SQL("WITH _w AS ({} RETURNING *) SELECT COALESCE(json_agg(_w), '[]'::json)::text "
                               "FROM _w").format(stmt)
                text = conn.execute(stmt, [json.dumps(rows)]).fetchone()[0]  # type: ignore[index]
                return 201, text.encode(), {"Content-Range": "*/*"}
            conn.execute(stmt, [json.dumps(rows)])
            return 201, None, {"Content-Range": "*/*"}

        def _delete(self, conn: psycopg.Connection, info: TableInfo,
                    params: list[tuple[str, str]]) -> tuple[int, Any, dict[str, str]]:
            prefer = _prefer(self.headers.get("Prefer", ""))
            target = sql.Identifier(info.schema, info.name)
            where, args = _where(params, info)
            stmt = sql.SQL("DELETE FROM {}{}").format(target, where)
            if prefer.get("return") == "representation":
                stmt = sql.SQL("WITH _d AS ({} RETURNING *) SELECT COALESCE(json_agg(_d), '[]'::json)::text "
                               "FROM _d").format(stmt)
                text = conn.execute(stmt, args).fetchone()[0]  # type: ignore[index]
                return 200, text.encode(), {"Content-Range": "*/*"}
            conn.execute(stmt, args)
            return 204, None, {"Content-Range": "*/*"}

    return Handler


__all__ = ["PgrstError", "PostgrestStandin", "RecordedRequest", "TableInfo"]
