"""Breakpoints saved per manifest, so reopening a pipeline brings them back (as pudb does)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

DEFAULT_STORE = Path(".osiris-tui") / "breakpoints.json"


class BreakpointStore:
    """`{manifest path: [step ids]}` in one JSON file; unreadable files count as empty."""

    def __init__(self, path: Path = DEFAULT_STORE) -> None:
        self.path = path

    def _read(self) -> dict[str, list[str]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def load(self, manifest: Path) -> set[str]:
        steps = self._read().get(str(manifest.resolve()), [])
        return {s for s in steps if isinstance(s, str)}

    def save(self, manifest: Path, breakpoints: set[str]) -> None:
        data = self._read()
        key = str(manifest.resolve())
        if breakpoints:
            data[key] = sorted(breakpoints)
        else:
            data.pop(key, None)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Written whole then renamed, so a crash never leaves half a file.
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".breakpoints-")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2)
        os.replace(tmp, self.path)
