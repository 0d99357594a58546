"""A cancel stops a MySQL step at once, against the real server: a PyMySQL read blocked in the socket, a
connectorx read (abandoned, it has no side effect), and the server-side statement is killed too."""

from __future__ import annotations

import threading
import uuid

import pytest

from osiris_tui.drivers import mysql_extract
from osiris_tui.drivers.base import StepCancelled
from osiris_tui.drivers.mysql import MySQLExtractor
from osiris_tui.runtime.context import ExecutionContext
from osiris_tui.runtime.executor import run_cancellable

pytestmark = pytest.mark.mysql


@pytest.fixture
def ctx(tmp_path):
    parent = ExecutionContext(tmp_path / "run")
    yield parent.for_step("s1")
    parent.close()


def _queries_like(mysql_server, marker: str) -> list[str]:
    with mysql_server.connect() as conn, conn.cursor() as cur:
        cur.execute("SELECT info FROM information_schema.processlist WHERE info LIKE %s AND info NOT LIKE %s",
                    (f"%{marker}%", "%information_schema%"))
        return [row[0] for row in cur.fetchall()]


@pytest.fixture
def slow_view(mysql_server):
    """A view that takes 6 s to read (a row a second), yet describes itself at once (`LIMIT 0`)."""
    name = f"v_slow_{uuid.uuid4().hex[:8]}"
    with mysql_server.connect() as conn, conn.cursor() as cur:
        cur.execute(f"CREATE VIEW `{name}` AS SELECT SLEEP(1) AS slept, seq FROM seq_1_to_6")
    yield name
    with mysql_server.connect() as conn, conn.cursor() as cur:
        cur.execute(f"DROP VIEW IF EXISTS `{name}`")


@pytest.mark.parametrize("engine", ["pymysql", "connectorx"])
def test_a_blocking_read_stops_when_cancelled(mysql_server, ctx, slow_view: str, engine: str,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    config = {"table": slow_view, "engine": engine, "resolved_connection": mysql_server.connection()}
    reading = threading.Event()  # set once the read itself (not the type probe) is under way
    if engine == "connectorx":
        real = mysql_extract._connectorx()

        class Watched:
            def read_sql(self, *args, **kwargs):
                reading.set()
                return real.read_sql(*args, **kwargs)

        monkeypatch.setattr(mysql_extract, "_connectorx", Watched)

    def cancel_once_reading() -> None:
        if engine == "pymysql":
            for _ in range(1000):
                if any("LIMIT 0" not in q for q in _queries_like(mysql_server, slow_view)):
                    reading.set()
                    break
                threading.Event().wait(0.02)
        reading.wait(30)
        threading.Event().wait(0.2)  # well inside the 6 s read
        ctx.cancellation.cancel()

    canceller = threading.Thread(target=cancel_once_reading)
    canceller.start()
    with pytest.raises(StepCancelled):
        run_cancellable(lambda: MySQLExtractor().run(step_id="s1", config=config, inputs=None, ctx=ctx), ctx)
    canceller.join()
    assert reading.is_set()
    if engine == "pymysql":  # our own connection: the server was told to kill the statement
        for _ in range(250):
            if not _queries_like(mysql_server, slow_view):
                break
            threading.Event().wait(0.02)
        assert _queries_like(mysql_server, slow_view) == []
