"""The checkpoint options of both commands (`--resume`, `--fresh`, `--reuse-extracts`, `--memory-budget`,
`--cache-size`) and `osiris-tui cache list|clear [MANIFEST]`.

Imported by cli.py at start: what it needs from the runtime (pandas and all) is imported when used.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from osiris_tui.errors import EXIT_OK, InputError

if TYPE_CHECKING:
    from osiris_tui.runtime.checkpoints import CheckpointStore, SessionCheckpoints

DEFAULT_CACHE_SIZE = 2 * 1024**3
_UNITS = {"": 1, "b": 1, "k": 1024, "kb": 1024, "kib": 1024, "m": 1024**2, "mb": 1024**2, "mib": 1024**2,
          "g": 1024**3, "gb": 1024**3, "gib": 1024**3, "t": 1024**4, "tb": 1024**4, "tib": 1024**4}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$")


def parse_size(text: str, option: str) -> int:
    """`512MB`, `2GB`, `1.5G`, `100k`, `0` → bytes (powers of 1024), or an InputError naming `option`."""
    match = _SIZE.match(text)
    unit = match.group(2).lower() if match else ""
    if match is None or unit not in _UNITS:
        raise InputError(f"{option} {text!r} is not a size", hint=f"e.g. {option} 512MB (units: KB, MB, GB, TB)")
    return int(float(match.group(1)) * _UNITS[unit])


CACHE_USAGE = "osiris-tui cache list|clear [MANIFEST] [--step STEP]"


def add_checkpoint_options(parser: argparse.ArgumentParser, *, headless: bool) -> None:
    if headless:
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--resume", action="store_true",
                           help="take steps whose inputs and config are unchanged from their checkpoints, and "
                                "keep new ones (without --resume or --fresh, checkpoints are neither read nor kept)")
        group.add_argument("--fresh", action="store_true", help="run every step and keep new checkpoints")
    else:
        parser.add_argument("--fresh", action="store_true",
                            help="run every step instead of taking unchanged ones from their checkpoints")
    parser.add_argument("--reuse-extracts", action="store_true",
                        help="take database extractors from their checkpoints too (their tables may have changed)")
    parser.add_argument("--memory-budget", metavar="SIZE", default=None,
                        help="keep step outputs in memory up to SIZE (e.g. 512MB), the rest on disk; "
                             "'none': all in memory (default: a quarter of the machine's memory)")
    parser.add_argument("--cache-size", metavar="SIZE", default=None,
                        help="checkpoints kept next to the manifest, least recently used dropped first "
                             "(default 2GB; 0 keeps none)")


def default_memory_budget() -> int | None:
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")) // 4
    except (ValueError, OSError, AttributeError):
        return None


def memory_budget(args: argparse.Namespace, configured: int | None = None) -> int | None:
    """`--memory-budget`, else the settings files' `cache_budget` (`configured`), else a quarter of RAM."""
    value = getattr(args, "memory_budget", None)
    if value is None:
        return configured if configured is not None else default_memory_budget()
    if value.strip().lower() in ("none", "off", "unlimited"):
        return None
    return parse_size(value, "--memory-budget")


def checkpoint_options(args: argparse.Namespace, *, headless: bool) -> tuple[int, bool, bool]:
    """(cache size, reuse checkpoints, keep checkpoints at all) as the options say; bad ones raise."""
    size = DEFAULT_CACHE_SIZE if args.cache_size is None else parse_size(args.cache_size, "--cache-size")
    resume = bool(getattr(args, "resume", False)) if headless else not args.fresh
    if args.reuse_extracts and not resume:
        raise InputError("--reuse-extracts takes effect only when checkpoints are reused",
                         hint="add --resume" if headless else "leave out --fresh")
    # a plain `run` neither reads nor writes checkpoints: it costs what it did
    return size, resume, size != 0 and not (headless and not resume and not args.fresh)


def checkpoints_for(args: argparse.Namespace, manifest: Path, *, headless: bool) -> SessionCheckpoints | None:
    """The session's checkpoints as the options ask (None with `--cache-size 0`)."""
    size, resume, kept = checkpoint_options(args, headless=headless)
    if not kept:
        return None
    from osiris_tui import __version__
    from osiris_tui.drivers.registry import BUILTIN_DRIVERS, default_registry
    from osiris_tui.runtime.checkpoints import CheckpointStore, SessionCheckpoints

    registry = default_registry()
    targets = {name: registry.target(name) for name in registry.names()}  # as registered (before any import)

    def implementation(driver: str) -> str:
        # A plugin's code is named by its import path; the built-ins' by osiris-tui's version.
        target = targets.get(driver, "")
        if isinstance(target, str) and BUILTIN_DRIVERS.get(driver) != target:
            return target
        return __version__ if isinstance(target, str) else repr(target)

    def external(driver: str) -> bool:
        if driver in BUILTIN_DRIVERS or driver not in registry:
            return False
        try:
            return getattr(registry.factory(driver), "external_source", False) is True
        except Exception:  # a plugin that does not import fails its step, with the reason, when it runs
            return False

    store = CheckpointStore.for_manifest(manifest, size)
    return SessionCheckpoints(store, reuse=resume, reuse_extracts=args.reuse_extracts,
                              implementation=implementation, external=external)


