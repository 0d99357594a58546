"""The one masking module: by key, by value, URLs, text patterns, YAML text."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
import yaml

from osiris_tui import secrets
from osiris_tui.secrets import (
    ARTIFACT_MASK,
    MASK,
    REGISTRY,
    is_secret_key,
    mask_text,
    mask_value,
    register_secret,
)


@pytest.mark.parametrize(
    "key",
    ["password", "PASSWORD", "pwd", "key", "token", "secret", "dsn", "pg_dsn", "sql_dsn", "service_role_key",
     "anon_key", "api_key", "apiKey", "client_secret", "db_password", "refresh_token", "authorization",
     "connection_string", "private_key", "shop_db_pw", "my_pass", "access_key_id",
     # camelCase, kebab-case and the names real configs use
     "passphrase", "sas", "sas_token", "accessToken", "authToken", "refreshToken", "api-key", "x-api-key",
     "X-API-Key", "cookie", "Set-Cookie", "signature", "pin", "jwt", "otp", "api_tokens", "service_account_json",
     "serviceAccountJson", "pgpass", "PGPASSWORD", "conn_str", "connStr", "license", "license_key",
     "credentials", "SB_SERVICE_KEY", "sshPassphrase"],
)
def test_secret_keys(key: str) -> None:
    assert is_secret_key(key)


@pytest.mark.parametrize(
    "key",
    ["primary_key", "upsert_keys", "host", "user", "url", "table", "step_id", "token_count", "rows_tokens",
     "duration_ms", "path", "author", "query", "monkey", "keys_removed", "key_columns", "sort_key",
     "prompt_tokens", "pinned", "spin", "passenger", "compass", "bypass_cache", "signed", "tokenizer",
     "description", "license_plate_count"],
)
def test_plain_keys(key: str) -> None:
    assert not is_secret_key(key)


def test_registered_value_is_masked_anywhere_in_text() -> None:
    register_secret("canary-Z9x7-value")
    assert mask_text("Access denied: canary-Z9x7-value rejected") == f"Access denied: {MASK} rejected"
    # URL-encoded forms are masked too (passwords inside DSNs).
    register_secret("p@ss/word!")
    assert "p%40ss%2Fword%21" not in mask_text("postgresql://u:p%40ss%2Fword%21@h/db")


def test_short_values_are_masked_only_when_quoted() -> None:
    register_secret("ab")
    assert mask_text("tab stab ab") == "tab stab ab"
    assert mask_text("login 'ab' failed, \"ab\"") == f"login '{MASK}' failed, \"{MASK}\""
    register_secret("x")  # a single character is never masked by value
    assert mask_text("'x' x") == "'x' x"


def test_secret_lists_agree() -> None:
    """Every secret a component spec declares is a secret key (there is one rule, not a list per layer)."""
    from osiris_tui.manifest.components import SPECS

    for spec in SPECS.values():
        for name in spec.secrets:
            assert is_secret_key(name), (spec.name, name)


def test_secrets_module_is_a_leaf() -> None:
    """osiris_tui/secrets.py imports nothing from the package (no import cycles through it)."""
    tree = ast.parse(Path(secrets.__file__).read_text())
    modules = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    modules |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert not {m for m in modules if m and m.startswith("osiris_tui")}


def test_url_userinfo_and_key_value_pairs() -> None:
    assert mask_text("postgresql://etl:hunter22@db:5432/x") == f"postgresql://etl:{MASK}@db:5432/x"
    assert mask_text("login failed password=abc123 user=x") == f"login failed password={MASK} user=x"
    assert mask_text('{"api_key": "zzz999"}') == f'{{"api_key": "{MASK}"}}'
    assert mask_text("Authorization: Bearer abc.def.ghi") == f"Authorization: Bearer {MASK}"


def test_mask_value_masks_keys_deeply_and_keeps_structure() -> None:
    config = {
        "table": "orders",
        "primary_key": ["id"],
        "resolved_connection": {
            "url": "https://x.supabase.co",
            "key": "sbkey-123456",
            "password": "pw-123456",
            "pg_dsn": "postgresql://u:pw-123456@h/db",
            "port": 5432,
        },
    }
    masked = mask_value(config, mask=ARTIFACT_MASK)
    conn = masked["resolved_connection"]
    assert conn["key"] == conn["password"] == conn["pg_dsn"] == ARTIFACT_MASK
    assert conn["url"] == "https://x.supabase.co" and conn["port"] == 5432
    assert masked["primary_key"] == ["id"] and masked["table"] == "orders"
    assert config["resolved_connection"]["key"] == "sbkey-123456"  # the input is not modified


def test_plain_keys_still_masked_by_value() -> None:
    register_secret("value-known-secret")
    record = mask_value({"key": "df_extract", "other": "value-known-secret"}, plain_keys=frozenset({"key"}))
    assert record == {"key": "df_extract", "other": MASK}


def test_secret_values_of_connection() -> None:
    found = secrets.secret_values({"host": "h", "password": "p1-secret", "url": "mysql://u:zz-secret@h/d"})
    assert set(found) == {"p1-secret", "zz-secret"}


# -- leaks ---------------------------------------------------------------------------------------------
QUOTED = "q'u\"o\\te-Pw9x"  # q'u"o\te-Pw9x


def test_password_with_quotes_in_repr_and_json_forms() -> None:
    register_secret(QUOTED)
    exc = RuntimeError(f"login failed: {QUOTED!r} {json.dumps(QUOTED)} {json.dumps({'password': QUOTED})} "
                       f"{ {'pw': QUOTED} !r} {json.dumps(repr(QUOTED))} {json.dumps(json.dumps(QUOTED))}")
    text = secrets.mask_exception(exc)
    for form in (QUOTED, repr(QUOTED)[1:-1], json.dumps(QUOTED)[1:-1], "Pw9x"):
        assert form not in text, form
    assert text.startswith("RuntimeError: login failed: ")


def test_medium_and_short_passwords_with_quotes() -> None:
    register_secret("a'b\"c")  # 5 characters: whole-token rule
    assert "a'b" not in mask_text(repr("a'b\"c")) and "a'b" not in mask_text(json.dumps("a'b\"c"))


def test_dsn_password_with_an_unencoded_at_sign() -> None:
    dsn = "postgresql://u:hunter@2024xyz@db.example/app"
    found = secrets.secret_values({"dsn": dsn})
    assert dsn in found
    secrets.register_secrets({"dsn": dsn})
    # as a URL parser reads it (up to the last '@'), and each side of the '@' as a naive parser shows it
    assert mask_text("auth failed for password 'hunter@2024xyz'") == f"auth failed for password '{MASK}'"
    assert mask_text('could not translate host name "2024xyz@db.example"') == \
        f'could not translate host name "{MASK}@db.example"'
    assert "hunter" not in mask_text("user u, password hunter")
    # the URL pattern alone (nothing registered) takes the password to the last '@'
    REGISTRY.clear()
    assert mask_text("postgresql://u:p@ss@host/db") == f"postgresql://u:{MASK}@host/db"
    assert mask_text(f"dsn={dsn}") == f"dsn=postgresql://u:{MASK}@db.example/app"
    assert secrets.mask_url("mysql://u:p%40ss@h/d") == f"mysql://u:{MASK}@h/d"
    secrets.register_secrets({"url": "mysql://u:p%40ss-Word9@h/d"})
    assert mask_text("password p@ss-Word9 rejected") == f"password {MASK} rejected"  # the decoded form


def test_integer_password_from_yaml() -> None:
    fields = yaml.safe_load("password: 123456\nport: 3306\n")
    assert isinstance(fields["password"], int)
    assert mask_value(fields) == {"password": MASK, "port": 3306}
    secrets.register_secrets(fields)
    assert mask_text("Access denied (password 123456)") == f"Access denied (password {MASK})"
    assert mask_text("read 1234567 rows on port 3306") == "read 1234567 rows on port 3306"


def test_short_password_by_key_always_by_value_only_when_quoted() -> None:
    assert mask_value({"password": "ab1", "pin": 7}) == {"password": MASK, "pin": MASK}
    register_secret("ab1")
    assert mask_text("tab1e ab1 cab1") == "tab1e ab1 cab1"
    assert mask_text("MySQL: unknown user 'ab1'") == f"MySQL: unknown user '{MASK}'"
    assert mask_text("password=ab1 pwd: ab1") == f"password={MASK} pwd: {MASK}"


@pytest.mark.parametrize("value", [{"user": "u", "password": "x"}, ["tok-1", "tok-2"], [{"k": "v"}]])
@pytest.mark.parametrize("key", ["credentials", "api_tokens", "service_account_json", "cookies", "auth"])
def test_secret_key_holding_a_mapping_or_list_is_masked_whole(key: str, value: object) -> None:
    assert mask_value({key: value, "host": "h"}) == {key: MASK, "host": "h"}
    assert mask_value({key: value}, mask=ARTIFACT_MASK) == {key: ARTIFACT_MASK}
    leaves = secrets.secret_values({key: value})
    assert leaves and all(isinstance(v, str) for v in leaves)


def test_empty_secret_values_are_shown_as_empty() -> None:
    assert mask_value({"password": "", "token": None, "credentials": {}}) == \
        {"password": "", "token": None, "credentials": {}}


# -- false positives ------------------------------------------------------------------------------------
def test_mysql_using_password_yes_reads_as_it_is() -> None:
    register_secret("etl-pass-Word9")
    message = "(1045, \"Access denied for user 'etl'@'10.0.0.1' (using password: YES)\")"
    assert mask_text(message) == message
    assert mask_text("(using password: NO)") == "(using password: NO)"


def test_short_password_respects_token_boundaries_in_a_query() -> None:
    register_secret("paid")
    query = "SELECT * FROM orders WHERE status IN ('unpaid', 'prepaid') AND paid_at > 0 AND unpaid_total > 0"
    assert mask_text(query) == query
    # the value standing alone is indistinguishable from the password, so it is masked
    assert mask_text("status = 'paid'") == f"status = '{MASK}'"


def test_long_high_entropy_secret_is_masked_inside_other_text() -> None:
    register_secret("Zx9Qk2Lm7Pw4")
    assert mask_text("POST https://hooks.example.com/services/T0Zx9Qk2Lm7Pw4x/go") == \
        f"POST https://hooks.example.com/services/T0{MASK}x/go"
    register_secret("lowercaseword")  # long but one character class: whole tokens only
    assert mask_text("lowercasewords lowercaseword") == f"lowercasewords {MASK}"


def test_prose_about_a_secret_key_is_not_a_pair() -> None:
    text = "key 'connections.mysql.db.password': Environment variable 'PW' not set"
    assert mask_text(text) == text
    assert mask_text("{'password': 'abc', 'token': 99}") == f"{{'password': '{MASK}', 'token': {MASK}}}"


# -- YAML text ------------------------------------------------------------------------------------------
SEED = """\
name: demo  # a comment
steps:
  - id: load
    driver: mysql.extractor
    config:
      query: "SELECT * FROM t WHERE status = 'paid'"
      password: hunter2-inline   # inline!
      apiKey: 'it''s-secret'
      pin: 1234
      token: ${TOKEN}
      empty:
      credentials:
        user: u
        tokens: [a, b]
      passphrase: |
        line one
        line two
      after: kept
      flow: {user: x, password: flowpw, port: 1}
      anchor: &pw anchored-secret
      pwd: *pw
      url: "postgresql://u:dsn-pw@h/db"
