"""Shared plumbing for the Supabase drivers: connection fields, the supabase-py client, retries, errors.

Connection fields (compat §4.1): ``url`` or ``project_id`` (→ ``https://<id>.supabase.co``); the API key
from ``service_role_key``, else ``anon_key``, else ``key`` (Osiris's order); the optional SQL channel from
``pg_dsn`` | ``dsn`` | ``sql_dsn``, else ``pg_host``/``pg_port``/``pg_user``/``pg_password``/``pg_database``
(plus ``pg_sslmode``); ``schema`` as a default schema. Credentials are only taken from the resolved
connection: a step config carrying ``url``, ``key``, a DSN… is rejected.

Every key, DSN and password is registered with :mod:`osiris_tui.secrets`, and every message this
module builds goes through ``mask_text``.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
from postgrest import APIError

from osiris_tui.drivers.base import RunnerContext
from osiris_tui.secrets import mask_text, register_secret, secret_values

T = TypeVar("T")

# Keys that may only come from a connection; found in a step config they are an error.
CREDENTIAL_KEYS = frozenset({
    "url", "project_id", "key", "service_role_key", "anon_key", "api_key", "apikey", "token",
    "pg_dsn", "dsn", "sql_dsn", "sql_url", "password", "pg_password", "pg_host", "pg_user",
})

DEFAULT_TIMEOUT = 60.0
DEFAULT_RETRIES = 3
DEFAULT_RETRY_BASE_SLEEP = 0.5
MAX_RETRY_SLEEP = 10.0
_MISSING_TABLE_CODES = {"PGRST205", "42P01"}


@dataclass(frozen=True)
class SupabaseConnection:
    url: str  # project URL, e.g. https://abcd.supabase.co
    key: str
    sql_conninfo: str | None  # libpq DSN/conninfo for the SQL channel, when configured
    schema: str | None

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or self.url

    @property
    def sql_host(self) -> str:
        if not self.sql_conninfo:
            return ""
        try:
            from psycopg.conninfo import conninfo_to_dict

            return str(conninfo_to_dict(self.sql_conninfo).get("host") or "localhost")
        except Exception:
            return "the configured database"


def reject_step_credentials(step_id: str, config: dict[str, Any], component: str) -> None:
    bad = sorted(k for k in config if k in CREDENTIAL_KEYS)
    if bad:
        raise ValueError(
            f"Step '{step_id}' ({component}): {', '.join(bad)} must not be set in the step config; "
            "credentials come only from a supabase connection (connection: '@supabase.<alias>')"
        )


def resolve_connection(step_id: str, config: dict[str, Any], component: str) -> SupabaseConnection:
    """Read the Supabase fields of ``config['resolved_connection']`` and register its secrets."""
    reject_step_credentials(step_id, config, component)
    conn = config.get("resolved_connection") or {}
    if not isinstance(conn, dict):
        raise ValueError(f"Step '{step_id}' ({component}): resolved_connection must be a mapping")
    for value in secret_values(conn):
        register_secret(value)
    key = conn.get("service_role_key") or conn.get("anon_key") or conn.get("key")
    register_secret(key)
    url = conn.get("url")
    if not url and conn.get("project_id"):
        url = f"https://{conn['project_id']}.supabase.co"
    missing = [name for name, value in (("url or project_id", url), ("service_role_key/anon_key/key", key))
               if not value]
    if missing:
        raise ValueError(
            f"Step '{step_id}' ({component}): the supabase connection lacks {' and '.join(missing)}"
        )
    url = str(url).rstrip("/")
    if url.endswith("/rest/v1"):
        url = url[: -len("/rest/v1")]
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"Step '{step_id}' ({component}): connection url must start with http:// or https://")
    conninfo = _sql_conninfo(conn)
    register_secret(conninfo)
    return SupabaseConnection(url=url, key=str(key), sql_conninfo=conninfo, schema=conn.get("schema"))


def _sql_conninfo(conn: dict[str, Any]) -> str | None:
    for name in ("pg_dsn", "dsn", "sql_dsn"):
        if conn.get(name):
            return str(conn[name])
    if conn.get("pg_host"):
        from psycopg.conninfo import make_conninfo

        register_secret(conn.get("pg_password"))
        parts = {
            "host": conn.get("pg_host"), "port": conn.get("pg_port"), "user": conn.get("pg_user"),
            "password": conn.get("pg_password"), "dbname": conn.get("pg_database") or conn.get("pg_dbname"),
            "sslmode": conn.get("pg_sslmode"),
        }
        return make_conninfo("", **{k: str(v) for k, v in parts.items() if v not in (None, "")})
    return None


class RestSession:
    """A supabase-py client for one step run, on an httpx client we own (timeouts; closed by ``close``).

    postgrest-py's own retry is switched off; :meth:`call` retries instead (for writes too). The status
    of the last HTTP response is kept so errors can be classified as transient (5xx) or not (4xx).
    """

    def __init__(self, conn: SupabaseConnection, schema: str, *, timeout: float = DEFAULT_TIMEOUT,
                 retries: int = DEFAULT_RETRIES, retry_base_sleep: float = DEFAULT_RETRY_BASE_SLEEP) -> None:
        from supabase import create_client
        from supabase.lib.client_options import SyncClientOptions

        self.conn = conn
        self.schema = schema
        self.retries = max(0, int(retries))
        self.retry_base_sleep = max(0.0, float(retry_base_sleep))
        self.last_status: int | None = None
        self.http = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 15.0)),
            follow_redirects=True,
            event_hooks={"response": [self._on_response]},
        )
        try:
            options = SyncClientOptions(
                schema=schema, httpx_client=self.http, postgrest_client_retry=False,
                auto_refresh_token=False, persist_session=False,
            )
            self.client = create_client(conn.url, conn.key, options)
        except Exception:
            self.http.close()
            raise

    def _on_response(self, response: httpx.Response) -> None:
        self.last_status = response.status_code

    def table(self, name: str) -> Any:
        return self.client.table(name)

    @property
    def rest_url(self) -> str:
        return self.conn.url + "/rest/v1"

    def call(self, fn: Callable[[], T], *, on_retry: Callable[[int, float, str], None] | None = None) -> T:
        """``fn()`` with up to ``retries`` retries on transient errors (5xx, connection problems).

        Backoff: ``retry_base_sleep * 2**attempt`` (capped at 10 s) plus up to ``retry_base_sleep`` of jitter.
        4xx answers are never retried.
        """
        attempt = 0
        while True:
            self.last_status = None
            try:
                return fn()
            except (APIError, httpx.TransportError) as exc:
                if attempt >= self.retries or not is_transient(exc, self.last_status):
                    raise
                delay = min(MAX_RETRY_SLEEP, self.retry_base_sleep * 2**attempt)
                delay += random.uniform(0, self.retry_base_sleep)
                attempt += 1
                if on_retry is not None:
                    on_retry(attempt, delay, describe_error(exc, self.last_status))
                time.sleep(delay)

    def table_exists(self, table: str) -> bool:
        """``select * limit 0``: False for PostgREST's missing-table answers, an exception for other errors."""
        try:
            self.call(lambda: self.table(table).select("*").limit(0).execute())
            return True
        except APIError as exc:
            if exc.code in _MISSING_TABLE_CODES:
                return False
            raise

    def openapi(self) -> dict[str, Any] | None:
        """PostgREST's OpenAPI description of the schema (best effort: None when unavailable)."""
        headers = dict(self.client.postgrest.headers)
        headers["Accept"] = "application/openapi+json"

        def fetch() -> httpx.Response:
            response = self.http.get(self.rest_url + "/", headers=headers)
            if response.status_code >= 500:
                raise APIError({"code": str(response.status_code), "message": response.reason_phrase})
            return response

        try:
            response = self.call(fetch)
            if response.status_code != 200:
                return None
            data = response.json()
            return data if isinstance(data, dict) else None
        except (APIError, httpx.HTTPError, ValueError):
            return None

    def close(self) -> None:
        try:
            self.client.postgrest.aclose()
        finally:
            self.http.close()


