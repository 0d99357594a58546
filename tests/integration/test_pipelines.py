"""Whole pipelines against the real MariaDB and PostgreSQL servers (Supabase's REST layer through the
PostgREST-compatible stand-in in tests/support/), run through the same session and CLI users run."""

# ruff: noqa: F811
from __future__ import annotations

import decimal
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from osiris_tui.cli import main
from osiris_tui.drivers.registry import default_registry
from osiris_tui.manifest import load_pipeline
from osiris_tui.runtime.connections import Connections
from osiris_tui.runtime.session import DebugSession, RunState
from tests.support.postgrest_fixtures import postgrest_standin, postgrest_standin_server  # noqa: F401
from tests.support.tcp_proxy import TcpProxy

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_manifests"


@pytest.fixture
def mysql_env(mysql_server, monkeypatch) -> dict[str, str]:
    env = {"MYSQL_HOST": mysql_server.host, "MYSQL_PORT": str(mysql_server.port),
           "MYSQL_DATABASE": mysql_server.database, "MYSQL_USER": mysql_server.user,
           "MYSQL_PASSWORD": mysql_server.password}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    return env


@pytest.fixture
def tables(mysql_server):
    created: list[str] = []

    def name(prefix: str) -> str:
        table = f"{prefix}_{os.getpid()}_{len(created)}"
        created.append(table)
        return table

    yield name
    with mysql_server.connect() as conn, conn.cursor() as cur:
        for table in created:
            cur.execute(f"DROP TABLE IF EXISTS `{table}`")


def query(server, sql: str) -> list[tuple]:
    with server.connect() as conn, conn.cursor() as cur:
        cur.execute(sql)
        return list(cur.fetchall())


def write_pipeline(tmp_path: Path, text: str) -> Path:
    (tmp_path / "osiris_connections.yaml").write_text(
        (SAMPLES / "mysql_duckdb_mysql" / "osiris_connections.yaml").read_text().replace(
            "../quickstart/data", str(SAMPLES / "quickstart" / "data")))
    path = tmp_path / "manifest.yaml"
    path.write_text(text)
    return path


def test_samples_seed_then_mysql_duckdb_mysql(mysql_env, mysql_server, tmp_path: Path, capsys) -> None:
    seed = SAMPLES / "mysql_duckdb_mysql" / "seed_orders.yaml"
    assert main(["run", str(seed), "--run-dir", str(tmp_path / "a")]) == 0
    assert query(mysql_server, "SELECT count(*) FROM shop_orders") == [(5000,)]
    manifest = SAMPLES / "mysql_duckdb_mysql" / "manifest.yaml"
    assert main(["run", str(manifest), "--run-dir", str(tmp_path / "b")]) == 0
    first = query(mysql_server, "SELECT * FROM monthly_revenue ORDER BY month, status")
    assert main(["run", str(manifest), "--run-dir", str(tmp_path / "c")]) == 0  # upsert: idempotent
    assert query(mysql_server, "SELECT * FROM monthly_revenue ORDER BY month, status") == first
    expected = pd.read_csv(SAMPLES / "quickstart/data/orders.csv")
    assert sum(r[2] for r in first) == len(expected)
    assert "osiris-tui-test-pw" not in capsys.readouterr().out


@pytest.mark.parametrize("mode", ["append", "replace", "upsert"])
def test_mysql_duckdb_mysql_every_write_mode(mode: str, mysql_env, mysql_server, tables, tmp_path: Path,
                                             capsys) -> None:
    source, target = tables("src"), tables("dst")
    query(mysql_server, f"CREATE TABLE `{source}` (id INT PRIMARY KEY, grp VARCHAR(8), v DECIMAL(10,2))")
    query(mysql_server, f"INSERT INTO `{source}` VALUES (1,'a',1.10),(2,'a',2.20),(3,'b',3.30),(4,NULL,NULL)")
    query(mysql_server, f"CREATE TABLE `{target}` (grp VARCHAR(8) PRIMARY KEY, n INT, total DECIMAL(12,2))")
    query(mysql_server, f"INSERT INTO `{target}` VALUES ('a', 99, 99.00), ('zz', 1, 1.00)")
    path = write_pipeline(tmp_path, f"""
steps:
  - {{id: extract, driver: mysql.extractor, config: {{table: {source}}}}}
  - id: agg
    driver: duckdb.processor
    needs: [extract]
    config: {{query: "SELECT coalesce(grp, 'none') AS grp, count(*) AS n, sum(v) AS total FROM df_extract GROUP BY 1"}}
  - {{id: load, driver: mysql.writer, needs: [agg], config: {{table: {target}, write_mode: {mode}, primary_key: grp}}}}
""")
    code = main(["run", str(path), "--run-dir", str(tmp_path / "run")])
    rows = dict((r[0], (r[1], float(r[2]) if r[2] is not None else None))
                for r in query(mysql_server, f"SELECT * FROM `{target}`"))
    if mode == "append":  # 'a' already exists: the whole append fails and nothing changes
        assert code == 1
        assert rows == {"a": (99, 99.0), "zz": (1, 1.0)}
    elif mode == "replace":
        assert code == 0
        assert rows == {"a": (2, 3.3), "b": (1, 3.3), "none": (1, None)}
    else:
        assert code == 0
        assert rows == {"a": (2, 3.3), "b": (1, 3.3), "none": (1, None), "zz": (1, 1.0)}


