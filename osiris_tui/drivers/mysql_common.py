"""Shared MySQL/MariaDB plumbing for mysql.extractor and mysql.writer: connection settings, connecting,
identifier quoting and error wrapping.

Every message that leaves this module goes through `secrets.mask_text`; the password is registered as a
secret as soon as the connection settings are read, so it is masked even inside server error text.
"""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from osiris_tui.drivers.base import StepContext
from osiris_tui.secrets import mask_exception, mask_text, register_secret

DEFAULT_PORT = 3306
CONNECT_TIMEOUT = 10

_SSL_KEYS = ("ssl_ca", "ssl_cert", "ssl_key", "ssl_verify_cert", "ssl_verify_identity", "ssl_disabled")

# Server/client error codes that get a hint.
_HINTS = {
    1045: "check the user/password in osiris_connections.yaml",
    1044: "the user has no access to this database; check the database name and the user's grants",
    1049: "the database does not exist; check 'database' in osiris_connections.yaml",
    2003: "the server is not reachable; check host/port in osiris_connections.yaml and that it is running",
    2005: "unknown host; check 'host' in osiris_connections.yaml",
    2013: "the connection was lost; check the network and the server's timeouts",
    1146: "the table does not exist; check the table name (and create_if_missing for writers)",
    1054: "unknown column; check the column names",
    1064: "SQL syntax error; check the query",
    1148: "the server refuses LOAD DATA LOCAL INFILE; set load_method: insert",
    3948: "the server refuses LOAD DATA LOCAL INFILE; set load_method: insert",
}


@dataclass(frozen=True)
class MySQLSettings:
    host: str
    port: int
    database: str
    user: str
    password: str = field(repr=False)
    charset: str = "utf8mb4"
    ssl: dict[str, Any] = field(default_factory=dict)
    connect_timeout: int = CONNECT_TIMEOUT
    read_timeout: int | None = None
    write_timeout: int | None = None

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}/{self.database}"

    def connectorx_url(self) -> str:
        """`mysql://user:pw@host:port/db` — contains the password: never log or show it."""
        user = quote(self.user, safe="")
        pw = quote(self.password, safe="")
        return f"mysql://{user}:{pw}@{self.host}:{self.port}/{quote(self.database, safe='')}"


def settings_from_config(step_id: str, config: dict[str, Any]) -> MySQLSettings:
    """Read `resolved_connection` (spec-default keys at the top level of `config` are ignored)."""
    conn = config.get("resolved_connection") or {}
    if not isinstance(conn, dict) or not conn:
        raise ValueError(
            f"Step '{step_id}' has no MySQL connection: set 'connection: @mysql.<alias>' on the step "
            "and define the alias in osiris_connections.yaml"
        )
    password = conn.get("password")
    password = "" if password is None else str(password)
    register_secret(password)
    database = conn.get("database") or conn.get("db") or conn.get("schema")
    if not database:
        raise ValueError(f"Step '{step_id}': the MySQL connection has no 'database'")
    ssl = {k: conn[k] for k in _SSL_KEYS if conn.get(k) not in (None, "")}
    if isinstance(conn.get("ssl"), dict):
        ssl.update({f"ssl_{k}" if not k.startswith("ssl_") else k: v for k, v in conn["ssl"].items()})

    def _int(key: str, default: int | None) -> int | None:
        value = conn.get(key)
        return default if value in (None, "") else int(value)

    return MySQLSettings(
        host=str(conn.get("host") or "localhost"),
        port=int(conn.get("port") or DEFAULT_PORT),
        database=str(database),
        user=str(conn.get("user") or conn.get("username") or "root"),
        password=password,
        charset=str(conn.get("charset") or "utf8mb4"),
        ssl=ssl,
        connect_timeout=_int("connect_timeout", CONNECT_TIMEOUT) or CONNECT_TIMEOUT,
        read_timeout=_int("read_timeout", None),
        write_timeout=_int("write_timeout", None),
    )


def error_code(exc: BaseException) -> int | None:
    """The MySQL error number of a PyMySQL or connectorx exception, if any."""
    args = getattr(exc, "args", ())
    if args and isinstance(args[0], int):
        return args[0]
    m = re.search(r"ERROR (\d{4})", str(exc))
    return int(m.group(1)) if m else None


def _hint(exc: BaseException) -> str:
    code = error_code(exc)
    hint = _HINTS.get(code) if code is not None else None
    if hint is None and isinstance(exc, (ConnectionError, OSError, TimeoutError)):
        hint = _HINTS[2003]
    return f" (hint: {hint})" if hint else ""


def wrap_error(kind: str, step_id: str, settings: MySQLSettings, exc: BaseException) -> RuntimeError:
    """`RuntimeError("MySQL <kind> failed for step 's' on host:port/db: <masked error> (hint: …)")`."""
    masked = mask_text(mask_exception(exc))
    text = f"MySQL {kind} failed for step '{step_id}' on {settings.where}: {masked}{_hint(exc)}"
    return RuntimeError(mask_text(text))


def connect(
    step_id: str,
    settings: MySQLSettings,
    *,
    autocommit: bool = True,
    local_infile: bool = False,
) -> Any:
    """A PyMySQL connection; any failure becomes `RuntimeError("MySQL connection failed …")`."""
    import pymysql

    kwargs: dict[str, Any] = dict(
        host=settings.host,
        port=settings.port,
        user=settings.user,
        password=settings.password,
        database=settings.database,
        charset=settings.charset,
        autocommit=autocommit,
        connect_timeout=settings.connect_timeout,
        local_infile=local_infile,
    )
    if settings.read_timeout:
        kwargs["read_timeout"] = settings.read_timeout
    if settings.write_timeout:
        kwargs["write_timeout"] = settings.write_timeout
    kwargs.update(settings.ssl)
    try:
        return pymysql.connect(**kwargs)
    except Exception as exc:
        raise wrap_error("connection", step_id, settings, exc) from None


def stop_on_cancel(conn: Any, ctx: StepContext, step_id: str, settings: MySQLSettings) -> Callable[[], None]:
    """Make a cancel break `conn` at once: its socket is shut (a blocked read returns) and the server is
    told to `KILL` the connection (so a long query or load stops there too, and its transaction rolls
    back). Returns the function that unregisters the hook; drivers call it when done with `conn`."""
    thread_id = conn.thread_id()

    def kill() -> None:
        try:
            killer = connect(step_id, settings)
            try:
                with killer.cursor() as cur:
                    cur.execute(f"KILL {int(thread_id)}")
            finally:
                close_quietly(killer)
        except Exception:  # it may have ended already
            pass

    def hook() -> None:
        sock = getattr(conn, "_sock", None)
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        threading.Thread(target=kill, name="osiris-tui-mysql-kill", daemon=True).start()

    return ctx.on_cancel(hook)


def close_quietly(conn: Any) -> None:
    if conn is None:
        return
    try:
        conn.close()
    except Exception:
        try:
            conn._force_close()
        except Exception:
            pass


def quote_ident(name: str) -> str:
    """Backtick-quote one identifier (backticks inside are doubled)."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"invalid identifier: {name!r}")
    return "`" + name.replace("`", "``") + "`"


def quote_table(name: str) -> str:
    """`db.table` → `` `db`.`table` ``; a plain name is quoted as one identifier."""
    parts = name.split(".") if "." in name and "`" not in name else [name]
    return ".".join(quote_ident(p) for p in parts)


def is_sql_error(exc: BaseException) -> bool:
    """True for errors the server raised about the statement or the login (not worth retrying elsewhere)."""
    code = error_code(exc)
    return code is not None and (code < 2000 or code >= 3000)
