"""Pytest fixtures for the PostgREST-compatible TEST STAND-IN (see ``postgrest_standin.py``).

Import them into a test module (no ``pytest_plugins`` needed; add ``# ruff: noqa: F811`` because
the fixture names reappear as test arguments)::

    from tests.support.postgrest_fixtures import (  # noqa: F401
        postgrest_standin, postgrest_standin_server, step_ctx)

``postgrest_standin_server`` is one stand-in per test session on 127.0.0.1 (free port), over the
``postgres_server`` database of ``tests/integration/conftest.py``. ``postgrest_standin`` is the per-test
handle: it resets the stand-in's controls (row cap, injected failures, request log), hands out unique
table names and drops those tables afterwards.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import psycopg
import pytest
from psycopg import sql

from tests.support.postgrest_standin import PostgrestStandin

STANDIN_KEY = "sb-standin-service-role-" + secrets.token_hex(12)


@dataclass
class StandinHandle:
    """What a test gets: the stand-in's ``url`` and ``key``, the PostgreSQL ``dsn``, and helpers."""

    server: PostgrestStandin
    dsn: str
    key: str
    _tables: list[tuple[str, str]] = field(default_factory=list)

    @property
    def url(self) -> str:
        """The Supabase project URL (supabase-py appends ``/rest/v1``)."""
        return self.server.url

    def connection(self, **extra: Any) -> dict[str, Any]:
        """A resolved supabase connection as the runner passes it (``url``, ``service_role_key``, ``pg_dsn``)."""
        conn: dict[str, Any] = {"url": self.url, "service_role_key": self.key, "pg_dsn": self.dsn}
        conn.update(extra)
        return {k: v for k, v in conn.items() if v is not None}

    def new_table(self, prefix: str = "sb", schema: str = "public") -> str:
        """A unique table name, dropped after the test (the table itself is not created)."""
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        self._tables.append((schema, name))
        return name

    def execute(self, query: str | sql.Composable, params: Any = None, *, reload: bool = False) -> list[tuple]:
        """Run SQL directly on PostgreSQL (setup and assertions); ``reload`` refreshes the schema cache."""
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            cur = conn.execute(query, params)
            rows = cur.fetchall() if cur.description else []
        if reload:
            self.server.reload_schema()
        return rows

    def create_table(self, name: str, columns_sql: str, schema: str = "public") -> None:
        """``CREATE TABLE schema.name (columns_sql)`` and make the stand-in see it."""
        if (schema, name) not in self._tables:
            self._tables.append((schema, name))
        self.execute(
            sql.SQL("CREATE TABLE {} ({})").format(sql.Identifier(schema, name), sql.SQL(columns_sql)),
            reload=True,
        )

    def rows(self, name: str, order_by: str = "1", schema: str = "public") -> list[tuple]:
        return self.execute(
            sql.SQL("SELECT * FROM {} ORDER BY {}").format(sql.Identifier(schema, name), sql.SQL(order_by))
        )

    def count(self, name: str, schema: str = "public") -> int:
        return self.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(schema, name)))[0][0]

    def cleanup(self) -> None:
        for schema, name in self._tables:
            self.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(schema, name)))
        self._tables.clear()
        self.server.reload_schema()


@pytest.fixture(scope="session")
def postgrest_standin_server(postgres_server) -> Iterator[PostgrestStandin]:
    """One PostgREST-compatible stand-in for the session, over the test PostgreSQL database."""
    server = PostgrestStandin(postgres_server.dsn, STANDIN_KEY).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgrest_standin(postgrest_standin_server, postgres_server) -> Iterator[StandinHandle]:
    """Per-test handle on the stand-in (controls reset; tables from ``new_table``/``create_table`` dropped)."""
    postgrest_standin_server.reset()
    handle = StandinHandle(postgrest_standin_server, postgres_server.dsn, STANDIN_KEY)
    try:
        yield handle
    finally:
        handle.cleanup()
        postgrest_standin_server.reset()


@pytest.fixture
def step_ctx(tmp_path):
    """A factory of real step contexts (``ExecutionContext(...).for_step(step_id)``) in a temporary run dir."""
    from osiris_tui.runtime.context import ExecutionContext

    parents: list[ExecutionContext] = []

    def make(step_id: str = "step"):
        parent = ExecutionContext(tmp_path / f"run-{len(parents)}")
        parents.append(parent)
        return parent.for_step(step_id)

    yield make
    for parent in parents:
        parent.close()
