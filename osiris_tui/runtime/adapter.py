"""The Osiris execution-adapter contract: `prepare` → `execute` → `collect`."""

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


class ExecutionAdapter(ABC):
    @abstractmethod
    def prepare(self, manifest: Any, context: ExecutionContext) -> PreparedRun: ...

    @abstractmethod
    def execute(self, prepared: PreparedRun, context: ExecutionContext) -> bool: ...

    @abstractmethod
    def collect(self, prepared: PreparedRun, context: ExecutionContext) -> dict[str, Any]: ...
