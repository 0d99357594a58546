"""Stale steps: which files a pipeline's steps depend on, and which steps a change to one of them affects.

`StaleMap` lists the files to watch: the manifest (or OML file), each step's cfg file, the CSV inputs of
`filesystem.csv_extractor` steps, the connections file and the `.env` files. `affected()` turns changed
paths into `{step id: reason}` ("cfg/revenue.json changed"): a cfg file → its step, a CSV → its
extractor, the connections file or a `.env` → the steps whose connection entry or variables changed,
the manifest → the steps whose definition differs from what was prepared. `downstream()` closes that
over the steps that read from them. `PipelineWatcher` runs watchfiles in a thread and hands each
debounced batch of changes to a callback; it can be stopped at once.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from osiris_tui.errors import InputError
from osiris_tui.manifest.model import Pipeline, Step
from osiris_tui.runtime.connections import Connections, ResolvedConnection, parse_dotenv

logger = logging.getLogger(__name__)

Role = Literal["manifest", "cfg", "csv", "connections", "env"]
CSV_EXTRACTOR = "filesystem.csv_extractor"


@dataclass(frozen=True)
class WatchedFile:
    path: Path  # resolved
    role: Role
    steps: tuple[str, ...] = ()  # the steps that read it (cfg, csv)


def definition(step: Step) -> str:
    """What a step is, as a comparable string (its config in full, its driver and its edges)."""
    return json.dumps({"driver": step.driver, "component": step.component, "config": step.config,
                       "needs": step.needs, "inputs": step.input_refs}, sort_keys=True, default=str)


def definitions(pipeline: Pipeline) -> dict[str, str]:
    return {s.id: definition(s) for s in pipeline.steps}


def downstream(pipeline: Pipeline, step_ids: Iterable[str]) -> list[str]:
    """`step_ids` and every step that reads from them (directly or not), in run order."""
    hit = set(step_ids)
    out = []
    for s in pipeline.steps:
        if s.id in hit or any(u in hit for u in s.upstream):
            hit.add(s.id)
            out.append(s.id)
    return out


def _resolve(path: Path) -> Path:
    try:
        return path.expanduser().resolve()
    except (OSError, RuntimeError):
        return path.absolute()


def csv_paths(step: Step, connection: ResolvedConnection | None, base_dir: Path, cwd: Path) -> list[Path]:
    """Where a CSV extractor's `path` may point: against its connection's `base_dir`; without one, the
    working directory (what the driver reads) and the manifest's directory."""
    value = step.config.get("path")
    if not isinstance(value, str) or not value:
        return []
    p = Path(value).expanduser()
    if p.is_absolute():
        return [_resolve(p)]
    base = (connection.fields.get("base_dir") if connection is not None else None)
    if isinstance(base, str) and base:
        return [_resolve(Path(base) / p)]
    return list(dict.fromkeys([_resolve(cwd / p), _resolve(base_dir / p)]))


def dotenv_dirs(base_dir: Path, env: Mapping[str, str], cwd: Path) -> list[Path]:
    """The directories whose `.env` fills in variables (as `Connections.discover` reads them)."""
    dirs = [Path(env["OSIRIS_HOME"]).expanduser()] if env.get("OSIRIS_HOME") else []
    dirs += [base_dir, cwd, cwd.parent]
    return list(dict.fromkeys(_resolve(d) for d in dirs))


