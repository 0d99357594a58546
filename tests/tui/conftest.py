"""Fixtures for the app tests (the inspector tests bring their own helpers)."""

from __future__ import annotations

import importlib

import pytest

from osiris_tui.tui import format as fmt
from osiris_tui.tui.warmup import MODULES

# What the app loads after its first paint, loaded up front here: every app test starts with it all there
# (as the app is a moment after it opens); tests/tui/test_warmup.py makes the warm-up slow on purpose.
for _module in MODULES:
    importlib.import_module(_module)


@pytest.fixture
def fixed_times(monkeypatch: pytest.MonkeyPatch) -> None:
    """Durations and elapsed time vary between runs: show fixed strings (for snapshots)."""
    monkeypatch.setattr(fmt, "duration", lambda seconds: "" if seconds is None else "12ms")
    monkeypatch.setattr(fmt, "seconds", lambda value: "" if value is None else "0.012s")
    monkeypatch.setattr(fmt, "elapsed", lambda seconds: "1.2s")
