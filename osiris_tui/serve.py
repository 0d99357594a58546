"""`osiris-tui serve MANIFEST`: the debugger in a web browser, through textual-serve.

Each browser tab that opens the page starts its own `osiris-tui MANIFEST …` process (textual-serve runs
the command with Textual's web driver and streams the screen to xterm.js in the page).
"""

from __future__ import annotations

import argparse
import ipaddress
import shlex
import socket
import sys
from pathlib import Path
from typing import Any

from osiris_tui.errors import EXIT_OK, InputError
from osiris_tui.secrets import mask_text

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 < port < 65536:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r} (1-65535)")
    return port


def serve_parser() -> argparse.ArgumentParser:
    """The app's options (less --run-dir: each browser tab runs in a run directory of its own), and where
    to listen."""
    parser = argparse.ArgumentParser(
        prog="osiris-tui serve", description="Open the debugger in a web browser (served by textual-serve).",
        epilog="exit codes: 0 stopped with Ctrl+C, 2 bad input (checked before serving)")
    parser.add_argument("manifest", type=Path, metavar="MANIFEST", help="manifest.yaml, OML pipeline or seed manifest")
    parser.add_argument("--connections", type=Path, metavar="FILE", help="osiris_connections.yaml to use")
    parser.add_argument("--param", action="append", default=[], metavar="K=V", help="set an OML parameter")
    parser.add_argument("--host", default=DEFAULT_HOST,
                        help=f"address to listen on (default {DEFAULT_HOST}: this machine only; 0.0.0.0: every one)")
    parser.add_argument("--port", type=_port, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    parser.add_argument("--break", dest="breaks", action="append", default=[], metavar="SPEC",
                        help="pause before STEP, or 'after:STEP [if CONDITION]' (repeatable; as the app's --break)")
    parser.add_argument("--run", action="store_true", help="continue to the first breakpoint as the page opens")
    parser.add_argument("--theme", metavar="NAME", help="a Textual theme (overrides the settings files)")
    return parser


def app_command(args: argparse.Namespace) -> list[str]:
    """The command line of the app each browser tab runs: this Python, the same options."""
    command = [sys.executable, "-m", "osiris_tui", str(Path(args.manifest).resolve())]
    if args.connections is not None:
        command += ["--connections", str(Path(args.connections).resolve())]
    for param in args.param:
        command += ["--param", param]
    for step in args.breaks:
        command += ["--break", step]
    if args.run:
        command.append("--run")
    if args.theme is not None:
        command += ["--theme", args.theme]
    return command


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def banner(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}"
    if is_loopback(host):
        return f"serving on {url} — localhost only; use --host 0.0.0.0 to expose it"
    return (f"serving on {url} — reachable from other machines: anyone who can open it can run this pipeline "
            f"with your connections")


def _check_free(host: str, port: int) -> None:
    """The port can be listened on (aiohttp would fail with a traceback after printing its banner)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise InputError(f"--host {host}: cannot resolve it ({exc.strerror})",
                         hint="give an address such as 127.0.0.1 or 0.0.0.0") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            raise InputError(f"--port {port}: cannot listen on {host}:{port} ({exc.strerror})",
                             hint=f"use another port, e.g. --port {port + 1 if port < 65535 else 8000}") from None


def serve(command: list[str], *, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> int:
    """Serve the app until Ctrl+C or SIGTERM."""
    _check_free(host, port)
    from textual_serve.server import Server

    class DebuggerServer(Server):
        def initialize_logging(self) -> None:
            """Warnings go to the masking handler cli.py installs; textual-serve's own logging is not set
            up (it would print the command line, which may carry `--param` values)."""

        async def on_startup(self, app: Any) -> None:
            print(mask_text(f"osiris-tui: {banner(host, port)}"), flush=True)
            print("osiris-tui: open it in a browser; Ctrl+C stops the server", flush=True)

    # textual-serve runs the command through the shell.
    server = DebuggerServer(shlex.join(command), host=host, port=port, title="osiris-tui")
    server.serve()
    return EXIT_OK