class StaleMap:
    """The files a prepared pipeline depends on, and how a change to each maps to steps."""

    def __init__(self, pipeline: Pipeline, connections: Connections,
                 resolved: Mapping[str, ResolvedConnection | None], *, cwd: Path | None = None,
                 env: Mapping[str, str] | None = None) -> None:
        self.pipeline = pipeline
        self.base_dir = _resolve(pipeline.base_dir)
        cwd = _resolve(cwd or Path.cwd())
        self.files: dict[Path, WatchedFile] = {}
        by_file: dict[tuple[Path, Role], list[str]] = {}
        self._add(_resolve(pipeline.path), "manifest")
        for step in pipeline.steps:
            if step.source is not None and step.source.kind == "cfg":
                by_file.setdefault((_resolve(step.source.file), "cfg"), []).append(step.id)
            if step.driver == CSV_EXTRACTOR:
                for path in csv_paths(step, resolved.get(step.id), self.base_dir, cwd):
                    by_file.setdefault((path, "csv"), []).append(step.id)
        for (path, role), steps in by_file.items():
            self._add(path, role, tuple(steps))
        if connections.path is not None:
            self._add(_resolve(connections.path), "connections")
        for directory in dotenv_dirs(self.base_dir, os.environ if env is None else env, cwd):
            self._add(directory / ".env", "env")

    def _add(self, path: Path, role: Role, steps: tuple[str, ...] = ()) -> None:
        if path not in self.files:  # the first role wins (a cfg file is not also a CSV)
            self.files[path] = WatchedFile(path, role, steps)

    def directories(self) -> list[Path]:
        """The existing directories holding watched files (watched one level deep: editors replace files)."""
        return [d for d in dict.fromkeys(p.parent for p in self.files) if d.is_dir()]

    def label(self, path: Path) -> str:
        """The path as the user knows it: relative to the manifest's directory when inside it."""
        try:
            return path.relative_to(self.base_dir).as_posix()
        except ValueError:
            return str(path)

    def classify(self, paths: Iterable[Path | str]) -> list[WatchedFile]:
        """The watched files among `paths`, in the map's order (so reasons come out stable)."""
        changed = {_resolve(Path(p)) for p in paths}
        return [f for p, f in self.files.items() if p in changed]


def connection_changes(before: Connections, after: Connections,
                       resolved: Mapping[str, ResolvedConnection | None]) -> list[str]:
    """Steps whose connection entry (family.alias) or whose variables differ between `before` and `after`."""
    out = []
    for step_id, conn in resolved.items():
        if conn is None:
            continue
        entries = [c.data.get(conn.family, {}).get(conn.alias) for c in (before, after)]
        if entries[0] != entries[1] or any(before.env.get(u.name) != after.env.get(u.name) for u in conn.env):
            out.append(step_id)
    return out


def env_changes(path: Path, before: Mapping[str, str], resolved: Mapping[str, ResolvedConnection | None]) -> list[str]:
    """Steps using a variable that the `.env` at `path` sets differently from `before` (or any variable,
    when the file cannot be read)."""
    try:
        values = parse_dotenv(path) if path.is_file() else {}
    except InputError:
        values = None
    out = []
    for step_id, conn in resolved.items():
        if conn is None or not conn.env:
            continue
        if values is None or any(before.get(u.name) != values.get(u.name) for u in conn.env):
            out.append(step_id)
    return out


@dataclass
class Changes:
    """What a batch of file changes did: the steps it affects with a reason, and notes for the event log."""

    reasons: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    pipeline: Pipeline | None = None  # the manifest as it now reads (when it changed and loads)
    connections: Connections | None = None  # the connections as they now read (when they changed)

    def add(self, steps: Iterable[str], reason: str) -> None:
        for step_id in steps:
            self.reasons.setdefault(step_id, reason)


def affected(stale_map: StaleMap, paths: Iterable[Path | str], *, baseline: Mapping[str, str],
             connections: Connections, resolved: Mapping[str, ResolvedConnection | None],
             load_pipeline: Callable[[], Pipeline] | None,
             load_connections: Callable[[], Connections] | None) -> Changes:
    """The steps the changed `paths` affect directly (not yet their downstream), each with its reason.

    `baseline` is each step's `definition` as prepared; `load_pipeline` reads the manifest again and
    `load_connections` the connections (with the `.env` files). A file that does not load now (an edit
    half saved) affects nothing; a note says why.
    """
    changes = Changes()
    for watched in stale_map.classify(paths):
        reason = f"{stale_map.label(watched.path)} changed"
        if watched.role in ("cfg", "csv"):
            changes.add(watched.steps, reason)
        elif watched.role == "manifest":
            if load_pipeline is None:
                changes.add(stale_map.pipeline.step_ids, reason)
                continue
            try:
                pipeline = load_pipeline()
            except InputError as exc:
                changes.notes.append(f"{stale_map.label(watched.path)} does not load: {exc.render()}")
                continue
            changes.pipeline = pipeline
            now = definitions(pipeline)
            changes.add([sid for sid in baseline if now.get(sid, None) != baseline[sid]], reason)
            if set(now) != set(baseline):
                changes.notes.append(f"{stale_map.label(watched.path)}: steps were added or removed "
                                     "(R restarts the run with them)")
        else:
            if watched.role == "env":
                changes.add(env_changes(watched.path, connections.env, resolved), reason)
            if load_connections is None:
                continue
            try:
                fresh = load_connections()
            except InputError as exc:
                changes.notes.append(f"{stale_map.label(watched.path)}: the connections do not load: {exc.render()}")
                continue
            changes.connections = fresh
            changes.add(connection_changes(connections, fresh, resolved), reason)
    return changes


