"""Driver registry: built-in drivers by import path (loaded on first use) plus plugins via entry points.

A plugin package declares, in its pyproject::

    [project.entry-points."osiris_tui.drivers"]
    "acme.extractor" = "acme_osiris.drivers:AcmeExtractor"

The object may be a class or any zero-argument factory; a new instance is made for every step run, as in
Osiris's `DriverRegistry.get`.
"""

from __future__ import annotations

import importlib
import sys
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from osiris_tui.drivers.extras import missing_modules, require_extras

if TYPE_CHECKING:
    from osiris_tui.manifest.model import Pipeline, Step

ENTRY_POINT_GROUP = "osiris_tui.drivers"

BUILTIN_DRIVERS: dict[str, str] = {
    "filesystem.csv_extractor": "osiris_tui.drivers.filesystem:CsvExtractor",
    "filesystem.csv_writer": "osiris_tui.drivers.filesystem:CsvWriter",
    "duckdb.processor": "osiris_tui.drivers.duckdb_processor:DuckDBProcessor",
    "mysql.extractor": "osiris_tui.drivers.mysql:MySQLExtractor",
    "mysql.writer": "osiris_tui.drivers.mysql:MySQLWriter",
    "supabase.extractor": "osiris_tui.drivers.supabase:SupabaseExtractor",
    "supabase.writer": "osiris_tui.drivers.supabase:SupabaseWriter",
}


# Held while the heavy libraries and drivers are imported, so that the app's background warm-up and a step
# that starts meanwhile never import the same packages at once (a step waits for the warm-up instead).
IMPORT_LOCK = threading.RLock()


def import_target(target: str) -> Callable[[], Any]:
    """The object a `module:attr` path names."""
    module, _, attr = target.partition(":")
    with IMPORT_LOCK:
        obj: Any = importlib.import_module(module)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


class DriverRegistry:
    """Maps driver names to factories; `get(name)` returns a fresh driver instance.

    Plugins are discovered (`discover_plugins_later`) when first needed: asking whether a built-in name
    exists needs no discovery (scanning the installed packages' entry points costs tens of milliseconds
    before the app could paint); listing the names, or making, describing or checking a driver does.
    """

    def __init__(self) -> None:
        self._targets: dict[str, str | Callable[[], Any]] = {}
        self._isolated: dict[str, bool | None] = {}
        self._discover: Callable[[DriverRegistry], None] | None = None

    def discover_plugins_later(self, discover: Callable[[DriverRegistry], None]) -> None:
        self._discover = discover

    def _discovered(self) -> None:
        discover, self._discover = self._discover, None
        if discover is not None:
            discover(self)

    def register(self, name: str, factory: str | Callable[[], Any], isolated: bool | None = False) -> None:
        """`isolated`: run the driver's steps in a worker process; None decides by the driver's class
        (isolated unless it sets `cancellable = True`), which is how plugins are registered."""
        self._discovered()  # what is registered by hand wins over the plugins
        self._targets[name] = factory
        self._isolated[name] = isolated

    def names(self) -> list[str]:
        self._discovered()
        return sorted(self._targets)

    def __contains__(self, name: object) -> bool:
        if name in self._targets:
            return True
        self._discovered()
        return name in self._targets

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self.names())

    def __bool__(self) -> bool:  # (never empty: the built-ins; and `if drivers:` must not discover)
        return True

    def factory(self, name: str) -> Callable[[], Any]:
        """What makes the driver (imported on first use)."""
        self._discovered()
        try:
            target = self._targets[name]
        except KeyError:
            raise ValueError(
                f"Driver '{name}' not registered. Available drivers: {', '.join(self.names())}"
            ) from None
        if isinstance(target, str):
            target = import_target(target)
            self._targets[name] = target
        return target

    def target(self, name: str) -> str | Callable[[], Any]:
        """The factory as registered: an import path a worker process can import, or the object itself."""
        self._discovered()
        return self._targets[name]

    def isolated(self, name: str, *, discover: bool = True) -> bool:
        """Whether steps of this driver run in a worker process, where a cancel can always stop them.

        Built-in drivers stop cooperatively, in process. A plugin runs in the worker unless its class
        sets `cancellable = True` (it checks `ctx.check_cancelled()` or registers `ctx.on_cancel` hooks).
        With `discover=False` (a guess, for starting the worker early) plugins not yet discovered are not.
        """
        if discover:
            self._discovered()
        choice = self._isolated.get(name, False)
        if choice is not None:
            return choice
        return not getattr(self.factory(name), "cancellable", False)

    def get(self, name: str) -> Any:
        return self.factory(name)()

    def check_installed(self, pipeline: Pipeline) -> None:
        """Raise an InputError naming the first step whose built-in driver needs an extra that is not
        installed, with the command that installs it (checked without importing anything)."""
        def builtin() -> list[Step]:  # (not a plugin that took the name)
            return [s for s in pipeline.steps
                    if s.driver in self._targets and self._targets[s.driver] == BUILTIN_DRIVERS.get(s.driver)]

        if any(missing_modules(s.driver) for s in builtin()):
            self._discovered()  # a plugin may have taken the name
            require_extras(pipeline, builtin())


def load_plugins(registry: DriverRegistry) -> None:
    if not may_have_plugins():
        return
    from importlib.metadata import entry_points

    for ep in entry_points(group=ENTRY_POINT_GROUP):
        registry.register(ep.name, ep.value, isolated=None)


def may_have_plugins() -> bool:
    """Whether an installed distribution may declare an `osiris_tui.drivers` entry point.

    Importing `importlib.metadata` alone costs some 30 ms, before the app could paint; a look at the
    `entry_points.txt` of the distributions on `sys.path` says, in a millisecond or two, that there is
    none. Anything it cannot read that way (a zip on the path, another metadata finder) answers True.
    """
    import os
    from importlib.machinery import PathFinder

    if any(hasattr(f, "find_distributions") and f is not PathFinder for f in sys.meta_path):
        return True
    header = f"[{ENTRY_POINT_GROUP}]"
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except NotADirectoryError:
            return True  # a zip file or an egg
        except OSError:
            continue
        for name in names:
            if name.endswith((".dist-info", ".egg-info")):
                try:
                    with open(os.path.join(entry or ".", name, "entry_points.txt"), encoding="utf-8") as fh:
                        if header in fh.read():
                            return True
                except NotADirectoryError:
                    return True  # an egg-info file
                except (OSError, UnicodeDecodeError):
                    continue
    return False


def default_registry() -> DriverRegistry:
    """Built-in drivers plus every installed plugin (plugins may override a built-in name; they are
    discovered when first needed)."""
    registry = DriverRegistry()
    for name, target in BUILTIN_DRIVERS.items():
        registry.register(name, target)
    registry.discover_plugins_later(load_plugins)
    return registry