def test_dtypes_survive_mysql_round_trip(mysql_env, mysql_server, tables, tmp_path: Path, capsys) -> None:
    source, target = tables("types"), tables("types_copy")
    query(mysql_server, f"""CREATE TABLE `{source}` (id INT PRIMARY KEY, n INT NULL, price DECIMAL(20,6),
        day DATE, at DATETIME(6), label VARCHAR(64) CHARACTER SET utf8mb4, note TEXT)""")
    query(mysql_server, f"""INSERT INTO `{source}` VALUES
        (1, 7, 12345678901234.123456, '2024-02-29', '2024-02-29 23:59:59.123456', 'žluťoučký kůň 🐎', 'x'),
        (2, NULL, NULL, NULL, NULL, NULL, NULL),
        (3, -1, 0.000001, '1999-12-31', '1970-01-01 00:00:00', 'ascii', '')""")
    query(mysql_server, f"CREATE TABLE `{target}` LIKE `{source}`")
    path = write_pipeline(tmp_path, f"""
steps:
  - {{id: extract, driver: mysql.extractor, config: {{table: {source}}}}}
  - {{id: load, driver: mysql.writer, needs: [extract], config: {{table: {target}, write_mode: append}}}}
""")
    assert main(["run", str(path), "--run-dir", str(tmp_path / "run")]) == 0
    original = query(mysql_server, f"SELECT * FROM `{source}` ORDER BY id")
    copied = query(mysql_server, f"SELECT * FROM `{target}` ORDER BY id")
    assert copied == original
    assert copied[0][2] == decimal.Decimal("12345678901234.123456")


def test_mysql_to_supabase_sample(mysql_env, mysql_server, postgrest_standin, tmp_path: Path, monkeypatch,
                                  capsys) -> None:
    """MySQL → Supabase through the PostgREST-compatible stand-in over real PostgreSQL."""
    seed = SAMPLES / "mysql_duckdb_mysql" / "seed_orders.yaml"
    assert main(["run", str(seed), "--run-dir", str(tmp_path / "a")]) == 0
    monkeypatch.setenv("SUPABASE_URL", postgrest_standin.url)
    monkeypatch.setenv("SUPABASE_SERVICE_ROLE_KEY", postgrest_standin.key)
    monkeypatch.setenv("SUPABASE_PG_DSN", postgrest_standin.dsn)
    postgrest_standin.execute("DROP TABLE IF EXISTS public.paid_orders", reload=True)
    try:
        assert main(["run", str(SAMPLES / "mysql_to_supabase" / "manifest.yaml"),
                     "--run-dir", str(tmp_path / "b")]) == 0
        assert postgrest_standin.count("paid_orders") == 5000
        total = postgrest_standin.execute("SELECT round(sum(amount)::numeric, 2) FROM public.paid_orders")[0][0]
        expected = pd.read_csv(SAMPLES / "quickstart/data/orders.csv")["amount"].sum()
        assert float(total) == pytest.approx(expected)
        out = capsys.readouterr()
        assert postgrest_standin.key not in out.out + out.err
    finally:
        postgrest_standin.execute("DROP TABLE IF EXISTS public.paid_orders", reload=True)


