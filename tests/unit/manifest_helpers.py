"""Shared helpers for the manifest tests."""

from __future__ import annotations

import textwrap
from pathlib import Path

from osiris_tui.drivers.registry import BUILTIN_DRIVERS

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "manifests"
DRIVERS = sorted(BUILTIN_DRIVERS)


def write(directory: Path, name: str, text: str) -> Path:
    """Write dedented `text` to `directory/name` (creating parents) and return the path."""
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path
