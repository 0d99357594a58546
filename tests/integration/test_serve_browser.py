"""`osiris-tui serve` end to end in a real headless Chromium: the page loads, the step list appears, `c`
runs the quickstart, the finished run shows.

Under CI (or OSIRIS_TUI_REQUIRE_BROWSER=1, which scripts/test sets) a missing chromium fails the test;
elsewhere it is skipped with the reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.cdp import Chromium, find_chromium

REPO = Path(__file__).resolve().parents[2]
QUICKSTART = REPO / "sample_manifests" / "quickstart"
STEPS = ("extract-orders", "extract-customers", "revenue", "save-revenue")

pytestmark = pytest.mark.timeout(60)


def _chromium() -> str:
    path = find_chromium()
    if path is None:
        reason = "chromium is not installed (scripts/test installs it: apt-get install chromium)"
        if os.environ.get("CI") or os.environ.get("OSIRIS_TUI_REQUIRE_BROWSER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _outward_address() -> str | None:
    """This machine's address on its default route (not loopback), if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 1))  # UDP: picks a route, sends nothing
        except OSError:
            return None
        address = probe.getsockname()[0]
    return None if address.startswith("127.") else address


@contextlib.contextmanager
def _server(manifest: Path, port: int, cwd: Path):
    """`osiris-tui serve` in its own process group; yields it once it says it is serving."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "XDG_CONFIG_HOME": str(cwd / "config")}
    process = subprocess.Popen(
        [sys.executable, "-m", "osiris_tui", "serve", str(manifest), "--port", str(port)],
        cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        start_new_session=True)
    try:
        yield process
    finally:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)
        # The app processes the server started (one per page) are in its group too.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)


async def _banner(process: subprocess.Popen[bytes], timeout: float) -> str:
    assert process.stdout is not None
    stdout = process.stdout

    def first_line() -> str:
        return stdout.readline().decode("utf-8", "replace")

    line = await asyncio.wait_for(asyncio.to_thread(first_line), timeout)
    assert "serving on" in line, f"the server did not start: {line!r}, exit code {process.poll()}"
    return line


def test_a_missing_chromium_fails_under_ci(monkeypatch) -> None:
    monkeypatch.setattr(sys.modules[__name__], "find_chromium", lambda: None)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="chromium is not installed"):
        _chromium()
    monkeypatch.delenv("CI")
    monkeypatch.delenv("OSIRIS_TUI_REQUIRE_BROWSER", raising=False)
    with pytest.raises(pytest.skip.Exception):
        _chromium()


async def test_serve_runs_the_quickstart_in_chromium(tmp_path: Path) -> None:
    executable = _chromium()
    workdir = tmp_path / "work"
    shutil.copytree(QUICKSTART, workdir / "quickstart")
    manifest = workdir / "quickstart" / "manifest.yaml"
    port = _free_port()
    with _server(manifest, port, workdir) as server:
        line = await _banner(server, timeout=20)
        assert f"http://127.0.0.1:{port}" in line and "localhost only" in line
        outward = _outward_address()
        if outward is not None:  # localhost only: another interface's address is refused
            with pytest.raises(ConnectionRefusedError):
                socket.create_connection((outward, port), timeout=2).close()
        browser = await Chromium.launch(executable)
        try:
            page = await browser.page()
            try:
                await page.open(f"http://127.0.0.1:{port}/")
                # The step list, with the run paused before the first step.
                ready = await page.wait_for_screen(
                    lambda text: all(step in text for step in STEPS) and "before extract-orders" in text,
                    timeout=25, what="the step list")
                assert "finished" not in ready
                await page.press("c")
                # the header says finished, and every step has its ✓ (a failed one shows ✗)
                done = await page.wait_for_screen(
                    lambda text: "finished" in text and all(f"✓ {step}" in text for step in STEPS),
                    timeout=20, what="the finished run")
                assert "✗" not in done
            finally:
                await page.close()
        finally:
            await browser.close()
    # The pipeline really ran: its last step wrote the revenue file.
    outputs = list((workdir / "quickstart").rglob("revenue*.csv"))
    assert outputs, "save-revenue wrote no file"
