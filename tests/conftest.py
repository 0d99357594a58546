"""Shared test helpers."""

from __future__ import annotations

from pathlib import Path

import pytest

from osiris_tui.secrets import REGISTRY


@pytest.fixture(autouse=True)
def _fresh_secret_registry():
    """Each test starts with no registered secret values."""
    REGISTRY.clear()
    yield
    REGISTRY.clear()


@pytest.fixture(autouse=True)
def _private_checkpoint_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Checkpoints go to a temporary directory, not next to the sample manifests (subprocesses inherit it)."""
    monkeypatch.setenv("OSIRIS_TUI_CACHE_DIR", str(tmp_path_factory.mktemp("checkpoints")))


@pytest.fixture
def write(tmp_path: Path):
    """write("name", text) → a file under tmp_path (parents created)."""

    def _write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path

    return _write


@pytest.fixture(autouse=True)
def _no_user_settings(tmp_path_factory, monkeypatch):
    """No test reads the settings file of whoever runs the tests (an empty XDG config directory)."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("xdg-config")))
