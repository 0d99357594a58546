"""The driver contract (Osiris's `run(*, step_id, config, inputs, ctx) -> dict`) and input helpers."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    import pandas as pd


class RunnerContext(Protocol):
    """Osiris's own local context: all a driver that also runs under Osiris may rely on."""

    output_dir: Path  # <run>/artifacts/<step_id>/, created beforehand

    def log_metric(self, name: str, value: Any, **extra: Any) -> None: ...


class StepContext(RunnerContext, Protocol):
    """What a driver may use from the debugger's context (`StepRunContext`, or `_WorkerContext` in a worker)."""

    step_id: str
    base_dir: Path  # the manifest's directory

    def log_event(self, name: str, **fields: Any) -> None: ...

    def check_cancelled(self) -> None:
        """Raise `StepCancelled` when the user interrupted the run (long drivers call this between chunks)."""

    def on_cancel(self, hook: Callable[[], None]) -> Callable[[], None]:
        """Call `hook` (from the cancelling thread) when the step is cancelled; returns the unregister function."""

    @property
    def cancelled(self) -> bool:
        """Whether the step was cancelled (`check_cancelled()` would raise)."""


@runtime_checkable
class Driver(Protocol):
    def run(self, *, step_id: str, config: dict[str, Any], inputs: dict[str, Any] | None, ctx: StepContext) -> dict: ...


class StepCancelled(Exception):
    """Raised inside a driver when the run was interrupted."""


def is_dataframe(value: Any) -> bool:
    """Whether `value` is a pandas DataFrame, without importing pandas (until something has, there is none)."""
    pandas = sys.modules.get("pandas")
    return pandas is not None and isinstance(value, pandas.DataFrame)


def first_input_df(inputs: dict[str, Any] | None) -> pd.DataFrame | None:
    """The input a single-input driver reads: `df`, else the first `df_*` DataFrame (as Osiris writers do)."""
    if not inputs:
        return None
    df = inputs.get("df")
    if is_dataframe(df):
        return df
    for key, value in inputs.items():
        if key.startswith("df_") and is_dataframe(value):
            return value
    return None


def require_input_df(step_id: str, inputs: dict[str, Any] | None) -> pd.DataFrame:
    df = first_input_df(inputs)
    if df is None:
        raise ValueError(
            f"Step '{step_id}' needs an input DataFrame but has none: add the upstream step to its 'needs'"
        )
    return df


def resolve_path(path: str, config: dict[str, Any], ctx: RunnerContext) -> Path:
    """A relative `path` resolves against a filesystem connection's `base_dir`, else the working directory."""
    p = Path(path).expanduser()
    if p.is_absolute():
        return p
    base = (config.get("resolved_connection") or {}).get("base_dir")
    return (Path(base).expanduser() / p) if base else Path.cwd() / p
