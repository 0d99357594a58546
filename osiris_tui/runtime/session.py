"""DebugSession: the control API the app and the headless command share.

Steps run one at a time in a worker thread. Callers (any thread) ask for `step`, `continue_`,
`run_to`, `pause`, `rerun`, `restart`; observe per-step state through `statuses()`; and `subscribe` to
a stream of records: the run's events and metrics (`kind` "event"/"metric") and state changes
(`kind` "state").

The next step to run is always the first step, in run order, that is neither done nor skipped. A
failed step stays next: re-running it (or continuing) tries it again. Re-running a done step marks its
downstream steps pending again, so continuing recomputes them.

Stopping: `cancel_step()` stops the running step (the run pauses before it); `interrupt()` (Ctrl+C,
SIGTERM, quitting while a step runs) stops it and ends the run: the step's `step_error`
(`cancelled: true`), then `execution_interrupted`, then `run_end`, and status.json says
`interrupted`. Either takes effect within about a second, whatever the driver is doing
(`runtime/executor.py`, `runtime/worker.py`).

Locks: `_lock` guards the session's state; records are emitted only while it is NOT held (their
content is read under it, inside the record stream's lock), so a subscriber can never deadlock
against a command.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from osiris_tui.drivers.registry import DriverRegistry, default_registry
from osiris_tui.errors import InputError
from osiris_tui.manifest.model import Pipeline, Step
from osiris_tui.runtime import staleness
from osiris_tui.runtime.adapter import ExecutionAdapter, PreparedRun
from osiris_tui.runtime.connections import Connections, ResolvedConnection
from osiris_tui.runtime.context import ExecutionContext, new_run_id, prepare_run_dir
from osiris_tui.runtime.executor import ABANDON_AFTER
from osiris_tui.runtime.local_adapter import LocalAdapter, driver_inputs
from osiris_tui.runtime.previous_outputs import PreviousOutput, PreviousOutputs
from osiris_tui.runtime.records import Record, RecordStream, RunState, StateChange, StepState
from osiris_tui.runtime.status_board import StatusBoard
from osiris_tui.runtime.step_status import StepStatus
from osiris_tui.runtime.worker import KILL_AFTER
from osiris_tui.secrets import mask_exception, mask_value

if TYPE_CHECKING:  # (imported when the first frame is made: the app paints before they load)
    import pandas as pd
    import pyarrow as pa

    from osiris_tui.runtime.breakpoints import Breakpoint, BreakpointHit, BreakpointStore, When
    from osiris_tui.runtime.checkpoints import CachedStep, SessionCheckpoints

logger = logging.getLogger(__name__)

DEFAULT_RUNS_DIR = Path(".osiris-tui") / "runs"


# How long stopping may wait for the running step to end: what the executor allows it, plus margin.
STOP_WAIT = max(ABANDON_AFTER, KILL_AFTER) + 1.0


Reloader = Callable[[], Pipeline]


def _breakpoint(step_id: str) -> Breakpoint:
    """A plain before-breakpoint (breakpoints.py loads with the first one: a plain run has none)."""
    from osiris_tui.runtime.breakpoints import Breakpoint

    return Breakpoint(step_id)


class DebugSession:
    """Breakpoints, stepping and re-running over a LocalAdapter, safe to drive from any thread."""

    def __init__(
        self,
        pipeline: Pipeline,
        *,
        registry: DriverRegistry | None = None,
        connections: Connections | None = None,
        run_dir: Path | None = None,
        runs_root: Path | None = None,
        breakpoints: Iterable[str | Breakpoint] = (),
        reload: Reloader | None = None,
        only: Iterable[str] | None = None,
        breakpoint_store: BreakpointStore | None = None,
        checkpoints: SessionCheckpoints | None = None,
        memory_budget: int | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.registry = registry or default_registry()
        self.connections = connections or Connections.discover(pipeline.base_dir)
        self._fixed_run_dir = run_dir
        self._runs_root = runs_root or DEFAULT_RUNS_DIR
        self._reload = reload
        self._only = set(only) if only is not None else None
        given = [_breakpoint(bp) if isinstance(bp, str) else bp for bp in breakpoints]
        for step_id in [*(bp.step_id for bp in given), *(self._only or ())]:
            pipeline.step(step_id)  # KeyError for an unknown id
        self._breakpoint_store = breakpoint_store
        self._breakpoints: dict[tuple[str, When], Breakpoint] = {}
        if breakpoint_store is not None:  # saved ones come back, unless their step is gone
            for bp in breakpoint_store.load(pipeline.path):
                if bp.step_id in pipeline.step_ids:
                    self._breakpoints[bp.key] = bp
        self._breakpoints.update((bp.key, bp) for bp in given)
        self._hits: dict[tuple[str, When], int] = {}  # times each breakpoint's condition held, this run
        self.last_hit: BreakpointHit | None = None  # why the run last stopped at a breakpoint
        self._stale: dict[str, str] = {}  # step id → why its output is out of date
        self._reload_before_run: set[str] = set()  # steps whose files changed before they ran
        self._stale_map: staleness.StaleMap | None = None
        self.watch_generation = 0  # changes when the files to watch may have changed (a new run)
        self.auto_rerun = False  # re-run stale steps whenever the run is paused (`--watch`)
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self.stream = RecordStream()
        self._commands: queue.Queue[tuple[str, Any] | None] = queue.Queue()
        self._pending = 0  # commands queued or running: `idle` is `_pending == 0`
        self._goal: tuple[str, Any] | None = None
        self._pause_requested = False
        self._busy = False
        self._stopping = False
        self._finished = False
        self._thread: threading.Thread | None = None
        self.adapter: ExecutionAdapter = LocalAdapter(self.registry, self.connections)
        self.run_state = RunState.READY
        self.summary: dict[str, Any] | None = None
        self._prefetch_tables = False
        self.previous_outputs = PreviousOutputs()  # what a re-run replaced, for the diff view
        self._watcher: staleness.PipelineWatcher | None = None
        self.checkpoints = checkpoints
        self.memory_budget = memory_budget
        self._cached: dict[str, CachedStep] = {}
        self._expected: dict[str, str | None] = {}  # each step's identity as the cached plan assumed it
        self._new_run()

    @property
    def prefetch_tables(self) -> bool:
        """Whether each step's frame is turned into Arrow in the background as soon as it is cached (the
        app sets this: it shows frames; a headless run has no use for most of them)."""
        return self._prefetch_tables

    @prefetch_tables.setter
    def prefetch_tables(self, on: bool) -> None:
        self._prefetch_tables = on
        self.prepared.cache.convert_in_background = on

    # -- lifecycle -----------------------------------------------------------------------------------
    def _new_run(self) -> None:
        run_dir = self._fixed_run_dir or (self._runs_root / new_run_id())
        # A reused --run-dir starts clean; an unwritable one is an InputError before anything runs.
        prepare_run_dir(run_dir, clean=self._fixed_run_dir is not None)
        self.stream.new_run()
        self.context = ExecutionContext(run_dir, base_dir=self.pipeline.base_dir, stream=self.stream)
        # Osiris's session `run_start` comes first (its runner's own `run_start` follows when steps begin).
        self.context.log_event("run_start", session_id=self.context.session_id, session_dir=str(run_dir),
                               fallback_used=False, pipeline_id=self.pipeline.name,
                               manifest_path=str(self.pipeline.path), run_id=self.context.session_id,
                               steps=len(self.pipeline.steps))
        self.prepared: PreparedRun = self.adapter.prepare(self.pipeline, self.context)
        self.prepared.cache.convert_in_background = self._prefetch_tables
        self.prepared.cache.budget_bytes = self.memory_budget
        if self.checkpoints is not None:
            self.prepared.metadata["checkpoints"] = True
            self.checkpoints.attach(self.context)
        keep = self._closure(self._only) if self._only is not None else None
        if keep is not None:
            self.prepared.plan = [s for s in self.prepared.plan if s.id in keep]
        # (the plan's steps keep their edges for the whole run: a reload replaces configs only)
        self._status = StatusBoard(self.pipeline.step_ids, {s.id: s.upstream for s in self.prepared.plan})
        if keep is not None:
            for s in self.pipeline.steps:
                if s.id not in keep:
                    self._status[s.id] = StepStatus(s.id, StepState.SKIPPED)
        self.summary = None
        self._finished = False
        self.previous_outputs.clear()
        self._hits = {}
        self.last_hit = None
        self._stale = {}
        self._reload_before_run = set()
        self._definitions = staleness.definitions(self.pipeline)  # what was prepared, to compare edits with
        self._stale_map = None
        self.watch_generation += 1
        self.adapter.warm_up(self.prepared)
        self._refresh_cached()

    def _closure(self, targets: set[str]) -> set[str]:
        keep = set(targets)
        for s in reversed(self.pipeline.steps):
            if s.id in keep:
                keep.update(s.upstream)
        return keep

    def start(self) -> DebugSession:
        with self._lock:
            if self._thread is not None:
                return self
            self._thread = threading.Thread(target=self._worker, name="osiris-tui-session", daemon=True)
            self._thread.start()
        self._set_paused_marker()
        return self

    def close(self, timeout: float = STOP_WAIT) -> None:
        """End the session: a running step is cancelled (the run ends interrupted), then clean up."""
        with self._lock:
            if self.run_state is RunState.CLOSED:
                return
            running = self._busy
        self.stop_watching()
        if running:
            self.interrupt(timeout=timeout)
        self._stop_worker(timeout)
        self._finish_run()
        if self.checkpoints is not None:  # what is still being written is dropped after a stop
            self.checkpoints.close(cancel=self.run_state is RunState.INTERRUPTED)
        with self._lock:
            self.adapter.cleanup(self.prepared)
            self.context.close()
            self.run_state = RunState.CLOSED
            self._changed.notify_all()
        self._notify_state()

    def interrupt(self, reason: str = "interrupted", timeout: float = STOP_WAIT) -> None:
        """Ctrl+C, SIGTERM or quitting mid-step: cancel the running step and end the run as interrupted.

        Returns once the run has ended (status.json written), within about a second of the call.
        """
        with self._lock:
            if self._stopping or self.run_state is RunState.CLOSED:
                return
            self._stopping = True
            self._goal = None
            self._pause_requested = True
        self.context.stop(reason)
        self._stop_worker(timeout)
        with self._lock:
            finished = self._finished  # it ended on its own just before the stop
        if not finished:
            self.context.log_event("execution_interrupted", reason=reason)
            self._set_run_state(RunState.INTERRUPTED)
            self._finish_run()

    def cancel_step(self) -> bool:
        """Cancel the running step; the run pauses before it. False when no step is running."""
        with self._lock:
            if self.running_step_id() is None:
                return False
            self._goal = None
            self._pause_requested = True
            cancellation = self.context.cancel_event
        cancellation.cancel("cancelled")
        return True

    def _stop_worker(self, timeout: float) -> None:
        """Let the worker thread end after its current command (which a stop makes short)."""
        with self._lock:
            self._stopping = True
            thread = self._thread
        self._commands.put(None)
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    # -- subscribers ---------------------------------------------------------------------------------
    def subscribe(self, callback: Callable[[Record], None], *, replay: bool = False) -> Callable[[], None]:
        """Receive every event, metric and state change, in order, from the thread that produced it.

        With `replay`, this run's records so far come first (no gap, no duplicate). The callback must be
        quick and must not wait on another thread.
        """
        return self.stream.subscribe(callback, replay=replay)

    def _notify_state(self, step_id: str | None = None) -> None:
        def make(seq: int) -> StateChange:
            with self._lock:
                self._changed.notify_all()
                state = self._status[step_id].state if step_id is not None and step_id in self._status else None
                return StateChange(seq, self.run_state, step_id, state)

        self.stream.emit(make)

    # -- breakpoints ---------------------------------------------------------------------------------
    @property
    def breakpoints(self) -> set[str]:
        """The steps that have a breakpoint (before or after, enabled or not)."""
        with self._lock:
            return {step_id for step_id, _ in self._breakpoints}

    def breakpoint_list(self) -> list[Breakpoint]:
        """Every breakpoint, in run order (before ahead of after)."""
        order = {sid: i for i, sid in enumerate(self.pipeline.step_ids)}
        with self._lock:
            items = list(self._breakpoints.values())
        return sorted(items, key=lambda bp: (order.get(bp.step_id, len(order)), bp.when != "before"))

    def breakpoints_of(self, step_id: str) -> list[Breakpoint]:
        return [bp for bp in self.breakpoint_list() if bp.step_id == step_id]

    def put_breakpoint(self, bp: Breakpoint, replacing: tuple[str, When] | None = None) -> None:
        """Add or change a breakpoint (`replacing`: the key it had, when its `when` changed)."""
        self.pipeline.step(bp.step_id)
        with self._lock:
            if replacing is not None:
                self._breakpoints.pop(replacing, None)
                self._hits.pop(replacing, None)
            if self._breakpoints.get(bp.key) != bp:
                self._hits.pop(bp.key, None)  # a changed condition or ignore count counts afresh
            self._breakpoints[bp.key] = bp
        self._save_breakpoints()
        self._notify_state(bp.step_id)

    def remove_breakpoint(self, step_id: str, when: When) -> None:
        with self._lock:
            self._breakpoints.pop((step_id, when), None)
            self._hits.pop((step_id, when), None)
        self._save_breakpoints()
        self._notify_state(step_id)

    def clear_breakpoints(self) -> None:
        with self._lock:
            self._breakpoints.clear()
            self._hits.clear()
        self._save_breakpoints()
        self._notify_state()

    def breakpoint_hits(self, step_id: str, when: When) -> int:
        with self._lock:
            return self._hits.get((step_id, when), 0)

    def _save_breakpoints(self) -> None:
        if self._breakpoint_store is None:
            return
        with self._lock:
            current = list(self._breakpoints.values())
        try:
            self._breakpoint_store.save(self.pipeline.path, current)
        except OSError as exc:  # not being able to remember them must not stop debugging
            self.context.log_event("breakpoints_not_saved", error=mask_exception(exc))

    def set_breakpoint(self, step_id: str) -> None:
        self._set_breakpoint(step_id, True)

    def clear_breakpoint(self, step_id: str) -> None:
        self._set_breakpoint(step_id, False)

    def toggle_breakpoint(self, step_id: str) -> bool:
        """Returns True when the step now has a breakpoint (checked and changed in one locked step)."""
        return self._set_breakpoint(step_id, None)

    def _set_breakpoint(self, step_id: str, on: bool | None) -> bool:
        """The plain before-breakpoint of `step_id` (on, off, or toggled when `on` is None)."""
        self.pipeline.step(step_id)
        key: tuple[str, When] = (step_id, "before")
        with self._lock:
            if on is None:
                on = key not in self._breakpoints
            if on:
                self._breakpoints.setdefault(key, _breakpoint(step_id))
            else:
                self._breakpoints.pop(key, None)
            self._hits.pop(key, None)
        self._save_breakpoints()
        self._notify_state(step_id)
        return on

    # -- stale steps ---------------------------------------------------------------------------------
    def stale_steps(self) -> dict[str, str]:
        """Steps whose output is out of date, in run order, each with why ("cfg/revenue.json changed")."""
        with self._lock:
            return {sid: self._stale[sid] for sid in self.pipeline.step_ids if sid in self._stale}

    def stale_map(self) -> staleness.StaleMap:
        """The files this run depends on (rebuilt after a restart re-prepares the pipeline)."""
        with self._lock:
            if self._stale_map is None:
                self._stale_map = staleness.StaleMap(self.pipeline, self.connections, dict(self.prepared.connections))
            return self._stale_map

    def recompute_stale_map(self) -> None:
        """After the steps were prepared again in place (new configs, e.g. new parameter values): edits
        are compared with the definitions as they are now, and the files to watch are read again (a
        running watcher follows within its timeout)."""
        with self._lock:
            self._definitions = staleness.definitions(self.pipeline)
            self._stale_map = None
            self.watch_generation += 1

    def mark_stale(self, reasons: Mapping[str, str]) -> list[str]:
        """Mark the given steps, and every step downstream of them, stale. Only steps that have run (or
        are running) are marked: one that has not will read the changed files anyway (its config is
        read again before it runs). Returns the steps newly marked, in run order."""
        marked: list[str] = []
        with self._lock:
            ran = {sid for sid, st in self._status.items()
                   if st.state in (StepState.DONE, StepState.FAILED, StepState.RUNNING)}
            direct = [sid for sid in self.pipeline.step_ids if sid in reasons]
            self._reload_before_run.update(sid for sid in direct if sid not in ran)
            origin: dict[str, str] = {}
            for sid in staleness.downstream(self.pipeline, direct):
                step = self.pipeline.step(sid)
                origin[sid] = sid if sid in reasons else next(origin[u] for u in step.upstream if u in origin)
                if sid not in ran or sid in self._stale:
                    continue
                source = origin[sid]
                self._stale[sid] = reasons[sid] if sid == source else f"{reasons[source]} (upstream {source})"
                marked.append(sid)
            reason_of = {sid: self._stale[sid] for sid in marked}
        if marked:
            self.context.log_event("steps_stale", step_ids=marked, reasons=reason_of)
            for sid in marked:
                self._notify_state(sid)
            self._maybe_auto_rerun()
        return marked

    def files_changed(self, paths: Iterable[Path | str]) -> list[str]:
        """The watched files among `paths` changed: mark the steps they affect stale (see staleness.py)."""
        with self._lock:
            stale_map = self.stale_map()
            baseline = dict(self._definitions)
            connections = self.connections
            resolved = dict(self.prepared.connections)
        changes = staleness.affected(stale_map, paths, baseline=baseline, connections=connections,
                                     resolved=resolved, load_pipeline=self._reload,
                                     load_connections=self._load_connections)
        if changes.connections is not None:
            with self._lock:
                self.connections = changes.connections
                if isinstance(self.adapter, LocalAdapter):
                    self.adapter.connections = changes.connections
        for note in changes.notes:
            self.context.log_event("watch_note", message=note)
        return self.mark_stale(changes.reasons)

    def _load_connections(self) -> Connections:
        return Connections.discover(self.pipeline.base_dir, explicit=self.connections.path)

    def rerun_stale(self) -> None:
        """Re-run the stale steps that have run (from the first, on the cached outputs of the others),
        then pause where the run was."""
        self._command("rerun_stale")

    def start_watching(self, **options: Any) -> staleness.PipelineWatcher:
        """Watch the pipeline's files in a thread; a change marks steps stale (`files_changed`).
        `options` go to `PipelineWatcher` (quiet_ms, force_polling, ...). Stopped by `close()`."""
        return self.watcher(**options).start()

    def watcher(self, **options: Any) -> staleness.PipelineWatcher:
        """The session's watcher of its files (made with `options` if there is none yet), maybe not started."""
        with self._lock:
            if self._watcher is None:
                self._watcher = staleness.PipelineWatcher(
                    lambda: list(self.stale_map().files), self.files_changed,
                    generation=lambda: self.watch_generation, **options)
            return self._watcher

    def stop_watching(self) -> None:
        with self._lock:
            watcher, self._watcher = self._watcher, None
        if watcher is not None:
            watcher.stop()

    def _reset_stale(self) -> set[str]:
        """Stale steps that have run go back to pending (outputs dropped), to run again. Returns them."""
        with self._lock:
            todo = {sid for sid in self._stale
                    if self._status[sid].state in (StepState.DONE, StepState.FAILED)}
            for sid in todo:
                self._status[sid] = StepStatus(sid, StepState.PENDING, runs=self._status[sid].runs)
                self.prepared.cache.evict(sid)
                self.prepared.results.pop(sid, None)
                self._reload_before_run.add(sid)
        for sid in todo:
            self._notify_state(sid)
        return todo

    def _maybe_auto_rerun(self) -> None:
        """With `auto_rerun`, re-run stale steps once nothing runs or waits."""
        with self._lock:
            ready = (self.auto_rerun and self._pending == 0 and not self._stopping
                     and self.run_state not in (RunState.CLOSED, RunState.INTERRUPTED, RunState.RUNNING)
                     and any(self._status[sid].state in (StepState.DONE, StepState.FAILED) for sid in self._stale))
        if ready:
            self._command("rerun_stale")

    # -- commands (non-blocking) ---------------------------------------------------------------------
    def step(self) -> None:
        """Run the next step, then pause."""
        self._command("step")

    def continue_(self) -> None:
        """Run to the next breakpoint or the end."""
        with self._lock:
            if self._busy and self._goal is not None:
                self._goal = ("continue", None)  # upgrade a running step/run-to
                self._pause_requested = False
                return
        self._command("continue")

    def run_to(self, step_id: str) -> None:
        """Run until `step_id` is next (pause before it)."""
        self.pipeline.step(step_id)
        self._command("run_to", step_id)

    def pause(self) -> None:
        """Pause after the running step."""
        with self._lock:
            if self._busy:
                self._pause_requested = True

    def rerun(self, step_id: str) -> None:
        """Run `step_id` again on its cached inputs, with its config reloaded from disk."""
        self.pipeline.step(step_id)
        self._command("rerun", step_id)

    def restart(self) -> None:
        """A fresh run: cancel a running step, clear every output and state, keep the breakpoints."""
        with self._lock:
            cancellation = self.context.cancel_event if self._busy else None
            if cancellation is not None:
                self._pause_requested = True
                self._goal = None
        if cancellation is not None:
            cancellation.cancel("cancelled by a restart")
        self._command("restart")

    def reprepare(self, reload: Reloader | None = None, affected: Iterable[str] = ()) -> None:
        """Load the pipeline again (with `reload`, used from now on by re-run and restart, e.g. with new
        parameter values; else the current loader): configs are replaced, and the `affected` steps and
        everything downstream are pending again."""
        self._command("reprepare", (reload, list(affected)))

    def _command(self, name: str, arg: Any = None) -> None:
        with self._lock:
            if self.run_state is RunState.CLOSED or self._stopping:
                return
            self._pending += 1
            self._commands.put((name, arg))
        self.start()

    # -- observation ---------------------------------------------------------------------------------
    @property
    def alive(self) -> bool:
        """The worker thread is there to take commands (not started yet counts as alive)."""
        thread = self._thread
        return thread is None or thread.is_alive() or self.run_state is RunState.CLOSED

    @property
    def busy(self) -> bool:
        """A command is running."""
        return self._busy

    @property
    def idle(self) -> bool:
        """No command is running or waiting (a command taken off the queue counts until it has ended)."""
        with self._lock:
            return self._pending == 0

    def statuses(self) -> list[StepStatus]:
        with self._lock:
            return [self._status[s.id] for s in self.pipeline.steps]

    def status(self, step_id: str) -> StepStatus:
        with self._lock:
            return self._status[step_id]

    def next_step_id(self) -> str | None:
        with self._lock:
            return self._status.next_open()

    def running_step_id(self) -> str | None:
        with self._lock:
            for s in self.pipeline.steps:
                if self._status[s.id].state is StepState.RUNNING:
                    return s.id
            return None

    def failed_step_id(self) -> str | None:
        with self._lock:
            for s in self.pipeline.steps:
                if self._status[s.id].state is StepState.FAILED:
                    return s.id
            return None

    def output(self, step_id: str) -> pd.DataFrame | None:
        """The DataFrame a step produced (None when it has not run or produced none)."""
        return self.prepared.cache.get(step_id)

    def output_table(self, step_id: str) -> pa.Table | None:
        """The step's output as Arrow, converted once per frame by the cache (None: no frame)."""
        return self.prepared.cache.table(step_id)

    def input_tables(self, step_id: str) -> list[tuple[str, str, pa.Table]]:
        """(input name such as "df_orders", upstream step id, table) for each cached frame `step_id`
        reads, in input order: the very tables of those steps' outputs (`output_table`)."""
        _, resolved = driver_inputs(self.pipeline.step(step_id), self.prepared.results, self.prepared.cache)
        tables = []
        for record in resolved:
            table = self.prepared.cache.table(record["from_step"])
            if table is not None:
                tables.append((record["key"], record["from_step"], table))
        return tables

    def previous_output(self, step_id: str) -> PreviousOutput | None:
        """The output the step had before its last re-run (or its upstream's), while it is kept."""
        return self.previous_outputs.get(step_id)

    def _keep_previous(self, step_ids: Iterable[str]) -> None:
        """Hand the outputs about to be replaced to `previous_outputs` (only in the app, where frames are
        already Arrow: a headless run has no diff view to keep them for). Called without the lock."""
        if not self._prefetch_tables:
            return
        for sid in step_ids:
            table = self.prepared.cache.table(sid)
            if table is not None:
                self.previous_outputs.keep(sid, table, self.status(sid).runs)

    def output_nbytes(self, step_id: str) -> int | None:
        return self.prepared.cache.nbytes(step_id)

    def input_frame(self, step_id: str) -> pd.DataFrame | None:
        """The first input a step reads (what a writer wrote), when its upstream outputs are cached."""
        inputs, _ = driver_inputs(self.pipeline.step(step_id), self.prepared.results, self.prepared.cache)
        return None if inputs is None else inputs.get("df")

    def config(self, step_id: str) -> dict[str, Any]:
        """The step's config as its driver receives it (connection resolved), masked."""
        step = self.pipeline.step(step_id)
        config = {k: v for k, v in step.config.items() if k not in ("component", "connection")}
        connection = self.prepared.connections.get(step_id)
        if connection is not None:
            config["resolved_connection"] = connection.fields
        return mask_value(config)

    def connection(self, step_id: str) -> ResolvedConnection | InputError | None:
        """The step's resolved connection, the error resolving it gave, or None when it has none."""
        step = self.pipeline.step(step_id)
        try:
            return self.adapter.resolve_connection(step, step.config)
        except InputError as exc:
            return exc

    @property
    def events(self) -> list[dict[str, Any]]:
        return self.context.events

    @property
    def metrics(self) -> list[dict[str, Any]]:
        return self.context.metrics

    def wait_until(self, predicate: Callable[[DebugSession], bool], timeout: float = 30.0) -> bool:
        """Block until `predicate(session)` holds (checked on every state change)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate(self):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._changed.wait(min(remaining, 0.5))
            return True

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Block until no command is running or queued."""
        return self.wait_until(lambda s: s.idle, timeout)

    # -- checkpoints and memory -----------------------------------------------------------------------
    def _connection_fields(self, step: Step) -> dict[str, Any] | None:
        from osiris_tui.runtime.checkpoints import connection_fields  # (only with checkpoints)

        return connection_fields(self.adapter, step)

    def cached_steps(self) -> dict[str, CachedStep]:
        """The steps not run yet that have a checkpoint for their current fingerprint (shown as "cached")."""
        with self._lock:
            return dict(self._cached)

    def toggle_reuse(self, step_id: str) -> bool | None:
        """Flip whether `step_id` is taken from its checkpoint; returns the new choice (None: no checkpoints)."""
        step = self.pipeline.step(step_id)
        if self.checkpoints is None:
            return None
        on = self.checkpoints.toggle(step)
        self._refresh_cached()
        self._notify_state(step_id)
        return on

    def show_frames(self, step_ids: Iterable[str]) -> None:
        """The frames on screen (a step's output and inputs): the memory budget keeps them in memory."""
        self.prepared.cache.pin(step_ids)

    def _refresh_cached(self) -> None:
        if self.checkpoints is None:
            return
        with self._lock:
            done = {sid for sid, st in self._status.items() if st.state in (StepState.DONE, StepState.SKIPPED)}
            pipeline = self.pipeline
        try:
            cached, expected = self.checkpoints.plan(pipeline, self._connection_fields, done)
        except Exception:  # showing what is cached must never stop a run
            logger.exception("cannot work out which steps are cached")
            cached, expected = {}, {}
        with self._lock:
            self._cached, self._expected = cached, expected

    def _after_step(self, step_id: str | None = None) -> None:
        """Tell the cache which frames later steps still read, and work out what is cached now (again only
        when `step_id`'s output is not what the last plan expected: a re-extracted table, a re-run)."""
        with self._lock:
            needed = self._status.needed()
        self.prepared.cache.set_needed(needed)
        if self.checkpoints is None:
            return
        if step_id is not None and self.checkpoints.identity(step_id) == self._expected.get(step_id, "?"):
            with self._lock:
                self._cached.pop(step_id, None)
            return
        self._refresh_cached()

    # -- worker --------------------------------------------------------------------------------------
    def _worker(self) -> None:
        while True:
            command = self._commands.get()
            if command is None:
                return
            name, arg = command
            with self._lock:
                skip = self._stopping
                self._busy = not skip
                self._pause_requested = False
            try:
                if skip:
                    pass
                elif name == "restart":
                    self._do_restart()
                elif name == "rerun":
                    self._do_rerun(arg)
                elif name == "rerun_stale":
                    todo = self._reset_stale()
                    with self._lock:
                        self._goal = ("rerun_stale", todo)
                    self._run_loop()
                elif name == "reprepare":
                    self._do_reprepare(*arg)
                else:
                    passing = self.next_step_id()
                    if name == "continue":
                        self._reset_stale()  # stale steps run again first
                    with self._lock:
                        self._goal = (name, arg)
                    self._run_loop(passing)
            except BaseException as exc:  # keep the worker alive whatever happens; the app must not hang
                logger.exception("session command %s failed", name)
                self.context.log_event("session_error", command=name, error=mask_exception(exc))
                with self._lock:
                    for sid, st in self._status.items():
                        if st.state is StepState.RUNNING:
                            self._status[sid] = replace(st, state=StepState.FAILED, error=mask_exception(exc))
                    self.run_state = RunState.FAILED
            finally:
                with self._lock:
                    self._busy = False
                    self._goal = None
                    self._pending -= 1
                self._notify_state()
                self._maybe_auto_rerun()

    def _run_loop(self, passing: str | None = None) -> None:
        """Run toward the goal. The breakpoint before `passing` (where the run was paused when the
        command came, or its first step) is passed once, as pressing continue at it means."""
        with self._lock:
            passing = passing or self.next_step_id()
        while True:
            with self._lock:
                goal = self._goal
                next_id = self.next_step_id()
                if goal is None or self._stopping or self.run_state in (RunState.INTERRUPTED, RunState.CLOSED):
                    return
                finish = next_id is None
                stop = not finish and ((goal[0] == "run_to" and goal[1] == next_id) or (
                    goal[0] == "rerun_stale" and next_id not in goal[1]))
                pause = not finish and (stop or self._pause_requested)
                check_before = (not finish and goal[0] == "continue" and next_id != passing
                                and (next_id, "before") in self._breakpoints)
            if finish or next_id is None:
                self._finish_run()
                return
            assert next_id is not None
            if pause or (check_before and self._breakpoint_stops(next_id, "before")):
                self._pause_before(next_id)
                return
            if next_id == passing:
                passing = None
            ok = self._run_one(self.pipeline.step(next_id))
            if not ok:
                return
            with self._lock:
                stepping = self._goal is not None and self._goal[0] == "step"
                continuing = self._goal is not None and self._goal[0] == "continue"
                check_after = continuing and (next_id, "after") in self._breakpoints
                after = self.next_step_id()
            if check_after and self._breakpoint_stops(next_id, "after"):
                if after is None:
                    self._set_run_state(RunState.PAUSED)  # after the last step: continuing ends the run
                else:
                    self._pause_before(after)
                return
            if stepping:
                if after is None:
                    self._finish_run()
                else:
                    self._pause_before(after)
                return

    def _run_one(self, step: Step, *, reload: bool = False) -> bool:
        """Run a single step; on failure the run pauses at it. Returns True on success."""
        with self._lock:
            previous = self._status[step.id]
            for sid in list(self._status.paused):
                self._status[sid] = replace(self._status[sid], state=StepState.PENDING)
            self._status[step.id] = replace(previous, state=StepState.RUNNING, error=None, traceback=None,
                                            started_at=time.monotonic(), cancelled=False)
            self.run_state = RunState.RUNNING
            self._finished = False  # a step that runs after the end (a re-run) ends the run again
            self.last_hit = None
            self._stale.pop(step.id, None)  # (a change from now on marks it again)
            reload = reload or step.id in self._reload_before_run
            self._reload_before_run.discard(step.id)
        self._notify_state(step.id)
        if reload or previous.state is StepState.FAILED:
            try:
                step = self._reloaded(step)
            except InputError as exc:
                return self._record_failure(step.id, exc.render(), exc.render(), previous)
        result = None
        if self.checkpoints is not None and not reload:
            result = self.checkpoints.reuse_step(self.prepared, self.context, step, self._connection_fields)
        if result is None:
            if self.checkpoints is not None:
                self.checkpoints.make_room(self.prepared, step)
            result = self.adapter.run_step(self.prepared, self.context, step.id, step)
            if result.ok and self.checkpoints is not None:
                self.checkpoints.step_done(self.prepared, self.context, step, self._connection_fields)
        if not result.ok:
            if result.cancelled:
                with self._lock:
                    self._status[step.id] = replace(previous, state=StepState.PAUSED, started_at=None,
                                                    cancelled=True, error=result.error)
                    if self.run_state is not RunState.INTERRUPTED:
                        self.run_state = RunState.PAUSED
                self._notify_state(step.id)
                return False
            return self._record_failure(step.id, result.error or "failed", result.traceback, previous,
                                        result.duration)
        with self._lock:
            self._status[step.id] = StepStatus(step.id, StepState.DONE, result.rows, result.duration,
                                               runs=previous.runs + 1, cached_age=result.cached_age)
        self._after_step(None if reload else step.id)
        self._notify_state(step.id)
        return True

    def _record_failure(self, step_id: str, error: str, tb: str | None, previous: StepStatus,
                        duration: float | None = None) -> bool:
        with self._lock:
            self._status[step_id] = StepStatus(step_id, StepState.FAILED, None, duration, error, tb,
                                               runs=previous.runs + 1)
            self.run_state = RunState.FAILED
        self.context.log_event("run_error", step_id=step_id, message="Step execution failed")
        self._notify_state(step_id)
        return False

    def _reloaded(self, step: Step) -> Step:
        """The step with its config read again from disk (the pipeline is reloaded when possible)."""
        if self._reload is None:
            return step
        reloaded = self._reload()
        if step.id not in reloaded.step_ids:
            raise InputError(f"step '{step.id}' is no longer in the file", file=reloaded.path, step_id=step.id,
                             hint="press R to restart with the edited pipeline")
        fresh = reloaded.step(step.id)
        with self._lock:
            for i, s in enumerate(self.pipeline.steps):
                if s.id == step.id:
                    self.pipeline.steps[i] = replace(s, config=fresh.config, source=fresh.source)
                    self._definitions[step.id] = staleness.definition(self.pipeline.steps[i])
                    return self.pipeline.steps[i]
        return step

    def _breakpoint_stops(self, step_id: str, when: When) -> bool:
        """Whether the run stops at `step_id`'s `when` breakpoint: it is enabled, its condition holds (or
        cannot be evaluated: then the run stops with the error) and its ignore count is used up."""
        key: tuple[str, When] = (step_id, when)
        with self._lock:
            bp = self._breakpoints.get(key)
        if bp is None or not bp.enabled:
            return False
        from osiris_tui.runtime.breakpoints import BreakpointHit, ConditionError, evaluate

        error: str | None = None
        if bp.condition:
            table = self._condition_frame(step_id, when)
            if table is None:
                error = f"{step_id} has no {'output' if when == 'after' else 'input'} frame to test"
            else:
                try:
                    if not evaluate(bp.condition, table):
                        return False
                except ConditionError as exc:
                    error = exc.located(bp.condition)
                except Exception as exc:  # DuckDB failing in any other way stops the run, never the app
                    error = mask_exception(exc)
        hits = 0
        if error is None:
            with self._lock:
                hits = self._hits[key] = self._hits.get(key, 0) + 1
            if hits <= bp.ignore_count:
                self.context.log_event("breakpoint_ignored", step_id=step_id, when=when, condition=bp.condition,
                                       hits=hits, ignore_count=bp.ignore_count)
                return False
        hit = BreakpointHit(bp, error)
        with self._lock:
            self.last_hit = hit
        if error is None:
            self.context.log_event("breakpoint_hit", step_id=step_id, when=when, condition=bp.condition,
                                   hits=hits, message=hit.message)
        else:
            self.context.log_event("breakpoint_error", step_id=step_id, when=when, condition=bp.condition,
                                   error=error, message=hit.message)
        return True

    def _condition_frame(self, step_id: str, when: When) -> pa.Table | None:
        """What a condition is tested on: the step's output (after) or its first input (before)."""
        if when == "after":
            return self.output_table(step_id)
        inputs = self.input_tables(step_id)
        return inputs[0][2] if inputs else None

    def _pause_before(self, step_id: str) -> None:
        with self._lock:
            self._status[step_id] = replace(self._status[step_id], state=StepState.PAUSED)
            if self.run_state not in (RunState.FAILED, RunState.INTERRUPTED):
                self.run_state = RunState.PAUSED
        self._notify_state(step_id)

    def _set_paused_marker(self) -> None:
        with self._lock:
            next_id = self.next_step_id()
            if next_id is not None and self.run_state is RunState.READY:
                self._status[next_id] = replace(self._status[next_id], state=StepState.PAUSED)
        self._notify_state(next_id)

    def _finish_run(self) -> None:
        """Collect the run once (status.json, `cleanup_complete`, `run_end`), outside the session lock."""
        with self._lock:
            if self._finished:
                return
            self._finished = True
        summary = self.adapter.collect(self.prepared, self.context)
        with self._lock:
            self.summary = summary
            if self.run_state not in (RunState.INTERRUPTED, RunState.FAILED, RunState.CLOSED):
                self.run_state = RunState.FINISHED
        self._notify_state()

    def _do_rerun(self, step_id: str) -> None:
        step = self.pipeline.step(step_id)
        with self._lock:
            missing = [u for u in step.upstream
                       if self._status[u].state is not StepState.DONE]
            was_done = self._status[step_id].state is StepState.DONE
        if missing:
            self.context.log_event("rerun_refused", step_id=step_id,
                                   reason=f"upstream steps have not run: {', '.join(missing)}")
            return
        if was_done:
            with self._lock:
                replaced = [step_id] + [sid for sid in self.pipeline.downstream(step_id)
                                        if self._status[sid].state is StepState.DONE]
            self._keep_previous(replaced)
        ok = self._run_one(step, reload=True)
        if not ok and was_done:  # the steps below keep their outputs: nothing of theirs was replaced
            for sid in replaced[1:]:
                self.previous_outputs.drop(sid)
        if ok:
            with self._lock:
                if was_done:
                    for sid in self.pipeline.downstream(step_id):
                        if self._status[sid].state in (StepState.DONE, StepState.FAILED):
                            self._status[sid] = StepStatus(sid, StepState.PENDING, runs=self._status[sid].runs)
                            self.prepared.cache.evict(sid)
                            self.prepared.results.pop(sid, None)
                            if self.checkpoints is not None:
                                self.checkpoints.forget([sid])
                next_id = self.next_step_id()
                if next_id is not None:
                    self.run_state = RunState.PAUSED
            self._after_step()
            if next_id is None:
                self._finish_run()
            else:
                self._pause_before(next_id)

    def _do_reprepare(self, reload: Reloader | None, affected: list[str]) -> None:
        reload = reload or self._reload
        if reload is None:
            return
        try:
            fresh = reload()
        except InputError as exc:
            self.context.log_event("reprepare_failed", error=exc.render())
            return
        if fresh.step_ids != self.pipeline.step_ids:
            self.context.log_event("reprepare_failed", error="the steps changed: press R to restart")
            return
        with self._lock:
            self._reload = reload
            by_id = {s.id: s for s in fresh.steps}
            self.pipeline.steps[:] = [replace(s, config=by_id[s.id].config, source=by_id[s.id].source)
                                      for s in self.pipeline.steps]
            self.pipeline.params, self.pipeline.param_sources = fresh.params, fresh.param_sources
            self.pipeline.param_text = fresh.param_text
            reset = set(affected)
            for sid in affected:
                reset.update(self.pipeline.downstream(sid))
            for sid in reset:
                st = self._status.get(sid)
                if st is not None and st.state in (StepState.DONE, StepState.FAILED):
                    self._status[sid] = StepStatus(sid, StepState.PENDING, runs=st.runs)
                    self.prepared.cache.evict(sid)
                    self.prepared.results.pop(sid, None)
            next_id = self.next_step_id()
            for sid, st in self._status.items():
                if st.state is StepState.PAUSED and sid != next_id:
                    self._status[sid] = replace(st, state=StepState.PENDING)
            if next_id is not None and self.run_state in (RunState.FINISHED, RunState.FAILED) \
                    and self.failed_step_id() is None:
                self.run_state = RunState.PAUSED
        self.context.log_event("pipeline_reprepared", steps=sorted(reset))
        self.recompute_stale_map()
        self._refresh_cached()
        if next_id is not None and self.run_state is not RunState.READY:
            self._pause_before(next_id)
        else:
            self._notify_state()

    def _do_restart(self) -> None:
        self._finish_run()  # the run being replaced ends properly (status.json, run_end)
        with self._lock:
            self.adapter.cleanup(self.prepared)
            self.context.close()
            if self._reload is not None:
                try:
                    self.pipeline = self._reload()
                except InputError as exc:
                    failed_reload: InputError | None = exc
                else:
                    failed_reload = None
            else:
                failed_reload = None
            if failed_reload is None:
                self.run_state = RunState.READY
                self._new_run()
        if failed_reload is not None:
            self.context.log_event("restart_failed", error=failed_reload.render())
            return
        self.context.log_event("run_restarted", run_id=self.context.session_id)
        self._set_paused_marker()

    def _set_run_state(self, state: RunState) -> None:
        with self._lock:
            self.run_state = state
        self._notify_state()