def test_supabase_to_csv(postgrest_standin, tmp_path: Path, capsys) -> None:
    """Supabase → CSV through the PostgREST-compatible stand-in over real PostgreSQL."""
    table = postgrest_standin.new_table("people")
    postgrest_standin.create_table(table, "id int primary key, name text, score double precision")
    postgrest_standin.execute(f"INSERT INTO public.{table} SELECT g, 'n' || g, g / 2.0 FROM generate_series(1, 2500) g",
                              reload=True)
    (tmp_path / "osiris_connections.yaml").write_text(
        "connections:\n  supabase:\n    main:\n      default: true\n"
        f"      url: {postgrest_standin.url}\n      service_role_key: ${{SB_KEY}}\n")
    (tmp_path / "m.yaml").write_text(f"""
steps:
  - {{id: read, driver: supabase.extractor, config: {{table: {table}, filter: {{score: {{gte: 10}}}}, order: id.asc}}}}
  - {{id: save, driver: filesystem.csv_writer, needs: [read], config: {{path: {tmp_path / 'people.csv'}}}}}
""")
    os.environ["SB_KEY"] = postgrest_standin.key
    try:
        assert main(["run", str(tmp_path / "m.yaml"), "--run-dir", str(tmp_path / "run")]) == 0
    finally:
        del os.environ["SB_KEY"]
    df = pd.read_csv(tmp_path / "people.csv")
    assert len(df) == 2500 - 19 and list(df.columns) == ["id", "name", "score"]
    assert df["id"].is_monotonic_increasing


def test_server_down_mid_run_session_lives_on(mysql_server, tables, tmp_path: Path) -> None:
    """The database goes away between steps: a clear, masked error; the session stays usable and a re-run
    succeeds once the server is back."""
    source = tables("down")
    query(mysql_server, f"CREATE TABLE `{source}` (id INT PRIMARY KEY)")
    query(mysql_server, f"INSERT INTO `{source}` VALUES (1), (2)")
    proxy = TcpProxy(mysql_server.host, mysql_server.port).start()
    (tmp_path / "osiris_connections.yaml").write_text(
        f"connections:\n  mysql:\n    db:\n      default: true\n      host: 127.0.0.1\n      port: {proxy.port}\n"
        f"      database: {mysql_server.database}\n      user: {mysql_server.user}\n      password: ${{PW}}\n")
    path = tmp_path / "m.yaml"
    path.write_text(f"""
steps:
  - {{id: first, driver: mysql.extractor, config: {{table: {source}}}}}
  - {{id: second, driver: mysql.extractor, needs: [first], config: {{query: "SELECT count(*) AS n FROM {source}"}}}}
""")
    registry = default_registry()
    session = DebugSession(load_pipeline(path), registry=registry,
                           connections=Connections(tmp_path / "osiris_connections.yaml", {"PW": mysql_server.password}),
                           run_dir=tmp_path / "run", reload=lambda: load_pipeline(path)).start()
    try:
        session.step()
        assert session.wait_idle(60) and session.status("first").state == "done"
        proxy.stop()
        session.continue_()
        assert session.wait_idle(60)
        assert session.run_state is RunState.FAILED and session.failed_step_id() == "second"
        error = session.status("second").error
        assert f"127.0.0.1:{proxy.port}/{mysql_server.database}" in error and "second" in error
        assert mysql_server.password not in error + session.status("second").traceback
        assert session.output("first")["id"].tolist() == [1, 2]  # earlier output still inspectable
        proxy.start()
        session.rerun("second")
        assert session.wait_idle(60)
        assert session.status("second").state == "done" and session.output("second")["n"].tolist() == [2]
    finally:
        session.close()
        proxy.stop()


def test_wrong_password_message_has_no_password(mysql_server, tmp_path: Path) -> None:
    wrong = "Wr0ng-Passw0rd-Canary"
    (tmp_path / "osiris_connections.yaml").write_text(
        f"connections:\n  mysql:\n    db:\n      default: true\n      host: {mysql_server.host}\n"
        f"      port: {mysql_server.port}\n      database: {mysql_server.database}\n"
        f"      user: {mysql_server.user}\n      password: {wrong}\n")
    (tmp_path / "m.yaml").write_text("steps:\n  - {id: x, driver: mysql.extractor, config: {query: 'SELECT 1'}}\n")
    result = subprocess.run([sys.executable, "-m", "osiris_tui", "run", str(tmp_path / "m.yaml"), "--run-dir",
                             str(tmp_path / "run")], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert result.returncode == 1
    assert "step 'x' failed" in result.stderr and f"{mysql_server.host}:{mysql_server.port}" in result.stderr
    everything = result.stdout + result.stderr + "".join(
        p.read_text() for p in (tmp_path / "run").rglob("*") if p.is_file())
    assert wrong not in everything
    assert json.loads((tmp_path / "run/status.json").read_text())["failed_step"] == "x"
