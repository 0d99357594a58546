"""Paint first, import later: what the first screen does not need loads in a background thread after it.

The first screen (header, step list, key bar) needs only the manifest. pandas, pyarrow and DuckDB, the
Data tab's view (and through it the frame operations), the other tabs' views and the drivers the
pipeline uses are imported by `Warmup` once the app has painted; the shared DuckDB database of the
`duckdb.processor` steps is made then too. Until it is done, the Data tab shows a `PendingView`, and the
app queues the actions that need what is loading (they run, in order, once it is there).

The imports hold the registry's `IMPORT_LOCK`, so a step started meanwhile (`c` pressed at once) waits
for them instead of importing the same packages at the same time from another thread.

What they made (about 100k modules, classes and functions, there for as long as the app) is then taken
out of the cyclic garbage collector's reach (`gc.freeze`): a full collection walks every object it
tracks while holding the GIL, and over these it took 60-250 ms, a key press answered that late on the
UI thread, whenever one happened to run (every few seconds while the Data tab works on a big frame).
"""

from __future__ import annotations

import gc
import importlib
import logging
import sys
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial

from textual.message import Message
from textual.widgets import Static

from osiris_tui.drivers.registry import IMPORT_LOCK, DriverRegistry

logger = logging.getLogger(__name__)

# What the app needs after its first paint, in the order it is needed.
MODULES = (
    "numpy",
    "pandas",
    "pyarrow",
    "duckdb",
    "osiris_tui.frames.export",
    "osiris_tui.tui.widgets.data_view",
    "osiris_tui.tui.widgets.event_log",
    "osiris_tui.tui.widgets.config_view",
    "osiris_tui.tui.widgets.connection_view",
    "osiris_tui.tui.widgets.metrics_view",
    "osiris_tui.tui.widgets.dag_view",
    "osiris_tui.tui.screens.help",
    "osiris_tui.tui.screens.confirm_stop",
    "osiris_tui.tui.screens.breakpoint_dialog",
    "osiris_tui.tui.screens.breakpoint_list",
    "osiris_tui.tui.screens.param_dialog",
    "osiris_tui.authoring.locate",
    "osiris_tui.authoring.parameters",
    "osiris_tui.authoring.overrides",
    "osiris_tui.authoring.external",
)


@dataclass
class WarmupDone(Message):
    """Posted (from the warm-up thread) when everything is imported; `errors` says what could not be."""

    errors: list[str]


class Warmup:
    """Imports `MODULES` and the pipeline's drivers in a daemon thread (`start`); `ready` once done."""

    def __init__(self, registry: DriverRegistry, drivers: Iterable[str]) -> None:
        self.registry = registry
        self.drivers = list(dict.fromkeys(drivers))
        self._done = threading.Event()
        self.errors: list[str] = []
        self._thread: threading.Thread | None = None
        if not self.pending():
            self._done.set()

    def pending(self) -> bool:
        """Whether there is anything left to import (in tests, usually nothing: it is all loaded)."""
        return any(m not in sys.modules for m in (*MODULES, *self._driver_modules()))

    def _driver_modules(self) -> list[str]:
        targets = [self.registry.target(d) for d in self.drivers if d in self.registry]
        return [t.partition(":")[0] for t in targets if isinstance(t, str)]

    @property
    def ready(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        return self._done.wait(timeout)

    def start(self, on_done: Callable[[list[str]], None], before: Callable[[], None] | None = None) -> None:
        """Import in the background, then call `on_done(errors)` from that thread (at once when ready and
        there is nothing to do `before` the imports, in the same thread: e.g. build the session)."""
        if self._thread is not None:
            return
        if self.ready and before is None:
            on_done(self.errors)
            return
        self._thread = threading.Thread(target=self._run, args=(on_done, before), name="osiris-tui-warmup",
                                        daemon=True)
        self._thread.start()

    def _run(self, on_done: Callable[[list[str]], None], before: Callable[[], None] | None) -> None:
        try:
            if before is not None:
                before()
            if not self._done.is_set():
                with IMPORT_LOCK:
                    self.load()
                freeze_imported()
        finally:
            self._done.set()
            on_done(self.errors)

    def load(self) -> None:
        """The imports (under `IMPORT_LOCK`); a failure is kept in `errors`, the rest still loads."""
        for module in MODULES:
            self._attempt(module, partial(importlib.import_module, module))
        for driver in self.drivers:
            if driver in self.registry:  # a plugin that fails to import fails its step, with its error
                self._attempt(driver, partial(self.registry.factory, driver))
        if "duckdb.processor" in self.drivers:
            from osiris_tui.drivers import duckdb_processor

            self._attempt("the DuckDB database", duckdb_processor.prewarm)

    def _attempt(self, what: str, load: Callable[[], object]) -> None:
        try:
            load()
        except Exception as exc:
            logger.warning("could not load %s: %s", what, exc)
            self.errors.append(f"{what}: {exc}")


def freeze_imported() -> None:
    """Move every object the cyclic GC tracks to its permanent generation, which collections skip; after
    a collection, so that no garbage is kept (refcounting still frees what is let go of later)."""
    gc.collect()
    gc.freeze()


class PendingView(Static):
    """Stands in for the Data tab's view while its modules load (a moment after the first paint)."""

    DEFAULT_CSS = """
    PendingView {
        height: 1fr;
        color: $text-muted;
        padding: 0 1;
    }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__("loading the data view…", **kwargs)  # type: ignore[arg-type]

    def show_step(self, step_id: str | None) -> None:
        """(the real view shows the selected step once it is there)"""
