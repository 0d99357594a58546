"""Benchmark mysql.extractor / mysql.writer against the MariaDB CLI and LOAD DATA LOCAL INFILE.

    .venv/bin/python bench/mysql_io.py [--rows 1000000] [--insert]

Connection: the integration-test server by default; override with OSIRIS_TUI_TEST_MYSQL_HOST/PORT/USER/
PASSWORD/DB (as tests/integration/conftest.py). The source table `osiris_tui_bench_big` (INT, INT,
DECIMAL(12,2), VARCHAR(32), DATETIME) is created once with INSERT … SELECT from MariaDB's seq engine.
Goals: extractor rows/s ≥ 0.7 x `mariadb --batch`; writer append ≥ 0.5 x LOAD DATA LOCAL INFILE.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pyarrow as pa
import pyarrow.csv as pacsv
import pymysql

from osiris_tui.drivers.mysql import MySQLExtractor, MySQLWriter
from osiris_tui.runtime.context import ExecutionContext

SOURCE = "osiris_tui_bench_big"


def settings() -> dict:
    env = os.environ.get
    return {
        "host": env("OSIRIS_TUI_TEST_MYSQL_HOST", "127.0.0.1"),
        "port": int(env("OSIRIS_TUI_TEST_MYSQL_PORT", "3306")),
        "user": env("OSIRIS_TUI_TEST_MYSQL_USER", "osiris_tui"),
        "password": env("OSIRIS_TUI_TEST_MYSQL_PASSWORD", "osiris-tui-test-pw"),
        "database": env("OSIRIS_TUI_TEST_MYSQL_DB", "osiris_tui_test"),
    }


def connect(conn: dict, **kw):
    return pymysql.connect(**{"autocommit": True, "local_infile": True, **conn, **kw})


def ensure_source(conn: dict, rows: int) -> None:
    with connect(conn) as c, c.cursor() as cur:
        cur.execute("SHOW TABLES LIKE %s", (SOURCE,))
        if cur.fetchone():
            cur.execute(f"SELECT COUNT(*) FROM `{SOURCE}`")
            if cur.fetchone()[0] == rows:
                return
            cur.execute(f"DROP TABLE `{SOURCE}`")
        t = time.perf_counter()
        cur.execute(f"""CREATE TABLE `{SOURCE}` (id INT PRIMARY KEY, qty INT NOT NULL, price DECIMAL(12,2),
                        label VARCHAR(32), created DATETIME) DEFAULT CHARSET=utf8mb4""")
        cur.execute(f"""INSERT INTO `{SOURCE}` SELECT seq, seq % 1000, (seq * 7919 % 10000000) / 100,
                        CONCAT('label-', seq, '-', SUBSTRING(MD5(seq), 1, 8)),
                        TIMESTAMP('2020-01-01') + INTERVAL seq SECOND FROM seq_1_to_{rows}""")
        print(f"created {SOURCE} ({rows:,} rows) in {time.perf_counter() - t:.1f}s")


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def bench_cli(conn: dict) -> float:
    cli = shutil.which("mariadb") or shutil.which("mysql")
    if not cli:
        raise SystemExit("the mariadb/mysql client is not installed")
    cmd = [
        cli,
        "--batch",
        "-h",
        conn["host"],
        "-P",
        str(conn["port"]),
        "-u",
        conn["user"],
        conn["database"],
        "-e",
        f"SELECT * FROM `{SOURCE}`",
    ]
    env = {**os.environ, "MYSQL_PWD": conn["password"]}
    t = time.perf_counter()
    subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--insert", action="store_true", help="also time load_method: insert (slow)")
    args = ap.parse_args()
    conn = settings()
    ensure_source(conn, args.rows)
    run = ExecutionContext(Path(tempfile.mkdtemp(prefix="osiris_tui_bench_")) / "run")
    ctx = run.for_step("bench")
    n = args.rows

    # -- extract ------------------------------------------------------------------------------------
    cli_s = bench_cli(conn)
    cfg = {"table": SOURCE, "resolved_connection": conn}
    ex_s, out = timed(lambda: MySQLExtractor().run(step_id="bench", config=cfg, inputs=None, ctx=ctx))
    df = out["df"]
    assert len(df) == n, len(df)
    py_s, _ = timed(
        lambda: MySQLExtractor().run(step_id="bench", config={**cfg, "engine": "pymysql"}, inputs=None, ctx=ctx)
    )
    print(f"\nextract {n:,} rows")
    print(f"  mariadb --batch > /dev/null   {cli_s:6.2f}s  {n / cli_s:>12,.0f} rows/s")
    print(
        f"  mysql.extractor (connectorx)  {ex_s:6.2f}s  {n / ex_s:>12,.0f} rows/s  ratio {cli_s / ex_s:.2f}"
        " (goal >= 0.7)"
    )
    print(f"  mysql.extractor engine=pymysql{py_s:6.2f}s  {n / py_s:>12,.0f} rows/s  ratio {cli_s / py_s:.2f}")

    # -- write ----------------------------------------------------------------------------------------
    suffix = secrets.token_hex(3)
    t_writer, t_load, t_insert = f"bench_w_{suffix}", f"bench_l_{suffix}", f"bench_i_{suffix}"
    csv_path = Path(tempfile.mkdtemp(prefix="osiris_tui_bench_")) / "big.csv"
    try:
        with connect(conn) as c, c.cursor() as cur:
            for t in (t_writer, t_load, t_insert):
                cur.execute(f"CREATE TABLE `{t}` LIKE `{SOURCE}`")
            cur.execute(f"SELECT * FROM `{SOURCE}`")
            rows = cur.fetchall()
        table = pa.table(list(zip(*rows, strict=True)), names=["id", "qty", "price", "label", "created"])
        del rows
        pacsv.write_csv(
            table, csv_path, pacsv.WriteOptions(include_header=False, null_string="NULL", quoting_style="all_valid")
        )
        with connect(conn, autocommit=False) as c, c.cursor() as cur:
            t = time.perf_counter()
            cur.execute(
                f"LOAD DATA LOCAL INFILE %s INTO TABLE `{t_load}` CHARACTER SET utf8mb4 "
                "FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"' ESCAPED BY '' "
                "LINES TERMINATED BY '\\n'",
                (str(csv_path),),
            )
            c.commit()
            load_s = time.perf_counter() - t
        wcfg = {"table": t_writer, "resolved_connection": conn}
        w_s, _ = timed(lambda: MySQLWriter().run(step_id="bench", config=wcfg, inputs={"df": df}, ctx=ctx))
        wb_s, _ = timed(
            lambda: MySQLWriter().run(
                step_id="bench",
                config={**wcfg, "write_mode": "replace", "batch_size": 100_000},
                inputs={"df": df},
                ctx=ctx,
            )
        )
        with connect(conn) as c, c.cursor() as cur:
            cur.execute(f"SELECT COUNT(*) FROM `{t_writer}`")
            assert cur.fetchone()[0] == n
        print(f"\nwrite {n:,} rows (append into an empty table)")
        print(f"  LOAD DATA LOCAL INFILE (csv)  {load_s:6.2f}s  {n / load_s:>12,.0f} rows/s")
        print(
            f"  mysql.writer append (1000)    {w_s:6.2f}s  {n / w_s:>12,.0f} rows/s  ratio {load_s / w_s:.2f}"
            " (goal >= 0.5)"
        )
        print(f"  mysql.writer replace (100000) {wb_s:6.2f}s  {n / wb_s:>12,.0f} rows/s  ratio {load_s / wb_s:.2f}")
        if args.insert:
            icfg = {"table": t_insert, "resolved_connection": conn, "load_method": "insert"}
            i_s, _ = timed(lambda: MySQLWriter().run(step_id="bench", config=icfg, inputs={"df": df}, ctx=ctx))
            print(f"  mysql.writer load_method=insert {i_s:6.2f}s  {n / i_s:>10,.0f} rows/s  ratio {load_s / i_s:.2f}")
    finally:
        with connect(conn) as c, c.cursor() as cur:
            for t in (t_writer, t_load, t_insert):
                cur.execute(f"DROP TABLE IF EXISTS `{t}`")
        csv_path.unlink(missing_ok=True)
        run.close()


if __name__ == "__main__":
    main()