"""


def test_yaml_copy_masks_secret_values_and_keeps_the_rest() -> None:
    out = secrets.mask_yaml_text(SEED)
    for secret in ("hunter2-inline", "it''s-secret", "1234", "flowpw", "anchored-secret", "dsn-pw", "line one"):
        assert secret not in out, secret
    data = yaml.safe_load(out)["steps"][0]["config"]
    assert data["password"] == data["apiKey"] == data["pin"] == data["passphrase"] == ARTIFACT_MASK
    assert data["credentials"] == {"user": ARTIFACT_MASK, "tokens": [ARTIFACT_MASK, ARTIFACT_MASK]}
    assert data["flow"] == {"user": "x", "password": ARTIFACT_MASK, "port": 1}
    assert data["token"] == "${TOKEN}" and data["empty"] is None and data["after"] == "kept"
    assert data["url"] == f"postgresql://u:{MASK}@h/db"
    kept = [line for line in SEED.splitlines() if not any(
        w in line for w in ("password", "apiKey", "pin", "user: u", "tokens", "passphrase", "line ", "pw", "url"))]
    assert all(line in out.splitlines() for line in kept)
    assert "# inline!" in out and "name: demo  # a comment" in out


def test_yaml_copy_of_text_that_is_not_yaml_masks_lines() -> None:
    out = secrets.mask_yaml_text("steps: [oops\npassword: abc # c\ntoken: ${X}\n")
    assert out == f'steps: [oops\npassword: "{ARTIFACT_MASK}" # c\ntoken: ${{X}}\n'
