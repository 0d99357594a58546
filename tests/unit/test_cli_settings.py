"""The command line with settings files and `serve`: bad input exits 2 with one line before anything
starts (the app or the server), and `serve` runs the app with the same options."""

from __future__ import annotations

import os
import shutil
import socket
import sys
from pathlib import Path

import pytest

from osiris_tui import serve as serve_module
from osiris_tui.cli import main
from osiris_tui.serve import banner, is_loopback

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = ROOT / "sample_manifests" / "quickstart"


@pytest.fixture
def quickstart(tmp_path: Path) -> Path:
    shutil.copytree(QUICKSTART, tmp_path / "quickstart")
    return tmp_path / "quickstart" / "manifest.yaml"


@pytest.fixture
def no_start(monkeypatch):
    """Neither the app nor the server may start in these tests: either one starting fails the test."""
    import osiris_tui.tui.app as app_module

    def refuse(*args, **kwargs):
        raise AssertionError("started although the input was bad")

    monkeypatch.setattr(app_module.DebuggerApp, "run", refuse)
    monkeypatch.setattr(serve_module, "serve", refuse)


def one_error(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


@pytest.mark.parametrize("command", [[], ["serve"]])
@pytest.mark.parametrize(("where", "text", "expected"), [
    ("project", 'theme = "nordd"\n', ".osiris-tui.toml:1: key 'theme': no theme 'nordd' (hint: did you mean 'nord'?"),
    ("project", '\n[keymap]\n"osiris.stepp" = "j"\n', "key 'keymap.osiris.stepp': no key binding with id"),
    ("project", "[breakpoints]\ndefault = ['revenu']\n", ":2: key 'breakpoints.default': no step 'revenu'"),
    ("project", "cache_budget = 'much'\n", ":1: key 'cache_budget': not a size"),
    ("user", "colour = 'red'\n", "config.toml:1: key 'colour': unknown setting"),
    ("user", "theme = \n", "config.toml:1:9: not valid TOML"),
])
def test_bad_settings_exit_2(command, where, text, expected, quickstart: Path, capsys, no_start) -> None:
    if where == "project":
        (quickstart.parent / ".osiris-tui.toml").write_text(text)
    else:
        user = Path(os.environ["XDG_CONFIG_HOME"]) / "osiris-tui" / "config.toml"
        user.parent.mkdir(parents=True, exist_ok=True)
        user.write_text(text)
    assert main([*command, str(quickstart)]) == 2
    assert expected in one_error(capsys)


@pytest.mark.parametrize("command", [[], ["serve"]])
def test_bad_theme_flag_exits_2(command, quickstart: Path, capsys, no_start) -> None:
    assert main([*command, str(quickstart), "--theme", "draculaa"]) == 2
    assert "--theme: no theme 'draculaa' (hint: did you mean 'dracula'?" in one_error(capsys)


@pytest.mark.parametrize(("args", "expected"), [
    (["missing.yaml"], "Manifest file not found"),
    (["{manifest}", "--break", "nope"], "no such step 'nope'"),
    (["{manifest}", "--connections", "nowhere.yaml"], "nowhere.yaml"),
])
def test_serve_checks_the_manifest_before_serving(args, expected, quickstart: Path, capsys, no_start) -> None:
    assert main(["serve", *[a.format(manifest=quickstart) for a in args]]) == 2
    assert expected in one_error(capsys)


def test_serve_refuses_a_port_in_use(quickstart: Path, capsys) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", str(quickstart), "--port", str(port)]) == 2
    err = one_error(capsys)
    assert f"--port {port}: cannot listen on 127.0.0.1:{port}" in err and "use another port" in err


def test_serve_bad_port_is_a_usage_error(quickstart: Path, capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main(["serve", str(quickstart), "--port", "70000"])
    assert info.value.code == 2 and "not a port number" in capsys.readouterr().err


def test_serve_runs_the_app_with_the_same_options(monkeypatch, tmp_path: Path) -> None:
    seen: dict = {}

    def fake_serve(command, *, host, port):
        seen.update(command=command, host=host, port=port)
        return 0

    monkeypatch.setattr(serve_module, "serve", fake_serve)
    shutil.copytree(ROOT / "sample_manifests", tmp_path / "samples")
    manifest = tmp_path / "samples" / "oml_params" / "orders_report.yaml"
    connections = manifest.parent / "osiris_connections.yaml"
    monkeypatch.chdir(tmp_path)
    assert main(["serve", os.path.relpath(manifest), "--connections", str(connections), "--break", "monthly",
                 "--param", "min_amount=100", "--theme", "nord", "--run"]) == 0
    assert (seen["host"], seen["port"]) == ("127.0.0.1", 8000)  # localhost only by default
    assert seen["command"] == [sys.executable, "-m", "osiris_tui", str(manifest.resolve()),
                               "--connections", str(connections), "--param", "min_amount=100",
                               "--break", "monthly", "--run", "--theme", "nord"]
    assert not (tmp_path / ".osiris-tui").exists()  # checking made no run directory


def test_banner_says_who_can_reach_it() -> None:
    assert banner("127.0.0.1", 8000) == (
        "serving on http://127.0.0.1:8000 — localhost only; use --host 0.0.0.0 to expose it")
    assert "localhost only" in banner("localhost", 9000) and "localhost only" in banner("::1", 9000)
    exposed = banner("0.0.0.0", 8000)
    assert exposed.startswith("serving on http://0.0.0.0:8000") and "other machines" in exposed
    assert "http://[::]:8000" in banner("::", 8000)
    assert is_loopback("127.0.0.2") and not is_loopback("192.168.1.5") and not is_loopback("example.org")


def test_the_app_starts_with_the_settings(quickstart: Path, monkeypatch, tmp_path: Path) -> None:
    import osiris_tui.tui.app as app_module

    started: list = []
    monkeypatch.setattr(app_module.DebuggerApp, "run", lambda self: started.append(self.load_session() and self))
    monkeypatch.chdir(tmp_path)
    user = Path(os.environ["XDG_CONFIG_HOME"]) / "osiris-tui" / "config.toml"
    user.parent.mkdir(parents=True, exist_ok=True)
    user.write_text('theme = "dracula"\n[keymap]\n"osiris.step" = "j"\n')
    (quickstart.parent / ".osiris-tui.toml").write_text(
        '[breakpoints]\ndefault = ["revenue"]\nremember = false\ncontinue_on_start = true\n')
    assert main([str(quickstart), "--break", "save-revenue", "--run-dir", str(tmp_path / "run")]) == 0
    (app,) = started
    assert app.theme == "dracula"
    assert app.session.breakpoints == {"revenue", "save-revenue"}  # the file's and --break's
    assert app._run_on_mount is True  # continue_on_start
    assert next(k for k in app.key_actions if k.id == "osiris.step").display == "j"
    app.session.toggle_breakpoint("extract-orders")
    assert not (tmp_path / ".osiris-tui" / "breakpoints.json").exists()  # remember = false
    app.session.close()
    # --theme beats the files
    started.clear()
    assert main([str(quickstart), "--theme", "nord", "--run-dir", str(tmp_path / "run2")]) == 0
    assert started[0].theme == "nord"
    started[0].session.close()


def test_cache_budget_is_the_memory_budget_unless_the_flag_says(quickstart: Path, monkeypatch, tmp_path: Path) -> None:
    import osiris_tui.tui.app as app_module

    started: list = []
    monkeypatch.setattr(app_module.DebuggerApp, "run", lambda self: started.append(self.load_session() and self))
    (quickstart.parent / ".osiris-tui.toml").write_text('cache_budget = "300MiB"\n')
    assert main([str(quickstart), "--run-dir", str(tmp_path / "run")]) == 0
    assert started[0].session.memory_budget == 300 * 1024**2
    assert started[0].session.prepared.cache.budget_bytes == 300 * 1024**2
    started[0].session.close()
    assert main([str(quickstart), "--memory-budget", "1GiB", "--run-dir", str(tmp_path / "run2")]) == 0
    assert started[1].session.memory_budget == 1024**3
    started[1].session.close()