class PipelineWatcher:
    """Watches the files of `files()` (re-read whenever `generation()` changes) and calls `on_change`
    with each debounced batch of changed paths, from its own thread. `stop()` ends it within
    `timeout_ms`.

    Editors save a file in several steps (write a temporary file, rename, touch): watchfiles groups
    the events that come within `quiet_ms` of each other (for at most `debounce_ms`) into one batch. A
    save split over two batches marks the same steps twice, which changes nothing. Each wake-up (at
    least every `timeout_ms`) also compares the files' size and mtime, so a dropped event is not missed.
    """

    def __init__(self, files: Callable[[], Iterable[Path]], on_change: Callable[[set[Path]], object], *,
                 generation: Callable[[], int] = lambda: 0, quiet_ms: int = 200, debounce_ms: int = 1600,
                 force_polling: bool | None = None, poll_delay_ms: int = 300, timeout_ms: int = 500) -> None:
        self._files = files
        self._on_change = on_change
        self._generation = generation
        self.quiet_ms = quiet_ms
        self.debounce_ms = debounce_ms
        self.force_polling = force_polling
        self.poll_delay_ms = poll_delay_ms
        self.timeout_ms = timeout_ms
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.ready = threading.Event()  # set once the first watch is in place
        self.batches = 0  # batches handed to on_change

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> PipelineWatcher:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="osiris-tui-watch", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def _run(self) -> None:
        try:
            from watchfiles import watch
        except ImportError:  # an install without it: no stale marks, nothing else changes
            logger.info("watchfiles is not installed: changed files do not mark steps stale")
            self.ready.set()
            return

        while not self._stop.is_set():
            generation = self._generation()
            files = {str(p) for p in self._files()}
            directories = [d for d in dict.fromkeys(str(Path(f).parent) for f in files) if Path(d).is_dir()]
            if not directories:
                self.ready.set()
                self._stop.wait(self.timeout_ms / 1000)
                continue
            stamps = {f: _stamp(f) for f in files}

            def wanted(_change: object, path: str, files: set[str] = files) -> bool:
                return path in files

            try:
                for batch in watch(*directories, watch_filter=wanted,
                                   stop_event=self._stop, debounce=self.debounce_ms, step=self.quiet_ms,
                                   rust_timeout=self.timeout_ms, yield_on_timeout=True, recursive=False,
                                   force_polling=self.force_polling, poll_delay_ms=self.poll_delay_ms,
                                   raise_interrupt=False, ignore_permission_denied=True):
                    self.ready.set()
                    # Each wake-up also compares the files' size and mtime: an event the OS dropped (or that
                    # came between two waits) is still seen.
                    changed = {path for _change, path in batch}
                    for f in files:
                        stamp = _stamp(f)
                        if stamp != stamps[f]:
                            stamps[f] = stamp
                            changed.add(f)
                    if changed:
                        self.batches += 1
                        try:
                            self._on_change({Path(path) for path in changed})
                        except Exception:  # a failing callback must not end the watching
                            logger.exception("handling file changes failed")
                    if self._generation() != generation or self._stop.is_set():
                        break
            except (OSError, RuntimeError) as exc:  # a watched directory went away: look again shortly
                logger.debug("watching stopped: %s", exc)
                self._stop.wait(self.timeout_ms / 1000)


def _stamp(path: str) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size, st.st_ino
