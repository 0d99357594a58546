"""Command line: `osiris-tui MANIFEST` opens the debugger; `osiris-tui run MANIFEST` runs headless."""

from __future__ import annotations

import argparse
import gc
import logging
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from osiris_tui import __version__
from osiris_tui.cache_cli import add_checkpoint_options, checkpoint_options, checkpoints_for, memory_budget
from osiris_tui.errors import EXIT_BAD_INPUT, EXIT_INTERRUPTED, InputError
from osiris_tui.secrets import MaskingFormatter, mask_text
from osiris_tui.startup import hold_collection, release_collection

if TYPE_CHECKING:
    from osiris_tui.runtime.plan import SessionPlan
    from osiris_tui.settings import Settings

DESCRIPTION = "A terminal step debugger for Osiris data pipelines."
EPILOG = """\
commands:
  osiris-tui MANIFEST [options]        open the debugger on a manifest
  osiris-tui run MANIFEST [options]    run headless, printing events (see: osiris-tui run --help)
  osiris-tui diff A B [--key COL]...   compare two saved outputs (see: osiris-tui diff --help)
  osiris-tui serve MANIFEST [options]  open the debugger in a web browser (see: osiris-tui serve --help)
  osiris-tui cache list|clear [MANIFEST]  the checkpoints kept next to a manifest

MANIFEST is a seed-style manifest, a compiled Osiris manifest.yaml (with cfg/*.json) or an OML pipeline.
settings (theme, keymap, breakpoints): ~/.config/osiris-tui/config.toml, .osiris-tui.toml next to MANIFEST
exit codes: 0 success, 1 a step failed, 2 bad input, 3 stopped at a --break breakpoint (run), 130 interrupted
"""
BREAK_HELP = ("pause before STEP; 'after:STEP' pauses after it; add ' if CONDITION' (a DuckDB SQL boolean over "
              "the step's output, or its first input before it: 'after:STEP if count(*) = 0') (repeatable)")


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
    parser.add_argument("--break", dest="breaks", action="append", default=[], metavar="SPEC", help=BREAK_HELP)
    parser.add_argument("--run", action="store_true", help="continue to the first breakpoint right away")
    parser.add_argument("--watch", action="store_true",
                        help="re-run stale steps (their files changed) whenever the run is paused")
    parser.add_argument("--theme", metavar="NAME", help="a Textual theme (overrides the settings files)")
    add_checkpoint_options(parser, headless=False)
    return parser


def run_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="osiris-tui run", description="Run a pipeline headless.",
                                     epilog="exit codes: 0 success, 1 a step failed, 2 bad input (a --break condition "
                                            "that cannot be evaluated too), 3 stopped at a --break breakpoint "
                                            "(the run's outputs up to there are kept), 130 interrupted")
    _common(parser)
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--until", metavar="STEP", help="run the steps up to and including STEP")
    group.add_argument("--only", metavar="STEP", help="run STEP and the steps it needs")
    parser.add_argument("--json", action="store_true", help="print events as JSON lines")
    parser.add_argument("--break", dest="breaks", action="append", default=[], metavar="SPEC",
                        help=BREAK_HELP.replace("pause before", "stop (exit 3) before"))
    parser.add_argument("--save-outputs", type=Path, metavar="DIR",
                        help="after the run, write each step's output frame to DIR/<step id>.parquet")
    add_checkpoint_options(parser, headless=True)
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


def _session_plan(args: argparse.Namespace, *, breakpoints: Sequence[str] = (), remember_breakpoints: bool = False,
                  settings: Settings | None = None, headless: bool = False) -> SessionPlan:
    """The session the options ask for, checked (bad input raises here, before anything starts) but not
    built: building it imports the runtime, which the app does after its first paint."""
    from osiris_tui.drivers.registry import default_registry
    from osiris_tui.manifest import load_pipeline
    from osiris_tui.runtime.connections import Connections
    from osiris_tui.runtime.plan import SessionPlan

    registry = default_registry()
    params = _params(args.param)

    def reload():
        pipeline = load_pipeline(args.manifest, params=params, drivers=registry)  # (plugins: when needed)
        registry.check_installed(pipeline)  # a driver whose extra is missing: exit 2 before anything runs
        return pipeline

    pipeline = reload()
    for warning in pipeline.warnings:
        _say(f"warning: {warning}")
    if settings is not None:
        settings.check_steps(pipeline.step_ids)
        breakpoints = [*breakpoints, *settings.default_breakpoints]
    specs = []
    if breakpoints:  # (the breakpoint code is imported when there is one)
        from osiris_tui.runtime.breakpoints import parse_spec

        specs = [parse_spec(spec, pipeline.step_ids) for spec in breakpoints]
    connections = Connections.discover(pipeline.base_dir, explicit=args.connections)
    only = _selection(args, pipeline)
    checkpoint_options(args, headless=headless)
    budget = memory_budget(args, settings.cache_budget if settings is not None else None)

    def build():
        from osiris_tui.runtime.session import DebugSession

        store = None
        if remember_breakpoints:
            from osiris_tui.runtime.breakpoints import BreakpointStore

            store = BreakpointStore()
        return DebugSession(pipeline, registry=registry, connections=connections, run_dir=args.run_dir,
                            breakpoints=specs, reload=reload, only=only, breakpoint_store=store,
                            checkpoints=checkpoints_for(args, pipeline.path, headless=headless),
                            memory_budget=budget)

    return SessionPlan(pipeline, registry, build)