def is_transient(exc: BaseException, status: int | None) -> bool:
    if isinstance(exc, httpx.TransportError):
        return True
    if status is not None:
        return status >= 500
    code = str(getattr(exc, "code", "") or "")
    if code.isdigit():
        return int(code) >= 500
    return code.startswith("PGRST00") or code[:2] in ("08", "53") or code in ("40001", "40P01", "57P01")


def describe_error(exc: BaseException, status: int | None = None) -> str:
    """A one-line, masked description of a REST or transport error."""
    if isinstance(exc, APIError):
        parts = [f"HTTP {status}" if status else "", f"[{exc.code}]" if exc.code else "", exc.message or ""]
        text = " ".join(p for p in parts if p)
        if exc.details:
            text += f" (details: {exc.details})"
        if exc.hint:
            text += f" (hint: {exc.hint})"
    else:
        text = f"{type(exc).__name__}: {exc}"
    return mask_text(text.strip() or type(exc).__name__)


def config_int(step_id: str, config: dict[str, Any], name: str, default: int, *, minimum: int = 0) -> int:
    value = config.get(name)
    if value is None:
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"Step '{step_id}': '{name}' must be an integer, got {value!r}") from None
    if number < minimum:
        raise ValueError(f"Step '{step_id}': '{name}' must be at least {minimum}, got {number}")
    return number


def config_float(step_id: str, config: dict[str, Any], name: str, default: float) -> float:
    value = config.get(name)
    if value is None:
        return default
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"Step '{step_id}': '{name}' must be a number, got {value!r}") from None
    if number < 0:
        raise ValueError(f"Step '{step_id}': '{name}' must not be negative")
    return number


def log_event(ctx: RunnerContext, name: str, **fields: Any) -> None:
    """``ctx.log_event`` when the context has it (Osiris's own contexts only have ``log_metric``)."""
    fn = getattr(ctx, "log_event", None)
    if callable(fn):
        fn(name, **fields)


def check_cancelled(ctx: RunnerContext) -> None:
    fn = getattr(ctx, "check_cancelled", None)
    if callable(fn):
        fn()


def split_names(value: Any) -> list[str]:
    """``"a,b"`` / ``["a", "b"]`` → ``["a", "b"]``."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, list | tuple):
        return [str(v).strip() for v in value if str(v).strip()]
    raise ValueError(f"expected a column name or a list of names, got {value!r}")
