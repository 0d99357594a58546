"""Secrets are masked where they are produced, not only where they are shown.

These tests read the session's answers (`config`, `connection`), its record stream and the run directory
directly, with no UI in between: removing the masking at the source makes them fail. The canary tests run
`osiris-tui run` in process and look for every secret, in every form, in stdout, stderr and every file of
the run directory.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from osiris_tui.cli import main
from osiris_tui.drivers import registry as registry_module
from osiris_tui.drivers.registry import default_registry
from osiris_tui.manifest import load_pipeline
from osiris_tui.runtime.connections import Connections, ResolvedConnection
from osiris_tui.runtime.records import EventRecord, MetricRecord
from osiris_tui.runtime.session import DebugSession, RunState, StepState
from osiris_tui.secrets import ARTIFACT_MASK, MASK

CANARY_PW = "canary-pw-7Hq2x9"  # password in the connections file
CANARY_QUOTED = "canary'q\"uo\\te-4Lm"  # token with quotes and a backslash
CANARY_DSN_PW = "canary@dsn-Pz81"  # DSN password with an unencoded '@'
CANARY_ENV = "canary-env-Qw3e5r"  # from an environment variable (accessToken: ${...})
CANARY_DEFAULT = "canary-default-9Kx"  # a secret's ${VAR:-default}
CANARY_INT = 918273645  # pin: an integer in YAML
CANARY_SHORT = "c4y"  # a 3-character api-key
CANARY_INLINE = "canary-inline-Xy12"  # inline in the seed manifest
CANARIES = [CANARY_PW, CANARY_QUOTED, CANARY_DSN_PW, CANARY_ENV, CANARY_DEFAULT, str(CANARY_INT), CANARY_INLINE]


def forms(secret: str) -> list[str]:
    """The ways a secret can be spelled in text: as is, repr()-escaped, JSON-escaped."""
    return sorted({secret, repr(secret)[1:-1], json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1]})


class LeakyDriver:
    """Puts every secret of its connection into events, metrics and the exception it raises."""

    def run(self, *, step_id: str, config: dict[str, Any], inputs: Any, ctx: Any) -> dict:
        conn = config["resolved_connection"]
        ctx.log_event("auth_attempt", password=conn["password"], pin=conn["pin"], api_key=conn["api-key"],
                      detail=f"trying {conn['password']} / {conn['accessToken']} / {conn['token']}",
                      credentials={"user": "etl", "token": conn["token"]}, url=conn["dsn"],
                      note=f"pin {conn['pin']}, key '{conn['api-key']}'")
        ctx.log_metric("attempt", 1, note=conn["dsn"], apiKey=conn["token"], inline=config.get("api_key"))
        raise RuntimeError(f"login failed: {conn['password']!r} {conn['token']!r} {json.dumps(conn)} {conn!r} "
                           f"{json.dumps(config)} inline={config.get('api_key')}")


def write_project(root: Path) -> tuple[Path, Path]:
    connections = {"connections": {"mysql": {"db": {
        "host": "127.0.0.1", "port": 1, "database": "d", "user": "etl",
        "password": CANARY_PW,
        "token": CANARY_QUOTED,
        "dsn": f"postgresql://etl:{CANARY_DSN_PW}@127.0.0.1:1/d",
        "accessToken": "${CANARY_TOKEN}",
        "secret": "${UNSET_CANARY_VAR:-" + CANARY_DEFAULT + "}",
        "pin": CANARY_INT,
        "api-key": CANARY_SHORT,
    }}}}
    conn_file = root / "osiris_connections.yaml"
    conn_file.write_text(yaml.safe_dump(connections, sort_keys=False))
    manifest = root / "m.yaml"
    manifest.write_text(
        "name: leaky\n"
        "steps:\n"
        "  - id: load\n"
        "    driver: mysql.extractor\n"
        "    config:\n"
        "      connection: '@mysql.db'\n"
        "      query: SELECT 1  # kept as written\n"
        f"      api_key: {CANARY_INLINE}\n"
    )
    return manifest, conn_file


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    monkeypatch.setenv("CANARY_TOKEN", CANARY_ENV)
    monkeypatch.delenv("UNSET_CANARY_VAR", raising=False)
    monkeypatch.chdir(tmp_path)
    return write_project(tmp_path)


@pytest.fixture
def session(project: tuple[Path, Path], tmp_path: Path):
    manifest, conn_file = project
    registry = default_registry()
    registry.register("mysql.extractor", LeakyDriver)
    s = DebugSession(load_pipeline(manifest, drivers=registry.names()), registry=registry,
                     connections=Connections.discover(tmp_path, explicit=conn_file), run_dir=tmp_path / "run")
    yield s
    s.close()


def assert_no_canary(text: str, where: str) -> None:
    for canary in CANARIES:
        for form in forms(canary):
            assert form not in text, f"{canary!r} (as {form!r}) in {where}"


# -- at the source -------------------------------------------------------------------------------------
def test_session_config_is_masked_at_the_source(session: DebugSession) -> None:
    config = session.config("load")
    conn = config["resolved_connection"]
    for key in ("password", "token", "dsn", "accessToken", "secret", "pin", "api-key"):
        assert conn[key] == MASK, key
    assert config["api_key"] == MASK and config["query"].startswith("SELECT 1")
    assert conn["host"] == "127.0.0.1" and conn["user"] == "etl"
    assert_no_canary(json.dumps(config), "DebugSession.config")


def test_session_connection_is_masked_at_the_source(session: DebugSession) -> None:
    conn = session.connection("load")
    assert isinstance(conn, ResolvedConnection)
    masked = conn.masked()
    assert masked["password"] == masked["pin"] == masked["accessToken"] == masked["api-key"] == MASK
    assert masked["host"] == "127.0.0.1"
    assert conn.fields["password"] == CANARY_PW  # the driver still gets the real value
    assert_no_canary(json.dumps(masked) + repr(conn), "ResolvedConnection.masked/repr")
    env = {u.name: u for u in conn.masked_env()}
    assert env["UNSET_CANARY_VAR"].default == MASK and env["CANARY_TOKEN"].is_set
    assert_no_canary(repr(conn.masked_env()), "ResolvedConnection.masked_env")


def test_record_stream_and_status_are_masked_at_the_source(session: DebugSession) -> None:
    seen: list[Any] = []
    session.subscribe(seen.append)
    session.start()
    session.continue_()
    assert session.wait_until(lambda s: s.run_state is RunState.FAILED and not s.busy, timeout=30)
    status = session.status("load")
    assert status.state is StepState.FAILED and "login failed" in (status.error or "")
    lines = [dict(r.data) for r in seen if isinstance(r, EventRecord | MetricRecord)]
    auth = next(r for r in lines if r.get("event") == "auth_attempt")
    assert auth["password"] == auth["pin"] == auth["api_key"] == auth["credentials"] == MASK
    assert "trying" in auth["detail"] and auth["url"] == MASK
    metric = next(r for r in lines if r.get("metric") == "attempt")
    assert metric["apiKey"] == MASK and metric["value"] == 1
    assert any(r.get("event") == "step_error" for r in session.context.events)
    stream = json.dumps(lines, default=str)
    stored = json.dumps([session.context.events, session.context.metrics], default=str)
    assert_no_canary(stream, "the subscriber stream")
    assert_no_canary(stored, "session.context.events/metrics")
    assert_no_canary(f"{status.error}\n{status.traceback}", "the step status")
    assert f"'{CANARY_SHORT}'" not in stream  # the short key, quoted in the note


def test_run_dir_manifest_copy_masks_inline_secrets(session: DebugSession, tmp_path: Path) -> None:
    copy = (tmp_path / "run" / "manifest.yaml").read_text()
    original = (tmp_path / "m.yaml").read_text()
    assert CANARY_INLINE not in copy
    assert copy == original.replace(CANARY_INLINE, json.dumps(ARTIFACT_MASK))
    assert "query: SELECT 1  # kept as written" in copy


# -- the canary: everything a headless run writes ------------------------------------------------------
@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_canary_appears_in_no_output_of_a_headless_run(
    project: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    as_json: bool,
) -> None:
    manifest, conn_file = project
    monkeypatch.setitem(registry_module.BUILTIN_DRIVERS, "mysql.extractor", LeakyDriver)
    run_dir = tmp_path / "run"
    code = main(["run", str(manifest), "--connections", str(conn_file), "--run-dir", str(run_dir),
                 *(["--json"] if as_json else [])])
    out, err = capsys.readouterr()
    assert code == 1, err
    assert "step_error" in out and "login failed" in out + err
    files = sorted(p for p in run_dir.rglob("*") if p.is_file())
    names = {p.relative_to(run_dir).as_posix() for p in files}
    assert {"events.jsonl", "metrics.jsonl", "status.json", "manifest.yaml",
            "artifacts/load/cleaned_config.json"} <= names
    assert_no_canary(out, "stdout")
    assert_no_canary(err, "stderr")
    for path in files:
        data = path.read_bytes()
        for canary in CANARIES:
            for form in forms(canary):
                assert form.encode() not in data, f"{canary!r} (as {form!r}) in {path.relative_to(run_dir)}"
    cleaned = json.loads((run_dir / "artifacts/load/cleaned_config.json").read_text())
    assert cleaned["resolved_connection"]["pin"] == cleaned["resolved_connection"]["api-key"] == ARTIFACT_MASK
    status = json.loads((run_dir / "status.json").read_text())
    assert status["failed_step"] == "load" and "login failed" in status["error"]


# -- the sinks mask again (defence in depth) -----------------------------------------------------------
def test_sinks_mask_a_record_that_was_not_masked(tmp_path: Path) -> None:
    """A record that reaches a sink unmasked (a source that forgot) is masked by the JSONL writer, the
    JSON writer and the headless printers."""
    import io
    import logging

    from osiris_tui.headless import Printer
    from osiris_tui.runtime.context import ExecutionContext
    from osiris_tui.secrets import MaskingFormatter, register_secret

    register_secret(CANARY_PW)
    context = ExecutionContext(tmp_path / "run")
    raw = {"ts": "t", "session": "s", "event": "leak", "password": "pw-by-key", "detail": f"using {CANARY_PW}"}
    context._write("events", context.events, dict(raw))
    context.write_json("status.json", {"error": f"failed: {CANARY_PW}", "token": "by-key-too"})
    context.close()
    written = (tmp_path / "run" / "events.jsonl").read_text() + (tmp_path / "run" / "status.json").read_text()
    assert CANARY_PW not in written and "pw-by-key" not in written and "by-key-too" not in written
    for as_json in (False, True):
        out = io.StringIO()
        Printer(out, as_json)(EventRecord(1, "leak", {**raw, "password": CANARY_PW}))
        assert CANARY_PW not in out.getvalue() and "leak" in out.getvalue()
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed with %s", (CANARY_PW,), None)
    assert MaskingFormatter("%(message)s").format(record) == f"failed with {MASK}"