def _headless(argv: Sequence[str]) -> int:
    from osiris_tui.headless import run_headless

    args = run_parser().parse_args(argv)
    if args.save_outputs is not None:
        try:
            args.save_outputs.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(f"--save-outputs {args.save_outputs}: cannot create the directory: {exc.strerror}",
                             hint="give a directory you can write to") from None
    session = _session_plan(args, breakpoints=args.breaks, headless=True).build()
    return run_headless(session, as_json=args.json, save_outputs=args.save_outputs)


def _settings(args: argparse.Namespace) -> Settings:
    """The settings files for this manifest, `--theme` over them, checked against the app's names."""
    from osiris_tui.settings import load_settings
    from osiris_tui.tui.preferences import check_settings

    settings = load_settings(args.manifest).with_theme(args.theme)
    check_settings(settings)
    return settings


def _app(argv: Sequence[str]) -> int:
    hold_collection()  # until the first paint (the app releases it then)
    try:
        return _run_app(argv)
    finally:
        release_collection()


def _run_app(argv: Sequence[str]) -> int:
    args = app_parser().parse_args(argv)
    settings = _settings(args)
    plan = _session_plan(args, breakpoints=args.breaks, remember_breakpoints=settings.remember_breakpoints,
                         settings=settings)
    from osiris_tui.tui.app import DebuggerApp
    from osiris_tui.tui.preferences import apply_settings

    def build():
        session = plan.build()
        session.auto_rerun = args.watch
        return session

    app = DebuggerApp(replace(plan, build=build), run=args.run or settings.continue_on_start)
    apply_settings(app, settings)
    app.run()
    if app.load_error is not None:  # the session could not be built (e.g. an unwritable run directory)
        raise app.load_error
    return 0


def _serve(argv: Sequence[str]) -> int:
    from osiris_tui.serve import app_command, serve, serve_parser

    args = serve_parser().parse_args(argv)
    settings = _settings(args)
    # Everything the served app would refuse is refused here, before the server starts.
    _session_check(args, settings)
    return serve(app_command(args), host=args.host, port=args.port)


def _session_check(args: argparse.Namespace, settings: Settings) -> None:
    from osiris_tui.drivers.registry import default_registry
    from osiris_tui.manifest import load_pipeline
    from osiris_tui.runtime.breakpoints import parse_spec
    from osiris_tui.runtime.connections import Connections

    pipeline = load_pipeline(args.manifest, params=_params(args.param), drivers=default_registry().names())
    for spec in args.breaks:
        parse_spec(spec, pipeline.step_ids)
    settings.check_steps(pipeline.step_ids)
    Connections.discover(pipeline.base_dir, explicit=args.connections)


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
        if argv and argv[0] == "diff":
            from osiris_tui.diff_command import run_diff

            return run_diff(argv[1:])
        if argv and argv[0] == "serve":
            return _serve(argv[1:])
        if argv and argv[0] == "cache":
            from osiris_tui.cache_cli import run_cache

            return run_cache(argv[1:])
        return _app(argv)
    except InputError as exc:
        _say(f"error: {exc.render()}")
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        _say("interrupted")
        return EXIT_INTERRUPTED


def run() -> None:
    """The program (`osiris-tui`, `python -m osiris_tui`): `main`, then the exit.

    By then every file is closed and every output written, so the objects are left to the system: Python's
    last garbage collection would otherwise walk everything pandas, pyarrow and DuckDB loaded (~0.15 s,
    more than many a step takes). Modules are still torn down and exit handlers still run."""
    code = main()
    gc.freeze()
    raise SystemExit(code)
