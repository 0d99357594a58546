"""The command line: exit codes, one-line errors without tracebacks, headless output, secrets, plugins."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from osiris_tui import __version__
from osiris_tui.cli import main
from tests.support.plugins import install_plugin

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = ROOT / "sample_manifests" / "quickstart" / "manifest.yaml"


def with_path(directory: Path) -> str:
    """PYTHONPATH with `directory` first (and the checkout under test kept)."""
    return os.pathsep.join(p for p in (str(directory), os.environ.get("PYTHONPATH", "")) if p)


def cli(*args: str, env: dict | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "osiris_tui", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, cwd=cwd, timeout=120)


def test_version_and_help(capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0 and __version__ in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "osiris-tui run MANIFEST" in capsys.readouterr().out


def test_quickstart_headless(tmp_path: Path) -> None:
    result = cli("run", str(QUICKSTART), "--run-dir", str(tmp_path / "run"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "step_complete" in result.stdout and "save-revenue" in result.stdout
    summary = result.stdout.split("\n\n")[-1]
    assert "revenue" in summary and "done" in summary
    status = json.loads((tmp_path / "run/status.json").read_text())
    assert status["ok"] and status["steps_completed"] == 4 and status["total_rows"] > 0


def test_json_lines_until_and_only(tmp_path: Path) -> None:
    result = cli("run", str(QUICKSTART), "--json", "--until", "revenue", "--run-dir", str(tmp_path / "r1"))
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    done = [r["step_id"] for r in records if r.get("event") == "step_complete"]
    assert done == ["extract-orders", "extract-customers", "revenue"]
    result = cli("run", str(QUICKSTART), "--json", "--only", "extract-customers", "--run-dir", str(tmp_path / "r2"))
    done = [json.loads(x)["step_id"] for x in result.stdout.splitlines() if '"step_complete"' in x]
    assert done == ["extract-customers"]
    for run in ("r1", "r2"):  # the selection ran whole: a success, not "incomplete"
        status = json.loads((tmp_path / run / "status.json").read_text())
        assert status["ok"] is True and status["status"] == "success", status
        assert status["steps_total"] == status["steps_completed"]


def test_text_lines_keep_their_columns_with_long_names_and_ids(tmp_path: Path) -> None:
    long_id = "extract_customers_from_the_production_replica"
    (tmp_path / "m.yaml").write_text(
        f"steps:\n  - {{id: {long_id}, driver: duckdb.processor, config: {{query: 'SELECT 1 AS x'}}}}\n"
        f"  - {{id: b, driver: duckdb.processor, needs: [{long_id}], config: {{query: 'SELECT 2 AS y'}}}}\n")
    result = cli("run", str(tmp_path / "m.yaml"), "--run-dir", str(tmp_path / "run"))
    assert result.returncode == 0, result.stderr
    lines = [x for x in result.stdout.split("\n\n")[0].splitlines() if x.strip()]
    names = {x[14:45].strip() for x in lines}
    assert "adapter_prepare_complete" in names and "inputs_resolved" in names  # long names stay whole
    steps = {x[45:45 + len(long_id)].strip() for x in lines if x[45:].strip()}
    assert steps <= {long_id, "b", ""} and long_id in steps  # the step column starts at one place


def test_failing_step_exits_1_and_names_step(tmp_path: Path) -> None:
    manifest = ROOT / "sample_manifests" / "failing" / "manifest.yaml"
    result = cli("run", str(manifest), "--run-dir", str(tmp_path / "run"))
    assert result.returncode == 1
    assert "step 'enrich' failed" in result.stderr and "Traceback" not in result.stderr


BAD_INPUTS = {
    "broken_yaml": ("steps: [\n  {id: a, driver: duckdb.processor\n", "m.yaml:"),
    "not_mapping": ("- just\n- a list\n", "mapping"),
    "no_steps": ("name: x\n", "steps"),
    "duplicate_ids": (
        "steps:\n  - {id: a, driver: duckdb.processor, config: {query: 'SELECT 1'}}\n"
        "  - {id: a, driver: duckdb.processor, config: {query: 'SELECT 1'}}\n", "Duplicate step id"),
    "unknown_driver": ("steps:\n  - {id: a, driver: duckdb.procesor, config: {}}\n", "duckdb.processor"),
    "unknown_need": (
        "steps:\n  - {id: a, driver: duckdb.processor, needs: [zz], config: {query: 'SELECT 1'}}\n", "zz"),
    "cycle": (
        "steps:\n  - {id: a, driver: duckdb.processor, needs: [b], config: {query: 'SELECT 1'}}\n"
        "  - {id: b, driver: duckdb.processor, needs: [a], config: {query: 'SELECT 1'}}\n", "cycle"),
    "family_without_alias": (
        "steps:\n  - {id: a, driver: mysql.extractor, config: {connection: '@mysql', query: 'SELECT 1'}}\n",
        "Invalid connection reference format"),
    "unknown_alias": (
        "steps:\n  - {id: a, driver: mysql.extractor, config: {connection: '@mysql.nope', query: 'SELECT 1'}}\n",
        "unknown connection alias 'nope'"),
    "unset_env_var": (
        "steps:\n  - {id: a, driver: mysql.extractor, config: {connection: '@mysql.db', query: 'SELECT 1'}}\n",
        "Environment variable 'UNSET_PW_FOR_TEST' not set"),
    "inline_secret_oml": (
        "oml_version: '0.1.0'\nname: x\nsteps:\n  - id: a\n    component: mysql.extractor\n    mode: read\n"
        "    config: {query: 'SELECT 1', password: hunter2hunter2}\n", "Inline secret"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_gives_one_line_and_exit_2(case: str, tmp_path: Path, capsys, monkeypatch) -> None:
    text, expected = BAD_INPUTS[case]
    (tmp_path / "osiris_connections.yaml").write_text(
        "connections:\n  mysql:\n    db: {host: h, database: d, user: u, password: '${UNSET_PW_FOR_TEST}'}\n")
    monkeypatch.delenv("UNSET_PW_FOR_TEST", raising=False)
    manifest = tmp_path / "m.yaml"
    manifest.write_text(text)
    code = main(["run", str(manifest), "--run-dir", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 2
    assert expected in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "hunter2hunter2" not in err


@pytest.mark.parametrize(
    ("files", "expected"),
    [({"cfg/a.json": None}, "cfg/a.json"), ({"cfg/a.json": '{"query": "SELECT 1",}'}, "a.json:1")],
)
def test_compiled_manifest_cfg_errors(files: dict, expected: str, tmp_path: Path, capsys) -> None:
    (tmp_path / "manifest.yaml").write_text(
        "meta: {oml_version: 0.1.0}\npipeline: {id: p}\n"
        "steps:\n- {id: a, driver: duckdb.processor, cfg_path: cfg/a.json, needs: []}\n")
    for name, text in files.items():
        if text is not None:
            (tmp_path / name).parent.mkdir(exist_ok=True)
            (tmp_path / name).write_text(text)
    assert main(["run", str(tmp_path / "manifest.yaml")]) == 2
    err = capsys.readouterr().err
    assert expected in err and err.count("\n") == 1


def test_missing_manifest_and_bad_param(tmp_path: Path, capsys) -> None:
    assert main(["run", str(tmp_path / "nope.yaml")]) == 2
    assert "nope.yaml" in capsys.readouterr().err
    assert main(["run", str(QUICKSTART), "--param", "novalue"]) == 2
    assert "--param expects K=V" in capsys.readouterr().err
    assert main([str(QUICKSTART), "--break", "nosuchstep"]) == 2
    assert "no such step" in capsys.readouterr().err


CANARY_FILE = "canary-file-7Hq2x9"
CANARY_ENV = "canary-env-Pz81kq"


@pytest.mark.parametrize("driver", ["tiny.leaky", "mysql.extractor"])
def test_canary_secrets_never_leave_a_failing_run(driver: str, tmp_path: Path) -> None:
    """Secrets from the connection file and from the environment appear in no output of a failing run,
    even when a driver puts them into its events, metrics and exception message."""
    site = make_plugin(tmp_path)
    family = driver.split(".")[0]
    (tmp_path / "osiris_connections.yaml").write_text(
        f"connections:\n  {family}:\n    db:\n      host: 127.0.0.1\n      port: 1\n      database: d\n"
        f"      user: u\n      password: {CANARY_FILE}\n      token: '${{ENV_CANARY}}'\n"
        "      dsn: 'mysql://u:${ENV_CANARY}@127.0.0.1:1/d'\n")
    (tmp_path / "m.yaml").write_text(
        "steps:\n"
        "  - {id: a, driver: duckdb.processor, config: {query: 'SELECT 1 AS x'}}\n"
        f"  - {{id: load, driver: {driver}, needs: [a], config: {{connection: '@{family}.db', query: 'SELECT 1'}}}}\n")
    result = cli("run", str(tmp_path / "m.yaml"), "--run-dir", str(tmp_path / "run"),
                 env={"ENV_CANARY": CANARY_ENV, "PYTHONPATH": with_path(site)}, cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    produced = result.stdout + result.stderr
    for path in (tmp_path / "run").rglob("*"):
        if path.is_file():
            produced += path.read_text(errors="replace")
    assert "step_error" in produced
    assert CANARY_FILE not in produced and CANARY_ENV not in produced


def test_interrupt_exits_130(tmp_path: Path) -> None:
    plugin = make_plugin(tmp_path)
    (tmp_path / "m.yaml").write_text("steps:\n  - {id: wait, driver: tiny.waiter, config: {}}\n")
    proc = subprocess.Popen([sys.executable, "-m", "osiris_tui", "run", str(tmp_path / "m.yaml"),
                             "--run-dir", str(tmp_path / "run")], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "PYTHONPATH": with_path(plugin)})
    for line in proc.stdout:
        if "waiting" in line:
            break
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    events = (tmp_path / "run/events.jsonl").read_text()
    assert "execution_interrupted" in events and "Traceback" not in err


def make_plugin(tmp_path: Path) -> Path:
    """A tiny installed plugin: a package plus its dist-info with an `osiris_tui.drivers` entry point."""
    return install_plugin(tmp_path / "site", "tiny_osiris_plugin", (
        "import threading\n"
        "import pandas as pd\n\n"
        "class Shout:\n"
        "    def run(self, *, step_id, config, inputs, ctx):\n"
        "        ctx.log_metric('rows_read', 2)\n"
        "        return {'df': pd.DataFrame({'word': [config['word'].upper()] * 2})}\n\n"
        "class Leaky:\n"
        "    def run(self, *, step_id, config, inputs, ctx):\n"
        "        c = config['resolved_connection']\n"
        "        ctx.log_event('auth', detail=f\"trying {c['password']} / {c['token']}\")\n"
        "        ctx.log_metric('attempt', 1, note=c['dsn'])\n"
        "        raise RuntimeError(f\"login failed with {c['password']} and {c['token']}\")\n\n"
        "class Waiter:\n"
        "    def run(self, *, step_id, config, inputs, ctx):\n"
        "        ctx.log_event('waiting')\n"
        "        done = threading.Event()\n"
        "        while not done.wait(0.05):\n"
        "            ctx.check_cancelled()\n"),
        {"tiny.shout": "tiny_osiris_plugin:Shout", "tiny.waiter": "tiny_osiris_plugin:Waiter",
         "tiny.leaky": "tiny_osiris_plugin:Leaky"})


def test_plugin_driver_from_entry_point(tmp_path: Path) -> None:
    site = make_plugin(tmp_path)
    (tmp_path / "m.yaml").write_text(
        "steps:\n  - {id: hi, driver: tiny.shout, config: {word: hello}}\n"
        "  - {id: count, driver: duckdb.processor, needs: [hi], config: {query: 'SELECT word, count(*) AS n "
        "FROM df_hi GROUP BY word'}}\n")
    result = cli("run", str(tmp_path / "m.yaml"), "--json", "--run-dir", str(tmp_path / "run"),
                 env={"PYTHONPATH": with_path(site)})
    assert result.returncode == 0, result.stderr
    metrics = [json.loads(x) for x in (tmp_path / "run/metrics.jsonl").read_text().splitlines()]
    assert {"metric": "rows_read", "value": 2, "step_id": "hi"}.items() <= next(
        m for m in metrics if m["metric"] == "rows_read").items()
