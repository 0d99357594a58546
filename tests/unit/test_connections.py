"""Connection files: lookup, references, default alias, ${VAR} and ${VAR:-default}, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from osiris_tui.errors import ConnectionConfigError
from osiris_tui.runtime.connections import Connections, find_connections_file, parse_dotenv
from osiris_tui.secrets import mask_text

CONNECTIONS = """\
version: 1
connections:
  mysql:
    shop:
      default: true
      host: db.internal
      port: 3306
      database: shop
      user: etl
      password: ${SHOP_DB_PW}
    replica:
      host: ${REPLICA_HOST:-replica.internal}
      database: shop
      user: etl
      password: ${SHOP_DB_PW}
  supabase:
    main:
      url: https://abcd.supabase.co
      service_role_key: ${SB_KEY}
      pg_dsn: postgresql://postgres:${SB_DB_PW}@db.abcd.supabase.co:5432/postgres
    default:
      url: https://efgh.supabase.co
      key: literal-key-value
  filesystem:
    local: {base_dir: data}
"""


@pytest.fixture
def conn_file(tmp_path: Path) -> Path:
    path = tmp_path / "osiris_connections.yaml"
    path.write_text(CONNECTIONS)
    return path


def env(**extra: str) -> dict[str, str]:
    return {"SHOP_DB_PW": "shop-pw-canary", "SB_KEY": "sb-key-canary", "SB_DB_PW": "sb-db-canary", **extra}


def test_explicit_alias(conn_file: Path) -> None:
    c = Connections(conn_file, env())
    r = c.resolve_reference("@mysql.shop", "mysql", "s1")
    assert r is not None
    assert r.fields == {"host": "db.internal", "port": 3306, "database": "shop", "user": "etl",
                        "password": "shop-pw-canary"}
    assert r.alias == "shop" and r.reference == "@mysql.shop"
    assert [(u.name, u.is_set, u.secret) for u in r.env] == [("SHOP_DB_PW", True, True)]
    assert r.masked()["password"] == "***"
    assert "shop-pw-canary" not in mask_text(f"error: {r.fields}")


def test_default_alias_rules(conn_file: Path) -> None:
    c = Connections(conn_file, env())
    assert c.resolve_reference(None, "mysql").alias == "shop"  # default: true wins
    assert c.resolve_reference(None, "supabase").alias == "default"  # then the alias named default
    assert c.resolve_reference(None, "duckdb") is None  # duckdb/filesystem resolve nothing by default
    assert c.resolve_reference(None, "filesystem") is None


def test_no_default_lists_aliases(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("connections:\n  mysql:\n    a: {host: x}\n    b: {host: y}\n")
    with pytest.raises(ConnectionConfigError, match="No default connection for family 'mysql'; aliases: a, b"):
        Connections(path, {}).resolve_reference(None, "mysql", "s")


def test_env_default_syntax(conn_file: Path) -> None:
    c = Connections(conn_file, env())
    assert c.resolve_reference("@mysql.replica", "mysql").fields["host"] == "replica.internal"
    c = Connections(conn_file, env(REPLICA_HOST="r2"))
    assert c.resolve_reference("@mysql.replica", "mysql").fields["host"] == "r2"


def test_missing_env_var_names_variable_file_and_alias(conn_file: Path) -> None:
    c = Connections(conn_file, {})
    with pytest.raises(ConnectionConfigError) as info:
        c.resolve_reference("@mysql.shop", "mysql", "extract")
    text = info.value.render()
    assert "Environment variable 'SHOP_DB_PW' not set for password in mysql.shop" in text
    assert f"{conn_file}:10" in text and "export SHOP_DB_PW" in text


@pytest.mark.parametrize(
    ("reference", "family", "message"),
    [
        ("@mysql", "mysql", "Invalid connection reference format"),
        ("mysql.shop", "mysql", "Invalid connection reference format"),
        ("@mysql.nope", "mysql", "unknown connection alias 'nope'"),
        ("@postgres.x", "postgres", "Connection family 'postgres' not found"),
        ("@supabase.main", "mysql", "is of family 'supabase'"),
    ],
)
def test_reference_errors(conn_file: Path, reference: str, family: str, message: str) -> None:
    with pytest.raises(ConnectionConfigError, match=message):
        Connections(conn_file, env()).resolve_reference(reference, family, "s")


def test_no_file_required_family() -> None:
    with pytest.raises(ConnectionConfigError, match="No connections configured for family 'mysql'"):
        Connections(None, {}).resolve_reference(None, "mysql", "s")


def test_dsn_password_registered_and_base_dir_relative_to_file(conn_file: Path) -> None:
    c = Connections(conn_file, env())
    r = c.resolve_reference("@supabase.main", "supabase")
    assert "sb-db-canary" not in mask_text("could not connect: postgresql://postgres:sb-db-canary@db")
    assert "sb-key-canary" not in mask_text("bad key sb-key-canary")
    assert r.masked()["pg_dsn"] == "***"
    local = c.resolve_reference("@filesystem.local", "filesystem")
    assert local.fields["base_dir"] == str(conn_file.parent / "data")


def test_lookup_order_and_dotenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home, manifest_dir, cwd = tmp_path / "home", tmp_path / "m", tmp_path / "cwd"
    for d in (home, manifest_dir, cwd):
        d.mkdir()
    monkeypatch.chdir(cwd)
    (cwd / "osiris_connections.yaml").write_text("connections: {}\n")
    assert find_connections_file(manifest_dir, {}) == cwd / "osiris_connections.yaml"
    (manifest_dir / "osiris_connections.yaml").write_text("connections: {}\n")
    assert find_connections_file(manifest_dir, {}) == manifest_dir / "osiris_connections.yaml"
    (home / "osiris_connections.yaml").write_text("connections: {}\n")
    assert find_connections_file(manifest_dir, {"OSIRIS_HOME": str(home)}) == home / "osiris_connections.yaml"
    (manifest_dir / ".env").write_text("# comment\nexport A=1\nB='two words'\nSHOP=from-dotenv\n")
    assert parse_dotenv(manifest_dir / ".env") == {"A": "1", "B": "two words", "SHOP": "from-dotenv"}
    c = Connections.discover(manifest_dir, env={"SHOP": "from-env"})
    assert c.env["SHOP"] == "from-env" and c.env["A"] == "1"  # .env never overrides the environment


def test_broken_file_reports_line(tmp_path: Path) -> None:
    path = tmp_path / "osiris_connections.yaml"
    path.write_text("connections:\n  mysql: [unclosed\n")
    with pytest.raises(ConnectionConfigError) as info:
        Connections(path, {})
    assert f"{path}:" in info.value.render()
    assert info.value.line is not None
