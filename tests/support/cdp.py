"""A headless Chromium driven over the DevTools protocol (aiohttp's websocket client; no browser download).

`Chromium.launch()` starts the system `chromium` with a throwaway profile; `page()` attaches to its tab.
`Page` sends protocol commands and reads the text of an xterm.js terminal: a script added before the
page's own captures the `Terminal` object the page creates, and `screen()` reads its buffer line by line
(the terminal draws on a canvas, so there is no text in the DOM to read).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
from collections.abc import Callable
from typing import Any

import aiohttp

# Any object that sets a `terminal` property to something with an xterm.js buffer: keep that terminal.
CAPTURE_TERMINAL = """
Object.defineProperty(Object.prototype, "terminal", {
  configurable: true,
  set(value) {
    Object.defineProperty(this, "terminal", {value, writable: true, configurable: true, enumerable: true});
    if (value && value.buffer && value.buffer.active && !window.__osirisTerminal) {
      window.__osirisTerminal = value;
    }
  },
});
"""

READ_SCREEN = """
(() => {
  const term = window.__osirisTerminal;
  if (!term) return null;
  const buffer = term.buffer.active, lines = [];
  for (let y = 0; y < term.rows; y++) {
    const line = buffer.getLine(buffer.viewportY + y);
    lines.push(line ? line.translateToString(true) : "");
  }
  return lines.join("\\n");
})()
"""


def _drain(stream: Any) -> None:
    for _ in stream:
        pass


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


class Page:
    """One tab: `call(method, **params)` and the terminal's text."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for message in self.ws:
            if message.type is not aiohttp.WSMsgType.TEXT:
                continue
            data = json.loads(message.data)
            future = self._pending.pop(data.get("id", -1), None)
            if future is not None and not future.done():
                future.set_result(data)
        for future in self._pending.values():
            if not future.done():
                future.set_exception(ConnectionError("the browser closed the connection"))

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        call_id = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[call_id] = future
        await self.ws.send_str(json.dumps({"id": call_id, "method": method, "params": params}))
        reply = await asyncio.wait_for(future, 10)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    async def evaluate(self, expression: str) -> Any:
        result = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def open(self, url: str) -> None:
        await self.call("Page.enable")
        await self.call("Page.addScriptToEvaluateOnNewDocument", source=CAPTURE_TERMINAL)
        await self.call("Page.navigate", url=url)

    async def screen(self) -> str:
        """The terminal's visible lines ("" before the page made its terminal)."""
        return await self.evaluate(READ_SCREEN) or ""

    async def wait_for_screen(self, test: Callable[[str], bool], *, timeout: float, what: str) -> str:
        """Poll the screen until `test(text)` holds; AssertionError with the last screen after `timeout`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        text = ""
        while loop.time() < deadline:
            text = await self.screen()
            if test(text):
                return text
            await asyncio.sleep(0.2)
        raise AssertionError(f"the page never showed {what} within {timeout:.0f}s; last screen:\n{text}")

    async def press(self, key: str) -> None:
        """A real key press on the focused terminal (keyDown with its text, keyUp)."""
        await self.evaluate("window.__osirisTerminal.focus()")
        code = f"Key{key.upper()}" if key.isalpha() else ""
        vk = ord(key.upper())
        await self.call("Input.dispatchKeyEvent", type="keyDown", key=key, code=code, text=key,
                        unmodifiedText=key, windowsVirtualKeyCode=vk, nativeVirtualKeyCode=vk)
        await self.call("Input.dispatchKeyEvent", type="keyUp", key=key, code=code,
                        windowsVirtualKeyCode=vk, nativeVirtualKeyCode=vk)

    async def close(self) -> None:
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader
        await self.ws.close()


class Chromium:
    """A headless Chromium process with remote debugging on a port it picks; `close()` ends it."""

    def __init__(self, process: subprocess.Popen[bytes], endpoint: str, profile: str) -> None:
        self.process = process
        self.endpoint = endpoint  # http://127.0.0.1:PORT
        self.profile = profile
        self.http = aiohttp.ClientSession()

    @classmethod
    async def launch(cls, executable: str, *, width: int = 1400, height: int = 900, timeout: float = 20) -> Chromium:
        profile = tempfile.mkdtemp(prefix="osiris-tui-chromium-")
        args = [executable, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--mute-audio",
                f"--user-data-dir={profile}", "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
                f"--window-size={width},{height}", "about:blank"]
        process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE, start_new_session=True)
        try:
            port = await asyncio.wait_for(asyncio.to_thread(cls._devtools_port, process), timeout)
        except BaseException:
            cls._kill(process)
            shutil.rmtree(profile, ignore_errors=True)
            raise
        return cls(process, f"http://127.0.0.1:{port}", profile)

    @staticmethod
    def _devtools_port(process: subprocess.Popen[bytes]) -> int:
        assert process.stderr is not None
        seen = []
        for raw in process.stderr:
            line = raw.decode("utf-8", "replace")
            seen.append(line)
            found = re.search(r"DevTools listening on ws://[^:]+:(\d+)/", line)
            if found:
                # Keep draining stderr so Chromium never blocks on a full pipe.
                threading.Thread(target=_drain, args=(process.stderr,), daemon=True).start()
                return int(found.group(1))
        raise RuntimeError("chromium exited before it listened for DevTools:\n" + "".join(seen[-20:]))

    async def page(self) -> Page:
        async with self.http.get(f"{self.endpoint}/json/list") as response:
            targets = await response.json()
        target = next(t for t in targets if t.get("type") == "page")
        ws = await self.http.ws_connect(target["webSocketDebuggerUrl"], max_msg_size=0)
        return Page(ws)

    @staticmethod
    def _kill(process: subprocess.Popen[bytes]) -> None:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    async def close(self) -> None:
        await self.http.close()
        self._kill(self.process)
        shutil.rmtree(self.profile, ignore_errors=True)
