"""The one place that decides what is secret and how it is masked.

Two rules, applied everywhere something is shown or written:

* **by key**: a value under a secret-looking key (the union of Osiris's rules plus `dsn`/`pg_dsn`/
  `sql_dsn`, `service_role_key`, `anon_key`…) is masked;
* **by value**: every resolved secret value is registered here, so it is masked wherever it turns up in
  text (an exception message, a SQL error, a log line). `user:password@` inside any URL is masked too.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, quote_plus

MASK = "***"
ARTIFACT_MASK = "***MASKED***"

_EXACT = {
    "password", "passwd", "pwd", "pass", "key", "token", "secret", "auth", "authorization", "dsn",
    "pg_dsn", "sql_dsn", "connection_string", "api_key", "apikey", "bearer", "credential", "credentials",
    "service_role_key", "anon_key", "service_key", "client_secret", "client_key", "private_key",
    "access_token", "refresh_token", "auth_token", "bearer_token", "pg_password", "supabase_key",
}
_CONTAINS = re.compile(
    r"password|passwd|secret|credential|api_?key|private_?key|access_?key|secret_?key|session_?key"
    r"|encryption_?key|connection_string|dsn|bearer|(^|_)auth(_|$)|authorization"
)
_TOKEN = re.compile(r"(^|_)token(_|$)")
_SUFFIX = re.compile(r"(_pw|_pwd|_pass|_key)$")
_NEVER = {
    "primary_key", "primary_keys", "upsert_keys", "upsert_key", "sort_key", "partition_key", "unique_key",
    "foreign_key", "key_column", "key_columns", "session_id", "event", "timestamp", "ts", "duration",
    "duration_ms", "token_count", "count", "step_id", "metric", "cache_key",
}
_NUMERIC_SUFFIXES = ("_count", "_ms", "_seconds", "_bytes", "_tokens")

_URL_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)(?P<user>[^:/@\s]*):(?P<pw>[^@/\s]+)@")
_KV_TEXT = re.compile(
    r"(?i)(?P<k>\b(?:password|passwd|pwd|secret|token|api_?key|apikey|authorization|access_?key|"
    r"private_?key|service_role_key|anon_key)\b[\"']?\s*[:=]\s*[\"']?)(?!(?i:bearer)\s)(?P<v>[^\s\"',;&}]+)"
)
_BEARER = re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._\-~+/]+=*")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\b")

MIN_SECRET_LENGTH = 4


def is_secret_key(key: str) -> bool:
    """True when a value stored under `key` must be masked."""
    k = key.lower()
    if k in _NEVER or k.endswith(_NUMERIC_SUFFIXES):
        return False
    return bool(k in _EXACT or _CONTAINS.search(k) or _TOKEN.search(k) or _SUFFIX.search(k))


class SecretRegistry:
    """Secret values seen so far in this process; masks them in any text. Thread-safe."""

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self._lock = threading.Lock()

    def register(self, value: Any) -> None:
        if not isinstance(value, str) or len(value) < MIN_SECRET_LENGTH:
            return
        forms = {value, quote(value, safe=""), quote_plus(value)}
        # A DSN is a secret as a whole, and so is the password inside it.
        m = _URL_USERINFO.search(value)
        if m and len(m.group("pw")) >= MIN_SECRET_LENGTH:
            forms.add(m.group("pw"))
        with self._lock:
            if forms <= self._values:
                return
            self._values |= forms
            ordered = sorted(self._values, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(v) for v in ordered))

    def register_all(self, values: Iterable[Any]) -> None:
        for v in values:
            self.register(v)

    def mask(self, text: str) -> str:
        pattern = self._pattern
        if pattern is not None:
            text = pattern.sub(MASK, text)
        return text

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
            self._pattern = None


REGISTRY = SecretRegistry()


def register_secret(value: Any) -> None:
    """Remember a resolved secret value so it is masked wherever it appears in text."""
    REGISTRY.register(value)


def mask_url(text: str) -> str:
    """`scheme://user:password@host` → `scheme://user:***@host`."""
    return _URL_USERINFO.sub(lambda m: f"{m.group('scheme')}{m.group('user')}:{MASK}@", text)


def mask_text(text: str) -> str:
    """Mask registered secret values, URL passwords, `password=…`-style pairs, bearer tokens and JWTs."""
    if not text:
        return text
    text = REGISTRY.mask(text)
    text = mask_url(text)
    text = _BEARER.sub(lambda m: m.group(1) + MASK, text)
    text = _KV_TEXT.sub(lambda m: m.group("k") + MASK, text)
    return _JWT.sub(MASK, text)


def mask_value(value: Any, *, mask: str = MASK, plain_keys: frozenset[str] = frozenset()) -> Any:
    """A deep copy of `value` with secret keys masked and every string passed through `mask_text`.

    `plain_keys` are top-level keys that are not secret in this record (an event's `key` names a
    DataFrame input, not a credential); their values are still masked by value.
    """
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if (isinstance(k, str) and k not in plain_keys and is_secret_key(k) and v not in (None, "")
                    and not isinstance(v, dict | list)):
                out[k] = mask
            else:
                out[k] = mask_value(v, mask=mask)
        return out
    if isinstance(value, list | tuple):
        return [mask_value(v, mask=mask) for v in value]
    if isinstance(value, str):
        return mask_text(value)
    return value


def secret_values(connection: dict[str, Any]) -> list[str]:
    """The values of a resolved connection that are secret by key (to register them)."""
    found: list[str] = []
    for k, v in connection.items():
        if isinstance(v, dict):
            found.extend(secret_values(v))
        elif isinstance(v, str) and is_secret_key(k):
            found.append(v)
        elif isinstance(v, str) and _URL_USERINFO.search(v):
            found.append(_URL_USERINFO.search(v).group("pw"))  # type: ignore[union-attr]
    return found


def mask_exception(exc: BaseException) -> str:
    """`Type: message` of an exception, masked."""
    return mask_text(f"{type(exc).__name__}: {exc}")
