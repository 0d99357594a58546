"""LocalAdapter: runs a pipeline's steps in this process, one at a time when asked.

Per step it does what Osiris's local runner does (compat §1.6, §3, §5.3): strips `component` and
`connection` from the config, adds `resolved_connection`, writes a masked `cleaned_config.json`,
wires inputs as `df_<safe id>` / `<id>` (plus `df`, `input_df` and seed `inputs:` names), calls
`driver.run(step_id=, config=, inputs=, ctx=)` and caches a returned `df`.
"""

from __future__ import annotations

import errno
import hashlib
import json
import shutil
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from osiris_tui.drivers.base import StepCancelled, is_dataframe
from osiris_tui.drivers.registry import DriverRegistry, default_registry
from osiris_tui.errors import InputError
from osiris_tui.manifest.model import Pipeline, Step, safe_id
from osiris_tui.runtime.adapter import ExecutionAdapter, PreparedRun, StepResult
from osiris_tui.runtime.cache import DataFrameCache
from osiris_tui.runtime.connections import OPTIONAL_FAMILIES, Connections, ResolvedConnection
from osiris_tui.runtime.context import ExecutionContext, StepRunContext, describe_os_error, utc_now
from osiris_tui.runtime.executor import run_cancellable
from osiris_tui.runtime.previous_run import write_over
from osiris_tui.runtime.worker import ProcessWorker, WorkerStepError
from osiris_tui.secrets import ARTIFACT_MASK, mask_text, mask_value, mask_yaml_text, register_secrets

STRIPPED_KEYS = ("component", "connection")
# Errors that mean "the disk cannot take it", reported as `<reason> writing <file>`.
_DISK_ERRORS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG, errno.EIO})


def driver_inputs(step: Step, results: dict[str, dict[str, Any]],
                  cache: DataFrameCache | None = None) -> tuple[dict[str, Any] | None, list[dict]]:
    """The `inputs` dict for a step, and one `inputs_resolved` record per DataFrame wired in.

    With `cache`, the frames come from it (`results` then hold what the drivers returned besides
    `df`), so a frame the cache moved out of memory is read back only when a step needs it."""
    def frame(u: str) -> Any:
        if cache is not None and u in results and u in cache:
            return cache.get(u)
        df = results.get(u, {}).get("df")
        return df if is_dataframe(df) else None

    frames = {u: df for u in step.upstream if (df := frame(u)) is not None}
    upstream = list(frames)
    if not upstream:
        return None, []
    names = {u: f"df_{safe_id(u)}" for u in upstream}
    clashes = {n for n in names.values() if list(names.values()).count(n) > 1}
    for u, name in names.items():
        if name in clashes:
            names[u] = f"{name}_{hashlib.sha256(u.encode()).hexdigest()[:8]}"
    inputs: dict[str, Any] = {}
    resolved = []
    for u in upstream:
        df = frames[u]
        inputs[u] = {**results[u], "df": df}
        inputs[names[u]] = df
        resolved.append({"from_step": u, "key": names[u], "rows": len(df), "from_memory": True})
    first = frames[upstream[0]]
    inputs.setdefault("df", first)
    inputs.setdefault("input_df", first)
    for name, target in step.input_refs.items():
        if target in names:
            inputs[name] = frames[target]
    return inputs, resolved


