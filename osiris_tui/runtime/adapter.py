"""The Osiris execution-adapter contract: `prepare` → `execute` → `collect`.

The debug session drives an adapter a step at a time: `prepare`, then `run_step` per step (again for a
re-run), `collect` once the run ends, and `cleanup` when it is discarded.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from osiris_tui.manifest.model import Pipeline, Step
from osiris_tui.runtime.cache import DataFrameCache
from osiris_tui.runtime.connections import ResolvedConnection
from osiris_tui.runtime.context import ExecutionContext


@dataclass
class PreparedRun:
    """Everything `execute` needs: the plan, resolved connections and the DataFrame cache."""

    run_id: str
    pipeline: Pipeline
    plan: list[Step]
    connections: dict[str, ResolvedConnection | None]
    cache: DataFrameCache
    working_dir: Path
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class StepResult:
    """How one step run ended."""

    step_id: str
    ok: bool
    duration: float
    rows: int | None = None
    error: str | None = None
    traceback: str | None = None
    cancelled: bool = False
    produced_df: bool = False
    cached_age: float | None = None  # taken from a checkpoint this old (seconds), not run


class ExecutionAdapter(ABC):
    @abstractmethod
    def prepare(self, manifest: Any, context: ExecutionContext) -> PreparedRun:
        """Check the pipeline and resolve every step's connection before anything runs."""

    @abstractmethod
    def execute(self, prepared: PreparedRun, context: ExecutionContext) -> bool:
        """Run every step in order, stopping at the first failure; True when all succeeded."""

    @abstractmethod
    def run_step(
        self, prepared: PreparedRun, context: ExecutionContext, step_id: str, step: Step | None = None
    ) -> StepResult:
        """Run one step on the cached outputs of its upstream steps; a step failure is a result, not a raise."""

    @abstractmethod
    def resolve_connection(self, step: Step, config: dict[str, Any]) -> ResolvedConnection | None:
        """The connection `config` refers to (or the step family's default), None when it needs none."""

    @abstractmethod
    def collect(self, prepared: PreparedRun, context: ExecutionContext) -> dict[str, Any]:
        """Write the run's summary (`status.json`) and its closing events; returns the summary."""

    @abstractmethod
    def cleanup(self, prepared: PreparedRun) -> None:
        """Release what `prepared` holds (working files, cached frames, worker processes)."""

    def warm_up(self, prepared: PreparedRun) -> None:  # noqa: B027 (optional: most adapters need none)
        """Get ready to run `prepared`'s steps soon (returns at once); nothing by default."""
