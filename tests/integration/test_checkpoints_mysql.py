"""Resuming over a real MariaDB table: a mysql.extractor is re-read unless --reuse-extracts asks to
reuse it, what reads it runs again when it was re-read, and the password never reaches the cache."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from osiris_tui.cli import main
from osiris_tui.runtime.checkpoints import cache_root


def run(manifest: Path, run_dir: Path, capsys: pytest.CaptureFixture[str], *args: str) -> list[dict]:
    assert main(["run", str(manifest), "--json", "--run-dir", str(run_dir), *args]) == 0, capsys.readouterr().err
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def events(lines: list[dict], name: str) -> list[str]:
    return [x["step_id"] for x in lines if x.get("event") == name]


def test_database_extracts_are_reused_only_with_reuse_extracts(mysql_server, tmp_path: Path, capsys,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    table = f"ck_src_{os.getpid()}"
    with mysql_server.connect() as conn, conn.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS `{table}`")
        cur.execute(f"CREATE TABLE `{table}` (id INT PRIMARY KEY, v DECIMAL(10,2))")
        cur.execute(f"INSERT INTO `{table}` VALUES (1, 1.10), (2, 2.20), (3, NULL)")
    try:
        monkeypatch.setenv("CK_MYSQL_PASSWORD", mysql_server.password)
        (tmp_path / "osiris_connections.yaml").write_text(
            "version: 1\nconnections:\n  mysql:\n    db:\n"
            f"      host: {mysql_server.host}\n      port: {mysql_server.port}\n"
            f"      database: {mysql_server.database}\n      user: {mysql_server.user}\n"
            "      password: ${CK_MYSQL_PASSWORD}\n")
        manifest = tmp_path / "manifest.yaml"
        extract = f"{{connection: '@mysql.db', table: {table}}}"
        manifest.write_text(
            f"steps:\n  - {{id: extract, driver: mysql.extractor, config: {extract}}}\n"
            "  - {id: agg, driver: duckdb.processor, needs: [extract], config: "
            "{query: 'SELECT count(*) AS n, sum(v) AS total FROM df_extract'}}\n")
        first = run(manifest, tmp_path / "r1", capsys, "--resume")
        assert events(first, "step_complete") == ["extract", "agg"]
        with mysql_server.connect() as conn, conn.cursor() as cur:
            cur.execute(f"INSERT INTO `{table}` VALUES (4, 4.40)")

        second = run(manifest, tmp_path / "r2", capsys, "--resume")  # the table may have changed: re-read
        assert events(second, "step_complete") == ["extract", "agg"] and events(second, "cached") == []
        assert {s["step_id"]: s["rows"] for s in second[-1]["steps"]} == {"extract": 4, "agg": 1}

        third = run(manifest, tmp_path / "r3", capsys, "--resume", "--reuse-extracts")
        assert events(third, "cached") == ["extract", "agg"] and events(third, "step_complete") == []
        cached = next(x for x in third if x.get("event") == "cached")
        assert cached["rows"] == 4 and cached["age_seconds"] >= 0

        root = cache_root(manifest)
        assert root.is_dir()
        for path in root.iterdir():
            assert mysql_server.password.encode() not in path.read_bytes(), path
    finally:
        with mysql_server.connect() as conn, conn.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS `{table}`")
