"""Parameter values set in the app: they are loaded like `--param` values, on top of the command line's."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from osiris_tui.manifest import load_pipeline
from osiris_tui.manifest.model import Pipeline
from osiris_tui.manifest.params import coerce


@dataclass
class ParamOverrides:
    """The `--param` values the pipeline was loaded with, plus those set in the app."""

    command_line: dict[str, Any] = field(default_factory=dict)
    edited: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, pipeline: Pipeline) -> ParamOverrides:
        given = {n: pipeline.param_text.get(n, pipeline.params.get(n))
                 for n, source in pipeline.param_sources.items() if source == "--param"}
        return cls(command_line=given)

    def set(self, name: str, value: Any, text: str) -> None:
        # The text itself when it reads as the same value (so splicing it into a string keeps it as typed).
        same = coerce(text)
        self.edited[name] = text if same == value and type(same) is type(value) else value

    def values(self) -> dict[str, Any]:
        return {**self.command_line, **self.edited}

    def loader(self, pipeline: Pipeline, drivers: Collection[str]) -> Any:
        """A reloader for the session: the pipeline's file with these values."""
        path, values = pipeline.path, self.values()
        names = list(drivers)

        def reload() -> Pipeline:
            return load_pipeline(path, params=values, drivers=names)

        return reload
