"""The validated pipeline every loader produces: steps in run order, with their configs and edges."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

ManifestKind = Literal["seed", "compiled", "oml"]

_UNSAFE = re.compile(r"[^0-9A-Za-z_]")


def safe_id(step_id: str) -> str:
    """Osiris's table-safe form of a step id (`extract-movies` → `extract_movies`, `123x` → `_123x`)."""
    safe = _UNSAFE.sub("_", step_id)
    if safe[:1].isdigit():
        safe = "_" + safe
    return safe


@dataclass(frozen=True)
class ConfigSource:
    """Where a step's config came from, for the Config tab and error messages."""

    kind: Literal["inline", "cfg", "oml"]
    file: Path
    line: int | None = None

    def describe(self, relative_to: Path | None = None) -> str:
        name = self.file
        if relative_to is not None:
            try:
                name = self.file.relative_to(relative_to)
            except ValueError:
                pass
        where = f"{name}:{self.line}" if self.line else str(name)
        return {"inline": f"inline in {where}", "cfg": where, "oml": f"compiled from OML {where}"}[self.kind]


@dataclass
class Step:
    """One pipeline step.

    `config` is the cfg as Osiris writes it (it may hold `component`, `mode` and `connection`);
    the runtime strips `component`/`connection` and adds `resolved_connection` before calling the driver.
    `input_refs` are seed-style `inputs:` names → upstream step id.
    """

    id: str
    driver: str
    config: dict[str, Any]
    needs: list[str] = field(default_factory=list)
    input_refs: dict[str, str] = field(default_factory=dict)
    component: str | None = None
    source: ConfigSource | None = None
    position: int = 0
    line: int | None = None

    @property
    def family(self) -> str:
        """Connection family: the part of the component (or driver) name before the first dot."""
        return (self.component or self.driver).split(".", 1)[0]

    @property
    def upstream(self) -> list[str]:
        """Every step this one reads from: `needs` first, then seed `inputs:` targets, without repeats."""
        seen: dict[str, None] = dict.fromkeys(self.needs)
        seen.update(dict.fromkeys(self.input_refs.values()))
        return list(seen)


@dataclass
class Pipeline:
    """A loaded, validated pipeline. `steps` are in run order (topological, stable by list position)."""

    name: str
    path: Path
    kind: ManifestKind
    steps: list[Step]
    warnings: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    param_sources: dict[str, str] = field(default_factory=dict)  # "default", "OSIRIS_PARAM_X", "--param"
    param_text: dict[str, str] = field(default_factory=dict)  # env/--param values as given (text)
    # Where each step was last found in `steps` (checked on every use: `steps` may be edited in place).
    _positions: dict[str, int] = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    @property
    def step_ids(self) -> list[str]:
        return [s.id for s in self.steps]

    def step(self, step_id: str) -> Step:
        at = self._positions.get(step_id)
        if at is None or at >= len(self.steps) or self.steps[at].id != step_id:
            self._positions = {}
            for i, s in enumerate(self.steps):
                self._positions.setdefault(s.id, i)  # (the first of a repeated id, as a walk finds it)
            at = self._positions.get(step_id)
            if at is None:
                raise KeyError(step_id)
        return self.steps[at]

    def downstream(self, step_id: str) -> list[str]:
        """Steps that read (directly or not) from `step_id`, in run order."""
        hit = {step_id}
        out = []
        for s in self.steps:
            if any(u in hit for u in s.upstream):
                hit.add(s.id)
                out.append(s.id)
        return out
