"""Fixtures for the real MariaDB and PostgreSQL test servers (brought up by scripts/db-up).

Under CI (or with OSIRIS_TUI_REQUIRE_SERVERS=1, which scripts/test sets) a missing server makes the
tests fail; elsewhere they are skipped with the reason.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass

import pytest


@dataclass(frozen=True)
class MySQLServer:
    host: str
    port: int
    user: str
    password: str
    database: str

    def connection(self) -> dict:
        return {"host": self.host, "port": self.port, "user": self.user, "password": self.password,
                "database": self.database}

    def connect(self, **kw):
        import pymysql

        return pymysql.connect(host=self.host, port=self.port, user=self.user, password=self.password,
                               database=self.database, autocommit=True, **kw)


@dataclass(frozen=True)
class PostgresServer:
    host: str
    port: int
    user: str
    password: str
    database: str

    @property
    def dsn(self) -> str:
        return f"postgresql://{self.user}:{self.password}@{self.host}:{self.port}/{self.database}"

    def connect(self):
        import psycopg

        return psycopg.connect(self.dsn, autocommit=True)


def _require_servers() -> bool:
    return bool(os.environ.get("CI")) or os.environ.get("OSIRIS_TUI_REQUIRE_SERVERS") == "1"


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def _missing(what: str) -> None:
    message = f"{what} is not reachable; run ./scripts/db-up"
    if _require_servers():
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def mysql_server() -> MySQLServer:
    env = os.environ.get
    server = MySQLServer(
        host=env("OSIRIS_TUI_TEST_MYSQL_HOST", "127.0.0.1"),
        port=int(env("OSIRIS_TUI_TEST_MYSQL_PORT", "3306")),
        user=env("OSIRIS_TUI_TEST_MYSQL_USER", "osiris_tui"),
        password=env("OSIRIS_TUI_TEST_MYSQL_PASSWORD", "osiris-tui-test-pw"),
        database=env("OSIRIS_TUI_TEST_MYSQL_DB", "osiris_tui_test"),
    )
    if not _reachable(server.host, server.port):
        _missing(f"MariaDB at {server.host}:{server.port}")
    return server


@pytest.fixture(scope="session")
def postgres_server() -> PostgresServer:
    env = os.environ.get
    server = PostgresServer(
        host=env("OSIRIS_TUI_TEST_PG_HOST", "127.0.0.1"),
        port=int(env("OSIRIS_TUI_TEST_PG_PORT", "5432")),
        user=env("OSIRIS_TUI_TEST_PG_USER", "osiris_tui"),
        password=env("OSIRIS_TUI_TEST_PG_PASSWORD", "osiris-tui-test-pw"),
        database=env("OSIRIS_TUI_TEST_PG_DB", "osiris_tui_test"),
    )
    if not _reachable(server.host, server.port):
        _missing(f"PostgreSQL at {server.host}:{server.port}")
    return server
