"""Plugins are discovered when first needed: a built-in name is known without scanning the entry points."""

from __future__ import annotations

from osiris_tui.drivers import registry as registry_mod
from osiris_tui.drivers.registry import DriverRegistry, default_registry


class Plugin:
    def run(self, **kwargs):
        return {}


def counting(monkeypatch) -> list[int]:
    calls: list[int] = []

    def fake_load(reg: DriverRegistry) -> None:
        calls.append(1)
        reg.register("acme.extractor", Plugin, isolated=None)
        reg.register("duckdb.processor", Plugin, isolated=None)  # a plugin that takes a built-in name

    monkeypatch.setattr(registry_mod, "load_plugins", fake_load)
    return calls


def test_a_builtin_name_is_known_without_discovery(monkeypatch) -> None:
    calls = counting(monkeypatch)
    reg = default_registry()
    assert "duckdb.processor" in reg and "filesystem.csv_writer" in reg
    assert not reg.isolated("duckdb.processor", discover=False)
    assert calls == []
    assert "acme.extractor" in reg  # not built in: discovered now, once
    assert "acme.extractor" in reg.names() and calls == [1]


def test_what_makes_or_checks_a_driver_sees_the_plugins_first(monkeypatch) -> None:
    calls = counting(monkeypatch)
    reg = default_registry()
    assert "duckdb.processor" in reg and calls == []
    assert reg.factory("duckdb.processor") is Plugin  # the plugin's, not the built-in
    assert reg.isolated("duckdb.processor")  # a plugin without `cancellable` runs in the worker
    assert calls == [1]


def test_what_is_registered_by_hand_wins_over_the_plugins(monkeypatch) -> None:
    calls = counting(monkeypatch)
    reg = default_registry()

    class Mine(Plugin):
        pass

    reg.register("acme.extractor", Mine)
    assert calls == [1] and reg.factory("acme.extractor") is Mine
    assert sorted(reg) == reg.names() and len(reg) == len(reg.names())
