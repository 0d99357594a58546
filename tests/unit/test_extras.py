"""A light install: a step whose driver needs a missing extra stops at load with exit 2 and the install command."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from osiris_tui.drivers.extras import install_command, missing_modules
from osiris_tui.drivers.registry import default_registry
from osiris_tui.errors import InputError
from osiris_tui.manifest import load_pipeline

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_manifests"

# Run as `python -c`: blocks the named modules on import (as if not installed), then runs the CLI.
BLOCKED_CLI = textwrap.dedent("""
    import importlib.abc, sys
    BLOCKED = set(sys.argv[1].split(","))

    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, Block())
    for name in list(sys.modules):
        if name.split(".")[0] in BLOCKED:
            del sys.modules[name]
    from osiris_tui.cli import main
    raise SystemExit(main(sys.argv[2:]))
""")


def blocked_cli(blocked: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    return subprocess.run([sys.executable, "-c", BLOCKED_CLI, blocked, *args], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=120)


@pytest.mark.parametrize("command", [["run"], []], ids=["run", "app"])
def test_a_mysql_step_without_the_mysql_extra_exits_2_naming_the_install_command(tmp_path: Path, command) -> None:
    manifest = SAMPLES / "mysql_duckdb_mysql" / "manifest.yaml"
    result = blocked_cli("pymysql,connectorx", *command, str(manifest), "--run-dir", str(tmp_path / "run"),
                         cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    line = lines[0]
    assert f"{manifest}:" in line and "step 'extract-orders'" in line and "driver 'mysql.extractor'" in line
    assert "pip install 'osiris-tui[mysql]'" in line
    assert not (tmp_path / "run").exists()  # stopped before the run began


def test_a_pipeline_missing_two_extras_names_both_in_one_command(tmp_path: Path) -> None:
    manifest = SAMPLES / "mysql_to_supabase" / "manifest.yaml"
    result = blocked_cli("pymysql,connectorx,supabase,psycopg", "run", str(manifest),
                         "--run-dir", str(tmp_path / "run"), cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "pip install 'osiris-tui[mysql,supabase]'" in result.stderr
    assert "step 'extract-paid'" in result.stderr and "step 'publish' (supabase.writer)" in result.stderr


def test_the_quickstart_runs_with_no_database_client_installed(tmp_path: Path) -> None:
    work = tmp_path / "quickstart"
    shutil.copytree(SAMPLES / "quickstart", work, ignore=shutil.ignore_patterns("out", ".osiris-tui"))
    result = blocked_cli("pymysql,connectorx,supabase,psycopg,postgrest", "run", str(work / "manifest.yaml"),
                         "--run-dir", str(tmp_path / "run"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (work / "out" / "revenue_by_country.csv").is_file()


def test_missing_modules_sees_a_module_marked_missing(monkeypatch) -> None:
    assert missing_modules("duckdb.processor") is None and missing_modules("filesystem.csv_writer") is None
    assert missing_modules("mysql.writer") is None  # installed in the test environment
    monkeypatch.setitem(sys.modules, "pymysql", None)
    extra, missing = missing_modules("mysql.writer")  # type: ignore[misc]
    assert extra.name == "mysql" and missing == ["pymysql"]
    assert install_command([extra]) == "pip install 'osiris-tui[mysql]'"


def test_a_session_on_a_pipeline_missing_an_extra_raises_at_prepare(monkeypatch, tmp_path: Path) -> None:
    from osiris_tui.runtime.session import DebugSession

    pipeline = load_pipeline(SAMPLES / "mysql_to_supabase" / "manifest.yaml")
    monkeypatch.setitem(sys.modules, "supabase", None)
    with pytest.raises(InputError) as info:
        DebugSession(pipeline, run_dir=tmp_path / "run")
    assert info.value.step_id == "publish" and "pip install 'osiris-tui[supabase]'" in info.value.render()


def test_a_plugin_that_takes_a_builtin_name_is_not_checked(monkeypatch) -> None:
    pipeline = load_pipeline(SAMPLES / "mysql_duckdb_mysql" / "manifest.yaml")
    monkeypatch.setitem(sys.modules, "pymysql", None)
    registry = default_registry()
    registry.register("mysql.extractor", "some_plugin:Extractor", isolated=None)
    registry.register("mysql.writer", "some_plugin:Writer", isolated=None)
    registry.check_installed(pipeline)  # the plugins bring what they need
    with pytest.raises(InputError, match="step 'extract-orders'"):
        default_registry().check_installed(pipeline)
