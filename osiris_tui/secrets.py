"""The one place that decides what is secret and how it is masked.

This module imports nothing from the package, so every layer (drivers, errors, manifest, runtime, tui)
can use it without import cycles.

**By key.** :func:`is_secret_key` is the only list of secret names. A key is normalised first (camelCase
split, case folded, ``-``/``.``/space turned into ``_``), so ``accessToken``, ``x-api-key``, ``API_KEY``
and ``api_key`` are the same name. A value under a secret key is masked whatever its type: a string, a
number, or a whole mapping or list.

**By value.** Every resolved secret is registered (:func:`register_secret`) and masked wherever it turns
up in text, together with the forms it takes in messages: URL-encoded, ``repr()``-escaped, JSON-escaped
(and those escapes applied twice), SQL-quoted. How a value is matched depends on what it looks like, so
that masking a secret never mangles ordinary text:

* a *long, high-entropy* value (at least :data:`LONG_SECRET_LENGTH` characters mixing at least two of
  lower case, upper case, digits and symbols) is masked as a substring anywhere, e.g. a token embedded
  in a URL or glued to other characters;
* any other value of at least :data:`MIN_SECRET_LENGTH` characters is masked only as a whole token: it
  must not have a letter, digit or ``_`` right before or after it (when it starts or ends with one).
  A password ``paid`` masks ``'paid'`` but leaves ``'unpaid'`` and ``paid_at`` alone;
* a value of 2 or 3 characters is masked only when it stands alone inside quotes (``'ab'``, ``"ab"``,
  ```ab```), which is how drivers and databases quote values in messages; a single character is never
  masked by value. (Under a secret key, in ``password=…`` pairs and as a URL password a value is masked
  whatever its length.)

**Patterns.** Whether or not a value was registered, text is also masked for ``scheme://user:password@``
(the password runs to the last ``@`` before the host, as URL parsers read it, so an unencoded ``@`` in a
password is covered), ``password=…``/``"token": "…"`` pairs (but not MySQL's ``(using password: YES)``),
``Bearer …`` and JWTs. No replacement removes a quote or a backslash, so masking JSON text keeps it valid.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote, quote_plus, unquote

MASK = "***"
ARTIFACT_MASK = "***MASKED***"

MIN_SECRET_LENGTH = 4
LONG_SECRET_LENGTH = 8

# -- by key ----------------------------------------------------------------------------------------------
# The single list of secret names. Keys are normalised to snake_case words before matching.
#: a key holding one of these words is secret (``db_password``, ``sas_token``, ``x_api_key``…)
SECRET_WORDS = frozenset({
    "password", "passwd", "pwd", "pass", "passphrase", "pgpass", "pgpassword", "secret", "secrets",
    "token", "tokens", "credential", "credentials", "creds", "auth", "authorization", "bearer", "cookie",
    "cookies", "signature", "pin", "jwt", "otp", "sas", "dsn", "license", "licence", "apikey", "pw",
})
#: a key containing one of these word sequences is secret
SECRET_PHRASES = (
    ("api", "key"), ("private", "key"), ("access", "key"), ("secret", "key"), ("session", "key"),
    ("encryption", "key"), ("service", "key"), ("client", "key"), ("anon", "key"), ("role", "key"),
    ("supabase", "key"), ("signing", "key"), ("master", "key"), ("license", "key"), ("conn", "str"),
    ("connection", "string"), ("conn", "string"), ("service", "account", "json"),
    ("service", "account", "key"), ("service", "account", "info"),
)
#: glued spellings (``PGPASSWORD``, ``accesstoken``) found inside a single word
SECRET_FRAGMENTS = (
    "password", "passwd", "passphrase", "secret", "credential", "apikey", "privatekey", "accesskey",
    "secretkey", "accesstoken", "authtoken", "refreshtoken", "apitoken", "bearertoken", "idtoken",
    "connstr", "connectionstring", "sqldsn", "pgdsn",
)
#: the bare ``key`` (a Supabase key) and ``<anything>_key`` are secret, except these column/cache names
NOT_SECRET_KEY_PREFIXES = frozenset({
    "primary", "upsert", "sort", "partition", "unique", "foreign", "cache", "join", "merge", "dedupe",
    "dedup", "group", "natural", "surrogate", "business", "distribution", "cluster", "shard", "row", "hash",
    "idempotency", "lookup", "order", "index", "object", "s3", "column", "map", "dict", "composite",
})
#: names that are never secret although they contain a secret word
NOT_SECRET = frozenset({
    "primary_keys", "upsert_keys", "key_column", "key_columns", "keys_removed", "session_id", "event",
    "token_count", "token_type", "auth_method", "auth_type", "auth_mode", "pin_memory",
})
#: a last word that makes the key a counter or a unit (``token_count``, ``prompt_tokens``…)
_COUNTER_WORDS = frozenset({"count", "counts", "ms", "seconds", "secs", "bytes", "size", "length", "len",
                            "limit", "total"})
_COUNTED_TOKENS = frozenset({"prompt", "completion", "total", "input", "output", "max", "min", "num",
                             "used", "cached", "reasoning", "rows"})

_CAMEL_1 = re.compile(r"([A-Z]+)([A-Z][a-z])")
_CAMEL_2 = re.compile(r"([a-z0-9])([A-Z])")
_SEPARATORS = re.compile(r"[^0-9a-z]+")


def normalize_key(name: str) -> str:
    """``accessToken`` → ``access_token``; ``X-API-Key`` → ``x_api_key``; ``DB.Password`` → ``db_password``."""
    text = _CAMEL_2.sub(r"\1_\2", _CAMEL_1.sub(r"\1_\2", name))
    return _SEPARATORS.sub("_", text.lower()).strip("_")


def _has_phrase(words: list[str], phrase: tuple[str, ...]) -> bool:
    n = len(phrase)
    return any(tuple(words[i:i + n]) == phrase for i in range(len(words) - n + 1))


def is_secret_key(name: Any) -> bool:
    """True when a value stored under `name` (a field, an event key, an env variable) must be masked."""
    return isinstance(name, str) and _is_secret_name(name)


@functools.lru_cache(maxsize=4096)
def _is_secret_name(name: str) -> bool:
    key = normalize_key(name)
    if not key or key in NOT_SECRET:
        return False
    words = key.split("_")
    last = words[-1]
    if last in _COUNTER_WORDS and len(words) > 1:
        return False
    if last == "tokens" and len(words) > 1 and words[-2] in _COUNTED_TOKENS:
        return False
    if last in ("key", "keys"):
        if len(words) == 1:
            return last == "key"
        if words[-2] in NOT_SECRET_KEY_PREFIXES:
            return False
        return last == "key" or any(_has_phrase(words, p) for p in SECRET_PHRASES)
    if any(w in SECRET_WORDS for w in words):
        return True
    if any(_has_phrase(words, p) for p in SECRET_PHRASES):
        return True
    return any(f in w for w in words for f in SECRET_FRAGMENTS)


# -- by value ----------------------------------------------------------------------------------------------
_QUOTES = "'\"`"


def _escaped_forms(value: str) -> set[str]:
    """`value` as it appears inside repr(), JSON, URLs and SQL literals (one and two levels deep)."""
    forms = {value}
    for _ in range(2):
        for form in list(forms):
            forms.add(repr(form)[1:-1])
            forms.add(repr('"' + form)[2:-1])  # repr of a string that also holds a ' (chooses "…")
            forms.add(json.dumps(form)[1:-1])
            forms.add(json.dumps(form, ensure_ascii=False)[1:-1])
    for form in list(forms):
        forms.update({quote(form, safe=""), quote_plus(form), form.replace("'", "''")})
    return {f for f in forms if f}


def _is_long(value: str) -> bool:
    if len(value) < LONG_SECRET_LENGTH:
        return False
    classes = (any(c.islower() for c in value), any(c.isupper() for c in value),
               any(c.isdigit() for c in value), any(not c.isalnum() for c in value))
    return sum(classes) >= 2


def _token_pattern(form: str) -> str:
    """`form` as a whole token: no word character glued to a word-character end."""
    body = re.escape(form)
    before = r"(?<!\w)" if re.match(r"\w", form) else ""
    after = r"(?!\w)" if re.search(r"\w$", form) else ""
    return before + body + after


def _secret_text(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str) and value and not value.isspace():
        return value
    return None


class SecretRegistry:
    """Secret values seen so far in this process; masks them in any text. Thread-safe."""

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self._lock = threading.Lock()

    def register(self, value: Any) -> None:
        text = _secret_text(value)
        if text is None:
            return
        parts = {text}
        # A DSN is a secret as a whole, and so is the password inside it, as a URL parser reads it
        # (up to the last '@'), decoded, and split at an unencoded '@' (what a naive parser shows).
        m = _URL_USERINFO.search(text)
        if m:
            parts |= url_password_parts(m.group("pw"))
        with self._lock:
            if parts <= self._values:
                return
            self._values |= parts
            self._pattern = self._compile(self._values)

    @staticmethod
    def _compile(values: set[str]) -> re.Pattern[str] | None:
        alternatives: dict[str, str] = {}
        for value in values:
            forms = _escaped_forms(value)
            for form in forms:
                if _is_long(value):
                    alternatives.setdefault(form, re.escape(form))
                elif len(value) >= MIN_SECRET_LENGTH:
                    alternatives.setdefault(form, _token_pattern(form))
                elif len(value) > 1:
                    q = re.escape(_QUOTES)
                    alternatives.setdefault(form, f"(?<=[{q}]){re.escape(form)}(?=[{q}])")
        if not alternatives:
            return None
        ordered = sorted(alternatives, key=len, reverse=True)  # the longest form wins where two start
        # The lookahead on the possible first characters lets the scan skip most positions at once.
        first = "".join(sorted({re.escape(f[0]) for f in ordered}))
        return re.compile(f"(?=[{first}])(?:" + "|".join(alternatives[f] for f in ordered) + ")")

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


def url_password_parts(password: str) -> set[str]:
    """The forms a URL password takes in messages: as written and decoded, plus each side of an unencoded
    '@' (what a parser that splits at the first '@' shows) when that side is long enough to match safely."""
    decoded = unquote(password)
    pieces = {p for p in (*password.split("@"), *decoded.split("@")) if len(p) >= MIN_SECRET_LENGTH}
    return {password, decoded, *pieces} - {""}


def register_secret(value: Any) -> None:
    """Remember a resolved secret value (a string or a number) so it is masked wherever it appears."""
    REGISTRY.register(value)


# -- text patterns ---------------------------------------------------------------------------------------
# The password runs to the last '@' before the host ('p@ss' in 'u:p@ss@host'); it never crosses '/',
# whitespace, quotes or a backslash, so it cannot eat JSON or Python string delimiters.
_URL_USERINFO = re.compile(
    r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)(?P<user>[^:/@\s\"'\\]*):(?P<pw>[^/\s\"'\\]+)@"
)
_KV_TEXT = re.compile(
    r"(?i)(?P<k>\b(?:password|passwd|pwd|passphrase|secret|token|api_?key|apikey|authorization|access_?key|"
    r"private_?key|service_role_key|anon_key|access_?token|refresh_?token|auth_?token)\b"
    # `password=x`, `password: 'x'`; a quoted key (`'password': …`) only with a quoted or numeric value,
    # so that prose such as "key 'db.password': Environment variable …" is left alone.
    r"(?:\s*[:=]\s*[\"']?|[\"']\s*[:=]\s*(?:[\"']|(?=[0-9-]))))"
    r"(?!(?i:bearer)\s)(?!(?:YES|NO)\))(?![\[{(]|\$\{)(?P<v>[^\s\"',;&}\\]+)"
)
# Every key `_KV_TEXT` matches contains one of these.
_KV_WORDS = ("pass", "pwd", "secret", "token", "key", "auth")
_KV_HINT = re.compile("|".join(_KV_WORDS))
_BEARER = re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._\-~+/]+=*")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\b")


def mask_url(text: str) -> str:
    """`scheme://user:password@host` → `scheme://user:***@host`."""
    return _URL_USERINFO.sub(lambda m: f"{m.group('scheme')}{m.group('user')}:{MASK}@", text)


def mask_text(text: str, *, pairs: bool = True) -> str:
    """Mask registered secret values, URL passwords, bearer tokens, JWTs and (unless `pairs` is False)
    `password=…`-style pairs. A pair's value that starts a list, a mapping or a `${VAR}` reference is kept."""
    if not text:
        return text
    text = REGISTRY.mask(text)
    # Each pattern runs only where the text holds what it needs (a substring test costs far less than
    # a regex scan, and most text has none of them): records are masked several times on their way.
    low = text.lower()
    if "://" in text:
        text = mask_url(text)
    if "bearer" in low:
        text = _BEARER.sub(lambda m: m.group(1) + MASK, text)
    if pairs and _KV_HINT.search(low):
        text = _KV_TEXT.sub(lambda m: m.group("k") + MASK, text)
    if "eyj" in low:
        text = _JWT.sub(MASK, text)
    return text


