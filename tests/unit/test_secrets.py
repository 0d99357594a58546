"""The one masking module: by key, by value, URLs, text patterns."""

from __future__ import annotations

import pytest

from osiris_tui import secrets
from osiris_tui.secrets import ARTIFACT_MASK, MASK, is_secret_key, mask_text, mask_value, register_secret


@pytest.mark.parametrize(
    "key",
    ["password", "PASSWORD", "pwd", "key", "token", "secret", "dsn", "pg_dsn", "sql_dsn", "service_role_key",
     "anon_key", "api_key", "apiKey", "client_secret", "db_password", "refresh_token", "authorization",
     "connection_string", "private_key", "shop_db_pw", "my_pass", "access_key_id"],
)
def test_secret_keys(key: str) -> None:
    assert is_secret_key(key)


@pytest.mark.parametrize(
    "key",
    ["primary_key", "upsert_keys", "host", "user", "url", "table", "step_id", "token_count", "rows_tokens",
     "duration_ms", "path", "author", "query", "monkey"],
)
def test_plain_keys(key: str) -> None:
    assert not is_secret_key(key)


def test_registered_value_is_masked_anywhere_in_text() -> None:
    register_secret("canary-Z9x7-value")
    assert mask_text("Access denied: canary-Z9x7-value rejected") == f"Access denied: {MASK} rejected"
    # URL-encoded forms are masked too (passwords inside DSNs).
    register_secret("p@ss/word!")
    assert "p%40ss%2Fword%21" not in mask_text("postgresql://u:p%40ss%2Fword%21@h/db")


def test_short_values_are_not_registered() -> None:
    register_secret("ab")
    assert mask_text("tab stab") == "tab stab"


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