# -- osiris-tui cache ------------------------------------------------------------------------------
def cache_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="osiris-tui cache", description="List or clear a pipeline's checkpoints.",
                                     epilog="exit codes: 0 done, 2 bad input")
    parser.add_argument("action", choices=("list", "clear"))
    parser.add_argument("manifest", nargs="?", type=Path, metavar="MANIFEST",
                        help="the pipeline whose directory's checkpoints to use (default: the working directory's)")
    parser.add_argument("--step", action="append", default=[], metavar="STEP", help="only these steps (repeatable)")
    parser.add_argument("--connections", type=Path, metavar="FILE", help="osiris_connections.yaml to use")
    return parser


def _store(manifest: Path | None) -> CheckpointStore:
    from osiris_tui.runtime.checkpoints import CheckpointStore

    if manifest is None:
        here = Path.cwd() / "manifest.yaml"
        store = CheckpointStore.for_manifest(here)
        if not store.root.is_dir():
            raise InputError(f"no checkpoints in {Path.cwd()}",
                             hint="give the MANIFEST whose checkpoints to use: " + CACHE_USAGE)
        return store
    if not manifest.is_file():
        raise InputError(f"{manifest}: no such file", file=manifest, hint=CACHE_USAGE)
    return CheckpointStore.for_manifest(manifest)


def _age(seconds: float) -> str:
    from osiris_tui.tui.format import age

    return age(seconds)


def _current(manifest: Path, connections: Path | None) -> dict[str, str]:
    """Step id → the fingerprint a run of `manifest` would look for now (steps it cannot tell are left out)."""
    from osiris_tui.drivers.registry import default_registry
    from osiris_tui.manifest import load_pipeline
    from osiris_tui.runtime.connections import Connections
    from osiris_tui.runtime.local_adapter import LocalAdapter

    registry = default_registry()
    pipeline = load_pipeline(manifest, drivers=registry.names())
    adapter = LocalAdapter(registry, Connections.discover(pipeline.base_dir, explicit=connections))
    args = argparse.Namespace(cache_size=None, resume=True, fresh=False, reuse_extracts=True)
    checkpoints = checkpoints_for(args, manifest, headless=True)
    assert checkpoints is not None
    from osiris_tui.runtime.checkpoints import connection_fields

    def resolve(step: Any) -> dict[str, Any] | None:
        return connection_fields(adapter, step)

    _, expected = checkpoints.plan(pipeline, resolve, set())
    current = {}
    identities: dict[str, str | None] = {}
    for step in pipeline.steps:
        fp = checkpoints.fingerprint(step, resolve, identities)
        if fp is not None:
            current[step.id] = fp
        identities[step.id] = expected.get(step.id)
    return current


def run_cache(argv: list[str], out: TextIO | None = None) -> int:
    out = out or sys.stdout
    args = cache_parser().parse_args(argv)
    store = _store(args.manifest)
    entries = [c for c in store.entries() if not args.step or c.step_id in args.step]
    if args.action == "clear":
        for checkpoint in entries:
            store.remove(checkpoint)
        if not args.step:
            store.clear()
        total = sum(c.bytes for c in entries)
        out.write(f"removed {len(entries)} checkpoint{'' if len(entries) == 1 else 's'} "
                  f"({_nbytes(total)}) from {store.root}\n")
        return EXIT_OK
    current = _current(args.manifest, args.connections) if args.manifest is not None else {}
    rows: list[tuple[str, ...]] = [("step", "fingerprint", "rows", "size", "age", "used", "current")]
    for c in sorted(entries, key=lambda c: (c.step_id, -c.created)):
        rows.append((c.step_id, c.fingerprint[:12], f"{c.rows:,}", _nbytes(c.bytes), _age(c.age),
                     _age(max(0.0, time.time() - c.used)),
                     ("yes" if current.get(c.step_id) == c.fingerprint else "no") if current else ""))
    if len(rows) == 1:
        out.write(f"no checkpoints in {store.root}\n")
        return EXIT_OK
    if not current:
        rows = [r[:-1] for r in rows]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for n, r in enumerate(rows):
        out.write("  ".join(c.rjust(w) if i in (2, 3) else c.ljust(w) for i, (c, w) in
                            enumerate(zip(r, widths, strict=True))).rstrip() + "\n")
        if n == 0:
            out.write("  ".join("-" * w for w in widths) + "\n")
    total = sum(c.bytes for c in entries)
    out.write(f"{len(entries)} checkpoint{'' if len(entries) == 1 else 's'}, {_nbytes(total)} "
              f"of {_nbytes(store.budget_bytes)} in {store.root}\n")
    return EXIT_OK


def _nbytes(size: int) -> str:
    from osiris_tui.tui.format import nbytes

    return nbytes(size)