class LocalAdapter(ExecutionAdapter):
    """Executes steps locally with drivers from a registry."""

    def __init__(self, registry: DriverRegistry | None = None, connections: Connections | None = None) -> None:
        self.registry = registry or default_registry()
        self.connections = connections
        self.worker = ProcessWorker()

    # -- prepare -----------------------------------------------------------------------------------
    def prepare(self, manifest: Pipeline | str | Path, context: ExecutionContext) -> PreparedRun:
        """Load (if given a path), check drivers and resolve every step's connection before anything runs."""
        pipeline = manifest if isinstance(manifest, Pipeline) else self._load(Path(manifest))
        # Osiris's run-level events, in its order (compat §5.3): selected → prepare → execute (on the first
        # step, `begin_execute`) → the steps → collect.
        context.log_event("adapter_selected", adapter="local", session_id=context.session_id)
        context.log_event("adapter_prepare_start", adapter="local", pipeline_id=pipeline.name,
                          session_id=context.session_id)
        if self.connections is None:
            self.connections = Connections.discover(pipeline.base_dir)
        for step in pipeline.steps:
            register_secrets(step.config)  # inline secrets (seed manifests) are masked by value too
            if step.driver not in self.registry:
                self.registry.get(step.driver)  # raises with the list of available drivers
        self.registry.check_installed(pipeline)
        connections = {s.id: self.resolve_connection(s, s.config) for s in pipeline.steps}
        working_dir = context.run_dir / "working"
        working_dir.mkdir(parents=True, exist_ok=True)
        if pipeline.path.is_file():  # a copy with inline secrets masked
            masked = mask_yaml_text(pipeline.path.read_text(encoding="utf-8", errors="replace"))
            (context.run_dir / "manifest.yaml").write_text(masked, encoding="utf-8")
        prepared = PreparedRun(
            run_id=context.session_id,
            pipeline=pipeline,
            plan=list(pipeline.steps),
            connections=connections,
            cache=DataFrameCache(spill_dir=working_dir / "spill"),
            working_dir=working_dir,
            metadata={"adapter": "local", "started": time.time(), "step_results": {}, "execute_started": None},
        )
        context.log_event("adapter_prepare_complete", adapter="local", steps=len(prepared.plan),
                          session_id=context.session_id)
        return prepared

    def begin_execute(self, prepared: PreparedRun, context: ExecutionContext) -> None:
        """Log the start of execution once per run, as Osiris does before its first step: `adapter_execute_start`,
        `execute_start`, `preflight_validation_success`, one `cfg_materialized` per step (the step's config is
        written to `cfg/<step_id>.json` in the run directory, masked) and the runner's `run_start`."""
        if prepared.metadata.get("execute_started") is not None:
            return
        prepared.metadata["execute_started"] = time.time()
        pipeline = prepared.pipeline
        context.log_event("adapter_execute_start", session_id=context.session_id)
        context.log_event("execute_start", adapter="local", session_id=context.session_id)
        context.log_event("preflight_validation_success", adapter="local", cfg_files_count=len(prepared.plan),
                          source_base=str(pipeline.base_dir), session_id=context.session_id)
        cfg_dir = context.run_dir / "cfg"
        made = False
        for step in sorted(prepared.plan, key=lambda s: s.id):
            source = step.source.file if step.source is not None else pipeline.path
            destination = cfg_dir / f"{step.id}.json"
            try:
                if not made:
                    if not context.previous.take_cfg_dir(cfg_dir):
                        cfg_dir.mkdir(parents=True, exist_ok=True)
                    made = True
                write_over(destination, json.dumps(mask_value(step.config, mask=ARTIFACT_MASK), default=str,
                                                   separators=(",", ":")) + "\n")
                context.previous.written(destination)
            except (OSError, ValueError) as exc:  # a copy for the record: failing to write it stops nothing
                context.log_event("cfg_materialize_failed", cfg_path=f"cfg/{step.id}.json", error=mask_text(str(exc)))
                continue
            context.log_event("cfg_materialized", cfg_path=f"cfg/{step.id}.json", source=str(source),
                              destination=str(destination))
        context.previous.drop_kept(cfg_dir)  # the previous run's cfg files of steps this run does not have
        context.log_event("run_start", manifest_path=str(pipeline.path), pipeline_id=pipeline.name,
                          profile=_profile(pipeline))

    def _load(self, path: Path) -> Pipeline:
        from osiris_tui.manifest import load_pipeline

        return load_pipeline(path, drivers=self.registry.names())

    def resolve_connection(self, step: Step, config: dict[str, Any]) -> ResolvedConnection | None:
        assert self.connections is not None
        return self.connections.resolve_reference(config.get("connection"), step.family, step.id)

    def warm_up(self, prepared: PreparedRun) -> None:
        """Start the worker process in the background when a step of `prepared` will run there."""
        if any(self.registry.isolated(s.driver, discover=False) for s in prepared.plan):
            threading.Thread(target=self.worker.start, daemon=True).start()

    # -- execute -----------------------------------------------------------------------------------
    def execute(self, prepared: PreparedRun, context: ExecutionContext) -> bool:
        """Run every step in order; stop at the first failure. True when all succeeded."""
        try:
            return all(self.run_step(prepared, context, step.id).ok for step in prepared.plan)
        except KeyboardInterrupt:
            context.stop()
            context.log_event("execution_interrupted")
            raise
        finally:
            self.cleanup(prepared)

    def run_step(
        self, prepared: PreparedRun, context: ExecutionContext, step_id: str, step: Step | None = None
    ) -> StepResult:
        """Run one step on the cached outputs of its upstream steps. Never raises for a step failure.

        The driver runs where a cancel stops it (`executor.run_cancellable`, or the worker process for
        drivers that cannot promise to stop); a cancelled step ends as a `step_error` with
        `cancelled: true`.
        """
        step = step or prepared.pipeline.step(step_id)
        self.begin_execute(prepared, context)
        ctx = context.for_step(step.id)
        context.log_event("step_start", step_id=step.id, driver=step.driver)
        context.log_event("artifacts_dir_created", step_id=step.id, path=str(ctx.output_dir))
        started = time.perf_counter()
        metrics_before = len(context.metrics)  # this step's metrics come after (read back for a writer's rows)
        try:
            ctx.check_cancelled()
            config = dict(step.config)
            removed = [k for k in STRIPPED_KEYS if k in config]
            for key in removed:
                config.pop(key)
            if removed:
                context.log_event("config_meta_stripped", step_id=step.id, keys_removed=removed,
                                  config_meta_stripped=True)
            # As Osiris: the cleaned config is written before the connection is resolved (so it is there when
            # resolving fails; `artifact_created` only when the file is new), then again with the connection.
            cleaned = ctx.output_dir / "cleaned_config.json"
            created = context.previous.is_new(cleaned)
            _write_cleaned(cleaned, config)
            context.previous.written(cleaned)
            if created:
                context.log_event("artifact_created", step_id=step.id, artifact_type="cleaned_config",
                                  path=str(cleaned))
            connection = self._connection_for(step, prepared, context)
            if connection is not None:
                config["resolved_connection"] = dict(connection.fields)
                _write_cleaned(cleaned, config)
            inputs, resolved = driver_inputs(step, prepared.results, prepared.cache)
            for record in resolved:
                context.log_event("inputs_resolved", step_id=step.id, **record)
            result = self._call_driver(step, config, inputs, ctx) or {}
            if not isinstance(result, dict):
                raise TypeError(f"driver returned {type(result).__name__}, expected a dict")
        except Exception as exc:  # a step failure must never take the debugger down
            ctx.detach()
            return self._failed(prepared, context, step, exc, time.perf_counter() - started)
        ctx.detach()
        duration = time.perf_counter() - started
        rows = None
        if is_dataframe(result.get("df")):
            # The frame lives in the cache only (which may move it out of memory); results keep the rest.
            prepared.results[step.id] = {k: v for k, v in result.items() if k != "df"}
            prepared.cache.put(step.id, result["df"], backing_soon=prepared.metadata.get("checkpoints", False))
            rows = len(result["df"])
        else:
            prepared.results.pop(step.id, None)
            prepared.cache.evict(step.id)
            rows = self._rows_written(context, step.id, metrics_before)
        context.log_metric(f"step_{step.id}_duration", round(duration, 4), unit="seconds", step_id=step.id)
        context.log_event("step_complete", step_id=step.id, driver=step.driver, output_dir=str(ctx.output_dir),
                          duration=round(duration, 4), rows=rows)
        outcome = StepResult(step.id, True, duration, rows, produced_df="df" in result)
        prepared.metadata["step_results"][step.id] = outcome
        return outcome

    def _call_driver(self, step: Step, config: dict[str, Any], inputs: dict[str, Any] | None,
                     ctx: StepRunContext) -> Any:
        if self.registry.isolated(step.driver):
            return self.worker.run_step(self.registry.target(step.driver), step_id=step.id, config=config,
                                        inputs=inputs, ctx=ctx)
        driver = self.registry.get(step.driver)

        def call() -> Any:
            try:
                return driver.run(step_id=step.id, config=config, inputs=inputs, ctx=ctx)
            finally:
                close = getattr(driver, "close", None)
                if callable(close):
                    try:
                        close()
                    except Exception as exc:  # cleanup must not mask the step's outcome
                        ctx.log_event("driver_close_failed", error=mask_text(str(exc)))

        return run_cancellable(call, ctx, name=f"step '{step.id}'")

    def _connection_for(
        self, step: Step, prepared: PreparedRun, context: ExecutionContext
    ) -> ResolvedConnection | None:
        reference = step.config.get("connection")
        if reference is None and step.family in OPTIONAL_FAMILIES:
            return None
        alias = reference[1:].split(".", 1)[-1] if isinstance(reference, str) and "." in reference else "(default)"
        context.log_event("connection_resolve_start", step_id=step.id, family=step.family, alias=alias)
        try:
            connection = self.resolve_connection(step, step.config)
        except InputError as exc:
            context.log_event("connection_resolve_complete", step_id=step.id, family=step.family, alias=alias,
                              ok=False, error=exc.render())
            raise
        prepared.connections[step.id] = connection
        context.log_event("connection_resolve_complete", step_id=step.id, family=step.family,
                          alias=connection.alias if connection else alias, ok=True)
        return connection

    @staticmethod
    def _rows_written(context: ExecutionContext, step_id: str, since: int) -> int | None:
        """The `rows_written` this run of the step logged (its metrics from index `since` on: never the
        whole log, which would make each step cost more than the one before)."""
        total = None
        for m in context.metrics[since:]:
            if m.get("step_id") == step_id and m["metric"] == "rows_written":
                total = (total or 0) + int(m["value"])
        return total

    def _failed(
        self, prepared: PreparedRun, context: ExecutionContext, step: Step, exc: BaseException, duration: float
    ) -> StepResult:
        cancelled = isinstance(exc, StepCancelled)
        type_name = exc.type_name if isinstance(exc, WorkerStepError) else type(exc).__name__
        if isinstance(exc, InputError):
            message = exc.render()
        elif cancelled:
            message = mask_text(str(exc) or "cancelled")
        elif isinstance(exc, OSError) and exc.errno in _DISK_ERRORS:
            message = mask_text(f"Execution failed: {describe_os_error(exc)}")
        elif isinstance(exc, ValueError) or type_name == "ValueError":
            message = mask_text(f"Driver error: {exc}")
        else:
            message = mask_text(f"Execution failed: {exc}")
        text = exc.remote_traceback if isinstance(exc, WorkerStepError) else "".join(traceback.format_exception(exc))
        tb = mask_text(text)
        prepared.results.pop(step.id, None)
        prepared.cache.evict(step.id)
        fields: dict[str, Any] = {"cancelled": True} if cancelled else {}
        context.log_event("step_error", step_id=step.id, driver=step.driver, duration=round(duration, 4),
                          error=message, error_type=type_name, traceback=tb, **fields)
        outcome = StepResult(step.id, False, duration, None, message, tb, cancelled)
        prepared.metadata["step_results"][step.id] = outcome
        return outcome

    # -- collect -----------------------------------------------------------------------------------
    def collect(self, prepared: PreparedRun, context: ExecutionContext) -> dict[str, Any]:
        """Totals for the run; writes `status.json` and logs `cleanup_complete`."""
        results: dict[str, StepResult] = prepared.metadata["step_results"]
        completed = [r for r in results.values() if r.ok]
        failed = [r for r in results.values() if not r.ok]
        # Rows that reached a target: what the sink steps (those returning no DataFrame) wrote.
        total_rows = sum(r.rows or 0 for r in completed if not r.produced_df)
        duration = time.time() - prepared.metadata["started"]
        if context.stopped or any(r.cancelled for r in failed):
            status = "interrupted"
        elif failed:
            status = "failed"
        elif len(completed) == len(prepared.plan):
            status = "success"
        else:
            status = "incomplete"
        summary = {
            "ok": status == "success",
            "status": status,
            "run_id": prepared.run_id,
            "pipeline_id": prepared.pipeline.name,
            "steps_total": len(prepared.plan),
            "steps_completed": len(completed),
            "failed_step": failed[0].step_id if failed else None,
            "error": failed[0].error if failed else None,
            "total_rows": total_rows,
            "duration_seconds": round(duration, 3),
        }
        session_id = context.session_id
        ok = status == "success"
        broken = status in ("failed", "interrupted")
        if ok:
            context.log_event("run_complete", pipeline_id=prepared.pipeline.name, steps_executed=len(completed))
        context.log_event("cleanup_complete", steps_executed=len(completed), total_rows=total_rows)
        started = prepared.metadata.get("execute_started")
        if started is not None:  # steps ran: the execute phase ends here
            exec_duration = round(time.time() - started, 3)
            context.log_event("execute_error" if broken else "execute_complete", adapter="local", success=ok,
                              duration=exec_duration, steps_executed=len(completed),
                              error=summary["error"] or status if broken else None)
            context.log_event("adapter_execute_complete", success=ok, session_id=session_id)
        context.log_event("adapter_collect_start", session_id=session_id)
        context.log_event("collect_start", adapter="local", session_id=session_id)
        status_error = _write_status(context, summary)
        artifacts = _count_entries(context.artifacts_dir)
        files = [n for n in ("events.jsonl", "metrics.jsonl") if (context.run_dir / n).exists()]
        context.log_event("collect_complete", adapter="local", artifacts_collected=len(files) + (artifacts is not None),
                          metadata={"adapter": "local", "session_id": session_id, "collected_at": time.time(),
                                    "artifacts_count": artifacts or 0})
        context.log_event("adapter_collect_complete", session_id=session_id)
        if ok:
            context.log_event("run_complete", total_duration=round(duration, 3), adapter_execution=True)
        elif broken:
            context.log_event("run_error", phase="execute", error=summary["error"] or status,
                              duration=round(duration, 3))
        context.log_event("run_end", status=status, duration_seconds=round(duration, 3), end_time=utc_now())
        if status_error is not None:
            summary["status_file_error"] = status_error
        return summary

    def cleanup(self, prepared: PreparedRun) -> None:
        """Stop the worker process and remove working files (the cache's spill files live there)."""
        self.worker.close()
        prepared.cache.clear()
        shutil.rmtree(prepared.working_dir, ignore_errors=True)


