"""Command line: `osiris-tui MANIFEST` opens the debugger; `osiris-tui run MANIFEST` runs headless."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from osiris_tui import __version__
from osiris_tui.errors import EXIT_BAD_INPUT, EXIT_INTERRUPTED, InputError
from osiris_tui.secrets import MaskingFormatter, mask_text

DESCRIPTION = "A terminal step debugger for Osiris data pipelines."
EPILOG = """\
commands:
  osiris-tui MANIFEST [options]        open the debugger on a manifest
  osiris-tui run MANIFEST [options]    run headless, printing events (see: osiris-tui run --help)

MANIFEST is a seed-style manifest, a compiled Osiris manifest.yaml (with cfg/*.json) or an OML pipeline.
exit codes: 0 success, 1 a step failed, 2 bad input, 130 interrupted
"""


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("manifest", type=Path, metavar="MANIFEST", help="manifest.yaml, OML pipeline or seed manifest")
    parser.add_argument("--connections", type=Path, metavar="FILE", help="osiris_connections.yaml to use")
    parser.add_argument("--param", action="append", default=[], metavar="K=V", help="set an OML parameter")
    parser.add_argument("--run-dir", type=Path, metavar="DIR",
                        help="where events, metrics and artifacts go (default .osiris-tui/runs/<run id>)")


def app_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="osiris-tui", description=DESCRIPTION, epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"osiris-tui {__version__}")
    _common(parser)
    parser.add_argument("--break", dest="breaks", action="append", default=[], metavar="STEP",
                        help="pause before STEP (repeatable)")
    parser.add_argument("--run", action="store_true", help="continue to the first breakpoint right away")
    return parser


def run_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="osiris-tui run", description="Run a pipeline headless.",
                                     epilog="exit codes: 0 success, 1 a step failed, 2 bad input, 130 interrupted")
    _common(parser)
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--until", metavar="STEP", help="run the steps up to and including STEP")
    group.add_argument("--only", metavar="STEP", help="run STEP and the steps it needs")
    parser.add_argument("--json", action="store_true", help="print events as JSON lines")
    parser.add_argument("--save-outputs", type=Path, metavar="DIR",
                        help="after the run, write each step's output frame to DIR/<step id>.parquet")
    return parser


def _params(values: list[str]) -> dict[str, str]:
    """`--param K=V` values; names are checked against the pipeline's params when it loads."""
    params: dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep:
            raise InputError(f"--param expects K=V, got {item!r}", hint="e.g. --param min_year=2020")
        if not key:
            # The value is not echoed: it may be a secret.
            raise InputError("--param expects K=V, got an empty name before '='", hint="e.g. --param min_year=2020")
        if key in params and params[key] != value:
            raise InputError(f"--param {key} is given twice with different values",
                             hint=f"pass --param {key}=… once")
        params[key] = value
    return params


def _check_steps(pipeline, names: list[str], option: str) -> None:
    for name in names:
        if name not in pipeline.step_ids:
            raise InputError(f"{option} {name}: no such step", file=pipeline.path,
                             hint=f"steps: {', '.join(pipeline.step_ids)}")


def _selection(args: argparse.Namespace, pipeline) -> set[str] | None:
    """The steps `--until` / `--only` keep (None: all)."""
    target = getattr(args, "until", None) or getattr(args, "only", None)
    if target is None:
        return None
    _check_steps(pipeline, [target], "--until" if args.until else "--only")
    if args.until:
        return set(pipeline.step_ids[: pipeline.step_ids.index(target) + 1])
    return {target}


def _session(args: argparse.Namespace, *, breakpoints: Sequence[str] = (), remember_breakpoints: bool = False):
    from osiris_tui.drivers.registry import default_registry
    from osiris_tui.manifest import load_pipeline
    from osiris_tui.runtime.breakpoints import BreakpointStore
    from osiris_tui.runtime.connections import Connections
    from osiris_tui.runtime.session import DebugSession

    registry = default_registry()
    params = _params(args.param)

    def reload():
        pipeline = load_pipeline(args.manifest, params=params, drivers=registry)  # (plugins: when needed)
        registry.check_installed(pipeline)  # a driver whose extra is missing: exit 2 before anything runs
        return pipeline

    pipeline = reload()
    for warning in pipeline.warnings:
        _say(f"warning: {warning}")
    _check_steps(pipeline, list(breakpoints), "--break")
    connections = Connections.discover(pipeline.base_dir, explicit=args.connections)
    return DebugSession(pipeline, registry=registry, connections=connections, run_dir=args.run_dir,
                        breakpoints=breakpoints, reload=reload, only=_selection(args, pipeline),
                        breakpoint_store=BreakpointStore() if remember_breakpoints else None)


def _headless(argv: Sequence[str]) -> int:
    from osiris_tui.headless import run_headless

    args = run_parser().parse_args(argv)
    if args.save_outputs is not None:
        try:
            args.save_outputs.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(f"--save-outputs {args.save_outputs}: cannot create the directory: {exc.strerror}",
                             hint="give a directory you can write to") from None
    return run_headless(_session(args), as_json=args.json, save_outputs=args.save_outputs)


def _app(argv: Sequence[str]) -> int:
    args = app_parser().parse_args(argv)
    session = _session(args, breakpoints=args.breaks, remember_breakpoints=True)
    from osiris_tui.tui.app import DebuggerApp

    DebuggerApp(session, run=args.run).run()
    return 0


def _say(text: str) -> None:
    """A line on stderr (masked: it may quote a value from a manifest or a connection)."""
    print(mask_text(f"osiris-tui: {text}"), file=sys.stderr)


def _masked_logging() -> None:
    """Log records that would reach stderr through logging's last-resort handler (warnings and their
    tracebacks) go through a masking handler instead (unless the host already configured logging)."""
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler()
        handler.setLevel(logging.WARNING)
        handler.setFormatter(MaskingFormatter("%(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    _masked_logging()
    try:
        if argv and argv[0] == "run":
            return _headless(argv[1:])
        return _app(argv)
    except InputError as exc:
        _say(f"error: {exc.render()}")
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        _say("interrupted")
        return EXIT_INTERRUPTED
