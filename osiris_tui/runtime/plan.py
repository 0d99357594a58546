"""SessionPlan: a debug session checked but not built yet.

The first screen needs only the pipeline (and the driver registry, to know what to load). Building the
session imports the runtime and prepares the run directory, which costs more than painting the screen
itself, so the app is given a plan: it paints, then builds the session in the background
(`DebuggerApp`). Everything a plan's `build` could refuse cheaply was refused when the plan was made.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from osiris_tui.drivers.registry import DriverRegistry
    from osiris_tui.manifest.model import Pipeline
    from osiris_tui.runtime.session import DebugSession


@dataclass(frozen=True)
class SessionPlan:
    pipeline: Pipeline
    registry: DriverRegistry
    build: Callable[[], DebugSession]