def mask_value(value: Any, *, mask: str = MASK, plain_keys: frozenset[str] = frozenset()) -> Any:
    """A deep copy of `value`: values under secret keys replaced by `mask` (whole mappings and lists too),
    every other string passed through :func:`mask_text`.

    `plain_keys` are top-level keys that are not secret in this record (an event's `key` names a
    DataFrame input, not a credential); their values are still masked by value.
    """
    # (In the order values come most often: every record of the run goes through here, twice.)
    if isinstance(value, str):
        return mask_text(value)
    if value is None or type(value) in _PLAIN_SCALARS:
        return value
    if isinstance(value, dict | Mapping):
        out = {}
        for k, v in value.items():
            if k not in plain_keys and is_secret_key(k) and not _is_empty(v):
                out[k] = mask
            else:
                out[k] = mask_value(v, mask=mask)
        return out
    if isinstance(value, list | tuple):
        return [mask_value(v, mask=mask) for v in value]
    return value


_PLAIN_SCALARS = frozenset({int, float, bool})


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str | Mapping | list | tuple) and len(value) == 0)


def _leaves(value: Any) -> Iterable[Any]:
    if isinstance(value, Mapping):
        for v in value.values():
            yield from _leaves(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _leaves(v)
    else:
        yield value


def secret_values(fields: Mapping[str, Any]) -> list[Any]:
    """The values of a connection or config that are secret: by key (every leaf of a secret mapping or
    list) and the password of any URL."""
    found: list[Any] = []
    for k, v in fields.items():
        if is_secret_key(k):
            found.extend(x for x in _leaves(v) if _secret_text(x) is not None)
        elif isinstance(v, Mapping):
            found.extend(secret_values(v))
        elif isinstance(v, list | tuple):
            for item in v:
                if isinstance(item, Mapping):
                    found.extend(secret_values(item))
        if isinstance(v, str) and (m := _URL_USERINFO.search(v)):
            found.extend(sorted(url_password_parts(m.group("pw"))))
    return found


def register_secrets(fields: Mapping[str, Any]) -> None:
    """Register every secret value of a connection or config (see :func:`secret_values`)."""
    REGISTRY.register_all(secret_values(fields))


def mask_exception(exc: BaseException) -> str:
    """`Type: message` of an exception, masked."""
    return mask_text(f"{type(exc).__name__}: {exc}")


class MaskingFormatter(logging.Formatter):
    """A logging formatter whose output (message and traceback) is masked."""

    def format(self, record: logging.LogRecord) -> str:
        return mask_text(super().format(record))


# -- YAML text ---------------------------------------------------------------------------------------------
_YAML_LINE = re.compile(
    r"^(?P<head>\s*(?:-\s+)?(?P<q>[\"']?)(?P<key>[^\s:\"'#{}\[\],][^:\"'#{}\[\],]*?)(?P=q)\s*:)"
    r"(?P<sep>[ \t]+)(?P<value>[^\s#{\[|>][^#]*?)\s*(?P<comment>#.*)?$"
)


_YAML_NODE = re.compile(r"(?P<props>(?:(?P<anchor>&\S+\s+)|!\S*\s+)*)(?P<body>.*?)(?P<trail>\s*)\Z", re.S)


def _is_reference(text: str) -> bool:
    stripped = text.strip().strip("'\"")
    return stripped.startswith("${") and stripped.endswith("}") and "}" not in stripped[2:-1]


def mask_yaml_text(text: str, *, mask: str = ARTIFACT_MASK) -> str:
    """The YAML document `text` with the value of every secret-named key masked, the rest kept as written.

    Scalars under a secret key are replaced in place (quoted `mask`); the scalars inside a secret-named
    mapping or list are replaced one by one, so the document stays valid YAML with the same shape.
    `${VAR}` references are kept (they name a secret, they are not one). The whole text then goes through
    :func:`mask_text` (without its `key=value` rule, which does not know YAML). An anchor on a masked
    value is kept, its tag dropped. If the text is not YAML, a line-based pass masks `key: value` lines.
    """
    try:
        spans = _yaml_secret_spans(text)
    except Exception:  # not YAML after all: fall back to lines
        return mask_text("\n".join(_mask_yaml_line(line, mask) for line in text.split("\n")), pairs=False)
    out = text
    for start, end in sorted(spans, reverse=True):
        node = _YAML_NODE.match(out, start, end)
        assert node is not None  # the pattern matches any text
        if _is_reference(node.group("body")):
            continue
        anchor = node.group("anchor") or ""
        out = out[:start] + anchor + json.dumps(mask) + node.group("trail") + out[end:]
    return mask_text(out, pairs=False)


def _mask_yaml_line(line: str, mask: str) -> str:
    m = _YAML_LINE.match(line)
    if not m or not is_secret_key(m.group("key")) or _is_reference(m.group("value")):
        return line
    comment = m.group("comment")
    return m.group("head") + m.group("sep") + json.dumps(mask) + (" " + comment if comment else "")


def _yaml_secret_spans(text: str) -> set[tuple[int, int]]:
    import yaml  # only needed here; keeps the module's import cheap

    spans: set[tuple[int, int]] = set()
    seen: set[int] = set()

    def scalars(node: Any) -> Iterable[Any]:
        if isinstance(node, yaml.ScalarNode):
            yield node
        elif isinstance(node, yaml.SequenceNode):
            for item in node.value:
                yield from scalars(item)
        elif isinstance(node, yaml.MappingNode):
            for _k, v in node.value:
                yield from scalars(v)

    def walk(node: Any) -> None:
        if id(node) in seen:
            return
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if isinstance(k, yaml.ScalarNode) and is_secret_key(k.value):
                    for s in scalars(v):
                        if s.value not in ("", None) and s.tag != "tag:yaml.org,2002:null":
                            spans.add((s.start_mark.index, s.end_mark.index))
                else:
                    walk(v)
        elif isinstance(node, yaml.SequenceNode):
            for item in node.value:
                walk(item)

    # libyaml when there (a 200-step manifest: ~1.4 s in pure Python); its node marks count characters too
    for root in yaml.compose_all(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
        if root is not None:
            walk(root)
    return spans