def _write_cleaned(path: Path, config: dict[str, Any]) -> None:
    write_over(path, json.dumps(mask_value(config, mask=ARTIFACT_MASK), indent=2, default=str) + "\n")


def _write_status(context: ExecutionContext, summary: dict[str, Any]) -> str | None:
    """Write status.json; on failure (a full disk…) say why on stderr and in the log, and return the reason."""
    try:
        context.write_json("status.json", mask_value(summary))
    except (OSError, ValueError) as exc:
        reason = describe_os_error(exc, context.run_dir / "status.json")
        context.log_event("status_write_failed", error=reason)
        context.warn(f"could not write status.json: {reason}")
        return reason
    return None


def _count_entries(directory: Path) -> int | None:
    try:
        return len(list(directory.iterdir()))
    except OSError:
        return None


def _profile(pipeline: Pipeline) -> str:
    """A compiled manifest's `meta.profile` (Osiris's runner logs it with `run_start`), else "default"."""
    if pipeline.kind != "compiled":
        return "default"
    try:
        import yaml

        data = yaml.safe_load(pipeline.path.read_text(encoding="utf-8", errors="replace"))
        profile = data.get("meta", {}).get("profile") if isinstance(data, dict) else None
    except Exception:
        return "default"
    return str(profile) if isinstance(profile, str) and profile else "default"
