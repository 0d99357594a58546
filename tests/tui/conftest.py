"""Fixtures for the app tests (the inspector tests bring their own helpers)."""

from __future__ import annotations

import pytest

from osiris_tui.tui import format as fmt


@pytest.fixture
def fixed_times(monkeypatch: pytest.MonkeyPatch) -> None:
    """Durations and elapsed time vary between runs: show fixed strings (for snapshots)."""
    monkeypatch.setattr(fmt, "duration", lambda seconds: "" if seconds is None else "12ms")
    monkeypatch.setattr(fmt, "seconds", lambda value: "" if value is None else "0.012s")
    monkeypatch.setattr(fmt, "elapsed", lambda seconds: "1.2s")
