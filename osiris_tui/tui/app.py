"""DebuggerApp: the step list on the left, the selected step's tabs on the right.

Threading: the session calls our subscriber from the thread that emitted a record. The subscriber
only appends the record to a buffer under a lock and posts a `SessionUpdated` message, which
coalesces with one already pending; on the UI thread the handler drains the buffer, applies state
changes, hands event and metric records to the event log in chunks under a time budget, and
re-renders what changed. A flood of records therefore costs a few batches, and nothing the session
does can block a key press. A timer runs only to animate a running step (spinner, elapsed time).
"""

from __future__ import annotations

import inspect
import threading
import time
from collections import deque
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual.actions import parse as parse_action
from textual.app import App, ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.markup import escape
from textual.widgets import Static

from osiris_tui.errors import InputError
from osiris_tui.runtime.plan import SessionPlan
from osiris_tui.runtime.records import LogRecord, MetricRecord, Record, RunState, StateChange, StepState
from osiris_tui.runtime.step_status import StepStatus
from osiris_tui.secrets import mask_text
from osiris_tui.startup import release_collection
from osiris_tui.tui import format as fmt
from osiris_tui.tui.authoring_actions import AuthoringActions
from osiris_tui.tui.commands import KEYS, DebuggerCommands, KeyAction, actions_of, bindings
from osiris_tui.tui.messages import SessionBuilt, SessionFailed, SessionUpdated, StepHighlighted
from osiris_tui.tui.warmup import PendingView, Warmup, WarmupDone
from osiris_tui.tui.widgets.error_panel import ErrorPanel
from osiris_tui.tui.widgets.step_list import StepList
from osiris_tui.tui.widgets.tabs import TabView
from osiris_tui.tui.widgets.title_bar import TitleBar

if TYPE_CHECKING:  # the tabs' views (and the runtime) load after the first paint (tui/warmup.py)
    from osiris_tui.runtime.session import DebugSession
    from osiris_tui.tui.widgets.config_view import ConfigView
    from osiris_tui.tui.widgets.connection_view import ConnectionView
    from osiris_tui.tui.widgets.dag_view import DagView
    from osiris_tui.tui.widgets.data_view import DataView
    from osiris_tui.tui.widgets.event_log import EventLog
    from osiris_tui.tui.widgets.metrics_view import MetricsView

TAB_LABELS = (("data", "1 Data"), ("config", "2 Config"), ("connection", "3 Connection"),
              ("events", "4 Events"), ("metrics", "5 Metrics"), ("graph", "6 Graph"))
TABS = tuple(tab for tab, _ in TAB_LABELS)
ACTION_NAMES = frozenset(parse_action(k.action)[1] for k in KEYS)  # the debugger's own actions

RUN_STATE_STYLE = {
    RunState.READY: "ready",
    RunState.RUNNING: "running",
    RunState.PAUSED: "paused",
    RunState.FAILED: "failed",
    RunState.FINISHED: "finished",
    RunState.INTERRUPTED: "interrupted",
    RunState.CLOSED: "closed",
}


class KeyBar(Static):
    """The keys, one line at the bottom; each is clickable. (Textual's Footer rebuilds a widget per key on
    every focus change, which costs more than the rest of startup; the debugger's keys never change.)

    Help, quit and the palette are always shown, on the right; the run keys fill the room left of
    them, in table order, and when the bar is narrow the last of them are dropped first.
    """

    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        background: $footer-background;
        color: $footer-foreground;
        link-style: none;
        link-color: $footer-key-foreground;
        link-background: $footer-background;
        link-style-hover: reverse;
        link-background-hover: $footer-background;
    }
    """

    ESSENTIAL: ClassVar[tuple[str, ...]] = ("help", "request_quit")  # actions always shown (and ^p)
    _cached: ClassVar[dict[tuple[int, tuple[KeyAction, ...]], Content]] = {}  # by width and key table

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(self.content_for(0), **kwargs)

    def on_resize(self) -> None:
        self.update(self.content_for(self.size.width, actions_of(self.app)))

    @classmethod
    def content_for(cls, width: int, keys: tuple[KeyAction, ...] = KEYS) -> Content:
        """The bar for `width` cells (0: every key, whatever the width)."""
        content = cls._cached.get((width, keys))
        if content is None:
            content = cls._cached[width, keys] = cls._content(width, keys)
        return content

    @staticmethod
    def _key(key: str, action: str, label: str) -> tuple[str, int]:
        """(markup, cells) of one key."""
        return f"[b @click=app.{action}] {escape(key)} [/]{escape(label)}", len(key) + 2 + len(label)

    @classmethod
    def _content(cls, width: int, keys: tuple[KeyAction, ...]) -> Content:
        left: list[tuple[str, int]] = []
        right: list[tuple[str, int]] = []
        for k in keys:
            if k.show:
                part = cls._key(k.display.split(" / ")[0], k.action, k.label)
                (right if k.action in cls.ESSENTIAL else left).append(part)
        right.append(cls._key("^p", "command_palette", "palette"))
        right_markup = " ".join(m for m, _ in right)
        right_cells = sum(n for _, n in right) + len(right) - 1
        if width <= 0:
            return Content.from_markup(" ".join(m for m, _ in left) + "  " + right_markup)
        room = width - right_cells - 2  # at least two cells between the run keys and the right side
        shown: list[str] = []
        used = 0
        for markup, cells in left:
            need = cells + (1 if shown else 0)
            if used + need > room:
                break
            shown.append(markup)
            used += need
        gap = max(0, width - right_cells - used) if shown else max(0, width - right_cells)
        return Content.from_markup(" ".join(shown) + " " * gap + right_markup)


class DebuggerApp(AuthoringActions, App[None]):
    """`DebuggerApp(session, run=False).run()`: starts the session on mount, closes it on exit."""

    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute: subclasses may live elsewhere
    VIEWS_CSS = Path(__file__).with_name("views.tcss")  # read when the tabs are built (`_right_pane`)
    TITLE = "osiris-tui"
    BINDINGS: ClassVar[list[BindingType]] = bindings()
    key_actions: tuple[KeyAction, ...] = KEYS  # as shown in the key bar, help and palette (a keymap changes it)
    COMMANDS = App.COMMANDS | {DebuggerCommands}
    TICK_SECONDS = 0.1
    MIN_DRAIN_SECONDS = 0.02  # records are applied at most this often (a state change waits no longer)
    LOG_CHUNK = 500  # records handed to the event log at a time
    LOG_BUDGET_SECONDS = 0.03  # per tick, so a flood never holds the UI thread for long
    WARMUP: ClassVar[type[Warmup]] = Warmup

    def __init__(self, session: DebugSession | SessionPlan, *, run: bool = False,
                 watch: dict[str, Any] | None = None) -> None:
        """`session`: the session, or a plan of it, built after the first paint (`load_session`).
        `watch`: options for watching the pipeline's files (`DebugSession.start_watching`); None: defaults."""
        super().__init__()
        self._watch_options = watch
        self._plan = session if isinstance(session, SessionPlan) else None
        self._session: DebugSession | None = None
        self._pane: Vertical | None = None
        self._pane_mounting: Any = None
        self._handoff = threading.Lock()  # between the thread that builds the session and closing the app
        self._built: DebugSession | None = None
        self._build_done = threading.Event()  # the planned session is built (or failed), and handed over
        self.load_error: Exception | None = None  # why the planned session could not be built
        self._run_on_mount = run
        self._buffer: list[Record] = []
        self._buffer_lock = threading.Lock()
        self._update_posted = False
        self._last_drain = 0.0
        self._drain_timer: Any = None
        self._log_backlog: deque[LogRecord] = deque()
        self._unsubscribe: Any = None
        self._pipeline = session.pipeline
        self._run_context: Any = None  # the session's run context; a restart makes a new one
        self._follow = True  # the selection follows the running step until the user moves it
        self._last_status: dict[str, StepStatus] = {}
        self._last_breakpoints: set[str] = set()
        self._last_stale: dict[str, str] = {}
        self.selected_step_id: str | None = None
        self._session_closed = False
        self._ticker: Any = None
        self._focus_filter_pending = False
        self.warmup = self.WARMUP(session.registry, [s.driver for s in session.pipeline.steps])
        self._deferred: list[str] = []  # actions asked for before what they need was loaded
        self.warmed_up = False  # the warm-up is done and applied (the Data tab's view is in place)
        self._warmup_started = False
        if not isinstance(session, SessionPlan):
            self._adopt(session)

    @property
    def session(self) -> DebugSession:
        """The session, as the widgets see it (through the screen's masking). Before a planned session is
        built, nothing that needs it runs: such actions wait (`run_action`)."""
        if self._session is None:
            raise RuntimeError("the session is not built yet")
        return self._session

    @property
    def session_ready(self) -> bool:
        return self._session is not None

    @property
    def loaded(self) -> bool:
        """The session is there and the warm-up is done: every view can be built."""
        return self._session is not None and self.warmup.ready

    def _adopt(self, session: DebugSession) -> None:
        from osiris_tui.tui.screen_guard import screen_session

        session.prefetch_tables = True  # frames the user opens are ready as Arrow by then
        self._session = screen_session(session)  # widgets see the session through the screen's masking
        self._run_context = session.context

    def load_session(self) -> DebugSession:
        """Build the planned session now, on this thread, if it is not built yet (and adopt it)."""
        if self._session is None:
            assert self._plan is not None
            self._adopt(self._plan.build())
        return self.session

    # -- layout --------------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        # Kept as attributes: `App.query` only searches the active screen, and a modal may be on top.
        self.step_list = StepList(self._pipeline, id="steps")
        self.step_list.border_title = "Steps"
        yield TitleBar(icon="◆")
        with Horizontal(id="main"):
            yield self.step_list
            if self._plan is None:
                yield self._right_pane()
        yield KeyBar(id="keybar")

    def _right_pane(self) -> Vertical:
        """The tabs and the error panel. With a planned session, they come just after the first paint (the
        first screen is the header, the steps and the keys)."""
        if not self.stylesheet.has_source(str(self.VIEWS_CSS)):
            self.stylesheet.read(self.VIEWS_CSS)  # (parsed when next applied)
        self.error_panel = ErrorPanel(id="error-panel")
        # Only the Data tab's view is built into its pane up front (once loaded: a stand-in until then);
        # the others are mounted when first shown (they read what they need from the session then).
        data = self.data_view if self.loaded else PendingView(id="data-pending")
        self.tabs = TabView(TAB_LABELS, initial="data", views={"data": data}, id="tabs")
        self._pane = Vertical(self.tabs, self.error_panel, id="right-pane")
        return self._pane

    @property
    def pane_ready(self) -> bool:
        """The tabs are there (at once, or just after the first paint with a planned session)."""
        return self._pane is not None and self._pane.is_mounted

    # The views are built when first used (most sessions never open some of them), their modules imported
    # then (the warm-up has imported them by the time the app lets them be used).
    @cached_property
    def data_view(self) -> DataView:
        from osiris_tui.tui.widgets.data_view import DataView

        return DataView(self.session, id="data-view")

    @cached_property
    def config_view(self) -> ConfigView:
        from osiris_tui.tui.widgets.config_view import ConfigView

        return ConfigView(self.session, id="config-view")

    @cached_property
    def connection_view(self) -> ConnectionView:
        from osiris_tui.tui.widgets.connection_view import ConnectionView

        return ConnectionView(self.session, id="connection-view")

    @cached_property
    def event_log(self) -> EventLog:
        from osiris_tui.tui.widgets.event_log import EventLog

        return EventLog(self.session, id="event-log")

    @cached_property
    def metrics_view(self) -> MetricsView:
        from osiris_tui.tui.widgets.metrics_view import MetricsView

        return MetricsView(self.session, id="metrics-view")

    @cached_property
    def dag_view(self) -> DagView:
        from osiris_tui.tui.widgets.dag_view import DagView

        return DagView(self.session, id="dag-view")

    def _tab_view(self, tab: str) -> Any:
        name = {"data": "data_view", "config": "config_view", "connection": "connection_view",
                "events": "event_log", "metrics": "metrics_view", "graph": "dag_view"}.get(tab)
        return None if name is None else getattr(self, name)

    def _views(self) -> list[Any]:
        """The tab views that are mounted (the others catch up from the session when first shown)."""
        return [v for v in self.tabs.views.values() if v.is_mounted]

    def _mounted(self, name: str) -> Any:
        """The view called `name` when it is built and mounted, else None (without building it)."""
        view = self.__dict__.get(name)
        return view if view is not None and view.is_mounted else None

    async def on_tab_view_tab_activated(self, event: TabView.TabActivated) -> None:
        await self._ensure_tab(event.tab)

    async def _ensure_tab(self, tab: str) -> None:
        if not self.loaded:  # the tab's view is mounted once its modules are loaded (on_warmup_done)
            return
        view = self._tab_view(tab)
        if view is None:
            return
        if not view.is_mounted and view.parent is None:
            mounting = self.tabs.mount_view(tab, view)
            if mounting is not None:
                await mounting
            view.show_step(self.selected_step_id)
        if tab == "events" and self._focus_filter_pending:
            self._focus_filter_pending = False
            self.event_log.focus_filter()

    def on_mount(self) -> None:
        self.title = self._pipeline.name
        if self._session is not None:
            self._start_session()
        elif self._pipeline.step_ids:  # (the session's first step, once it is built)
            self.step_list.select_step(self._pipeline.step_ids[0])
        self.step_list.focus()
        self.call_after_refresh(self._start_warmup)
        # A screen pushed at once (a key pressed before the first paint) can hold the refreshes that
        # start it: the warm-up then starts on this timer.
        self.set_timer(self.WARMUP_FALLBACK_SECONDS, self._begin_warmup)

    WARMUP_FALLBACK_SECONDS = 2.0
    BUILD_WAIT = 2.0  # quitting waits this long at most for a planned session still being built

    def _start_session(self) -> None:
        """Follow the session: at mount, or once a planned session is built."""
        session = self.session
        self._unsubscribe = session.subscribe(self._on_record)
        session.start()
        self.watcher = session.watcher(**(self._watch_options or {}))  # started after the first paint
        if self._warmup_started:
            self.watcher.start()
        self._ticker = self.set_interval(self.TICK_SECONDS, self._tick, name="osiris-tick")
        self._sync_state(None)
        step_ids = session.pipeline.step_ids
        first = session.next_step_id() or (step_ids[0] if step_ids else None)
        chosen = self.selected_step_id
        if chosen is not None and not self._follow:  # picked before the session was there
            self.selected_step_id = None
            self._select(chosen)
        elif first is not None:
            self._auto_select(first)
        if self._run_on_mount:
            self.session.continue_()

    def _begin_warmup(self) -> None:
        if not self._warmup_started:
            self._warmup_started = True
            if self._pane is None:
                main = self.step_list.parent  # (not `query_one`: a dialog may be the active screen)
                assert isinstance(main, Horizontal)
                self._pane_mounting = main.mount(self._right_pane())
            release_collection()
            if self._session is not None and not self._session_closed:
                self.watcher.start()
            self.warmup.start(self._warmed_up, before=self._build_session if self._plan is not None else None)

    def _build_session(self) -> None:
        """(in the warm-up's thread, before its imports) Build the planned session and hand it over."""
        assert self._plan is not None
        try:
            try:
                session = self._plan.build()
            except Exception as exc:  # an InputError is bad input (exit 2); anything else, a bug to show
                self.post_message(SessionFailed(exc))
                return
            with self._handoff:
                if not self._session_closed:
                    self._built = session
                    self.post_message(SessionBuilt())
                    return
            session.close()  # the app quit meanwhile: the run ends as any other
        finally:
            self._build_done.set()

    async def on_session_built(self, message: SessionBuilt) -> None:
        with self._handoff:
            session, self._built = self._built, None
        if session is None or self._session_closed or self._session is not None:
            return
        if self._pane_mounting is not None:
            await self._pane_mounting
        self._adopt(session)
        self._start_session()
        await self._run_deferred()

    def on_session_failed(self, message: SessionFailed) -> None:
        error = message.error
        if not isinstance(error, InputError):
            error = InputError(mask_text(f"{type(error).__name__}: {error}"),
                               hint="this is a bug in osiris-tui: please report it with the command you ran")
        self.load_error = error
        self.exit(return_code=2)

    def _start_warmup(self, refreshes: int = 0) -> None:
        """Start loading once the first screen is on the terminal: the step list laid out and painted (an
        import running in another thread would hold the GIL while the first screen is being drawn)."""
        if (not self.step_list.size.height or self.step_list.content_region.height == 0) and refreshes < 20:
            self.call_after_refresh(self._start_warmup, refreshes + 1)
        elif refreshes < 21:  # laid out on this refresh: painted on the next one
            self.call_after_refresh(self._start_warmup, 21)
        else:
            self._begin_warmup()

    def _warmed_up(self, errors: list[str]) -> None:
        """(called from the warm-up thread)"""
        self.post_message(WarmupDone(errors))

    # -- loading after the first paint (tui/warmup.py) ------------------------------------------------
    DEFERRED_ACTIONS: ClassVar[frozenset[str]] = frozenset({"focus_table", "filter_events", "filter_events_to_step"})

    async def on_warmup_done(self, message: WarmupDone) -> None:
        """Everything is loaded: the Data tab's view replaces its stand-in, then the queued actions run."""
        if self._session is None:  # (a planned session that failed to build: the app is exiting)
            return
        for error in message.errors:
            self.notify(f"Could not load {error}", severity="error", timeout=10)
        pending = self.tabs.views.get("data")
        if isinstance(pending, PendingView):
            await pending.remove()
            mounting = self.tabs.mount_view("data", self.data_view)
            if mounting is not None:
                await mounting
            self.data_view.show_step(self.selected_step_id)
        await self._ensure_tab(self.tabs.active)
        self.warmed_up = True
        await self._run_deferred()

    # Actions that need neither the session nor what loads after the first paint.
    NO_WAIT_ACTIONS: ClassVar[frozenset[str]] = frozenset({"help", "request_quit", "quit", "switch_tab",
                                                           "focus_steps", "focus", "command_palette"})

    def _waits(self, name: str) -> bool:
        """Whether the action must wait for what is still loading."""
        if not self.pane_ready:
            return name in ACTION_NAMES and name not in ("help", "request_quit", "quit")
        if name in self.DATA_ACTIONS | self.DEFERRED_ACTIONS:
            return not self.loaded
        return self._session is None and name in ACTION_NAMES and name not in self.NO_WAIT_ACTIONS

    async def _run_deferred(self) -> None:
        """Run the actions that waited, in the order pressed, as far as what they need is there (each was
        allowed when pressed: a tab switched since does not undo it)."""
        while self._deferred:
            _, name, params = parse_action(self._deferred[0])
            if self._waits(name):
                return
            self._deferred.pop(0)
            result = getattr(self, f"action_{name}")(*params)
            if inspect.isawaitable(result):
                await result

    async def run_action(self, action: Any, default_namespace: Any = None, namespaces: Any = None) -> bool:
        """An app action that needs what is still loading is queued (and runs once it is there)."""
        if not self.loaded and isinstance(action, str) and default_namespace in (None, self):
            namespace, name, params = parse_action(action)
            if namespace in ("", "app") and (self._deferred or self._waits(name)):
                if name in self.NO_WAIT_ACTIONS and not self._waits(name):
                    return await super().run_action(action, default_namespace, namespaces)
                if not self.check_action(name, params):
                    return False
                self._deferred.append(action)
                return True
        return await super().run_action(action, default_namespace, namespaces)

    def on_unmount(self) -> None:
        self._close_session()

    def _close_session(self) -> None:
        with self._handoff:  # a session built from here on is closed by the thread that built it
            if self._session_closed:
                return
            self._session_closed = True
            built, self._built = self._built, None
        if self._plan is not None and self._warmup_started and self._session is None and built is None:
            self._build_done.wait(self.BUILD_WAIT)  # (so that its run ends properly before the process does)
        if self._ticker is not None:
            self._ticker.stop()
        if self._unsubscribe is not None:
            self._unsubscribe()
        for session in (self._session, built):
            if session is not None:
                session.close()

    # -- session records (any thread → buffer → UI thread) -----------------------------------------
    def _on_record(self, record: Record) -> None:
        """Called from the thread that emitted the record: never touch widgets here."""
        with self._buffer_lock:
            self._buffer.append(record)
            if self._update_posted:
                return
            self._update_posted = True
        self.post_message(SessionUpdated())

    def on_session_updated(self, message: SessionUpdated) -> None:
        """Drain now, or, within `MIN_DRAIN_SECONDS` of the last drain, once that time is up (so a
        fast producer is taken in batches rather than a record at a time)."""
        if self._session_closed or not self.step_list.is_mounted or self._drain_timer is not None:
            return
        wait = self._last_drain + self.MIN_DRAIN_SECONDS - time.perf_counter()
        if wait > 0:
            self._drain_timer = self.set_timer(wait, self._drain_later, name="osiris-drain")
        else:
            self.drain_session_updates()

    def _drain_later(self) -> None:
        self._drain_timer = None
        if not self._session_closed:
            self.drain_session_updates()

    def _tick(self) -> None:
        if self._session_closed or not self.step_list.is_mounted:
            return
        if self._log_backlog:  # what the last update's budget left over
            self.drain_session_updates()
        if self.session.running_step_id() is not None:
            self.step_list.tick()
            if (dag := self._mounted("dag_view")) is not None:
                dag.tick()
            self._update_header()

    def drain_session_updates(self, *, budget: float | None = None) -> None:
        """Apply the records buffered since the last call (`SessionUpdated` calls this; tests may too).

        State changes are applied at once. Event/metric records go to the event log in chunks until
        `budget` seconds are spent (default: `LOG_BUDGET_SECONDS`); the rest waits for the next tick, so
        a flood of 100k events is absorbed over several ticks and keys keep working meanwhile.
        """
        self._last_drain = time.perf_counter()
        with self._buffer_lock:
            records, self._buffer = self._buffer, []
            self._update_posted = False
        new_run = self.session.context is not self._run_context
        if new_run:
            self._start_over()
        target = None
        saw_state = new_run
        for record in records:
            if isinstance(record, StateChange):
                saw_state = True
                if record.step_state is StepState.RUNNING:
                    target = record.step_id
            elif not new_run:
                # (after a restart the views re-read the new run's records; the old run's are dropped)
                self._log_backlog.append(record)
        if self._log_backlog:
            self._feed_logs(self.LOG_BUDGET_SECONDS if budget is None else budget)
        if saw_state or target is not None:
            self._sync_state(target)
        self._keep_ticking()

    def _keep_ticking(self) -> None:
        """The timer runs only while there is something to animate (a running step) or a backlog to feed."""
        if self._ticker is None:
            return
        if self._log_backlog or self.session.running_step_id() is not None:
            self._ticker.resume()
        else:
            self._ticker.pause()

    def _start_over(self) -> None:
        """The session restarted: the event log and the metrics begin again from the new run's lists."""
        self._run_context = self.session.context
        self._log_backlog.clear()
        if "data_view" in self.__dict__:  # (built)
            self.data_view.forget_frames()
        for name in ("event_log", "metrics_view"):
            view = self._mounted(name)
            if view is not None:
                view.reset()

    def _feed_logs(self, budget: float) -> None:
        deadline = time.perf_counter() + budget
        metrics = False
        while self._log_backlog:
            n = min(self.LOG_CHUNK, len(self._log_backlog))
            chunk = [self._log_backlog.popleft() for _ in range(n)]
            event_log = self._mounted("event_log")
            if event_log is not None:  # else it reads the session's history when first shown
                event_log.add_records(chunk)
            metrics = metrics or any(isinstance(r, MetricRecord) for r in chunk)
            self._notices(chunk)
            if time.perf_counter() >= deadline:
                break
        metrics_view = self._mounted("metrics_view")
        if metrics and metrics_view is not None:
            metrics_view.refresh_metrics()

    @property
    def pending_records(self) -> int:
        """Records received but not yet shown (the backlog of a flood)."""
        with self._buffer_lock:
            return len(self._buffer) + len(self._log_backlog)

    def _notices(self, logs: list[LogRecord]) -> None:
        for record in logs:
            data = record.data
            if record.name == "rerun_refused":
                self.notify(f"Cannot re-run {data.get('step_id')}: {data.get('reason')}", severity="warning")
            elif record.name == "restart_failed":
                self.notify(f"Restart failed: {data.get('error')}", severity="error", timeout=10)
            elif record.name == "step_error" and data.get("cancelled"):
                self.notify(f"Cancelled {data.get('step_id')}", timeout=3)
            elif record.name == "breakpoint_hit" and data.get("condition"):
                self.notify(f"Breakpoint: {data.get('message')}", timeout=5)
            elif record.name == "breakpoint_error":
                self.notify(f"Breakpoint condition failed: {data.get('message')}", severity="error", timeout=10)
            elif record.name == "steps_stale":
                ids = data.get("step_ids") or []
                self.notify(f"Stale: {', '.join(map(str, ids))} — c re-runs them", timeout=4)
            elif record.name in ("pipeline_reprepared", "reprepare_failed"):
                self.reprepared(data.get("error"))

    def _sync_state(self, running_target: str | None) -> None:
        session = self.session
        if session.pipeline is not self._pipeline:  # a restart reloaded the manifest
            self._pipeline = session.pipeline
            self.step_list.set_pipeline(self._pipeline)
            self._last_status = {}
        statuses = session.statuses()
        breakpoints = session.breakpoints
        markers = {bp.step_id: "●" for bp in session.breakpoint_list() if bp.enabled}
        markers.update({sid: "○" for sid in breakpoints if sid not in markers})
        self._last_stale = session.stale_steps()
        self.step_list.update_steps(statuses, markers, self._last_stale, cached=session.cached_steps())
        if (dag := self._mounted("dag_view")) is not None:
            dag.update_steps(statuses)
        changed = {s.step_id for s in statuses if self._last_status.get(s.step_id) != s}
        self._last_status = {s.step_id: s for s in statuses}
        self._last_breakpoints = breakpoints
        # What the selection follows: the running step; else where the run stopped (a failure, or a
        # breakpoint: show what goes into that step); else the step that ran last.
        next_id = session.next_step_id()
        target = session.running_step_id()
        if target is None and session.run_state is RunState.READY:
            target = next_id
        elif target is None and session.run_state is RunState.FAILED:
            target = session.failed_step_id()
        elif target is None and session.run_state is RunState.PAUSED and session.last_hit is not None:
            target = session.last_hit.breakpoint.step_id
        elif target is None and session.run_state is RunState.PAUSED and next_id in breakpoints:
            target = next_id
        if target is None:
            target = running_target
        if self._follow and target is not None and target != self.selected_step_id:
            self._auto_select(target)
        elif self.selected_step_id in changed:
            self._show_step(self.selected_step_id)
        self._update_header()

    # -- selection -----------------------------------------------------------------------------------
    def _auto_select(self, step_id: str) -> None:
        self.step_list.select_step(step_id)
        self._select(step_id)

    def on_step_highlighted(self, message: StepHighlighted) -> None:
        """The user moved the selection: stop following the run until the next run command."""
        self._follow = False
        self.step_list.select_step(message.step_id)  # (when the Graph tab moved the selection)
        if self._session is None:  # shown once the session is built
            self.selected_step_id = message.step_id
            return
        self._select(message.step_id)

    def _select(self, step_id: str) -> None:
        if step_id == self.selected_step_id:
            return
        self.selected_step_id = step_id
        if step_id in self.session.pipeline.step_ids:  # its frames stay in memory while shown
            self.session.show_frames([step_id, *self.session.pipeline.step(step_id).upstream])
        self._show_step(step_id)
        if self._last_stale:  # the header tells why the selected step is stale
            self._update_header()

    def _show_step(self, step_id: str | None) -> None:
        for view in self._views():
            view.show_step(step_id)
        status = None
        if step_id is not None and step_id in self._last_status:
            status = self.session.status(step_id)
        self.error_panel.show_status(status)

    # -- header --------------------------------------------------------------------------------------
    def _busy_seconds(self) -> float:
        total = 0.0
        now = time.monotonic()
        for status in self._last_status.values():
            if status.state is StepState.RUNNING and status.started_at is not None:
                total += max(0.0, now - status.started_at)
            elif status.duration is not None:
                total += status.duration
        return total

    def _update_header(self) -> None:
        session = self.session
        state = session.run_state
        where = ""
        if state is RunState.RUNNING:
            where = session.running_step_id() or ""
            text = f"running {where}".strip()
        elif state is RunState.PAUSED and session.last_hit is not None:
            text = f"paused {mask_text(session.last_hit.message)}"
        elif state in (RunState.PAUSED, RunState.READY):
            nxt = session.next_step_id()
            text = f"{RUN_STATE_STYLE[state]} before {nxt}" if nxt else RUN_STATE_STYLE[state]
        elif state is RunState.FAILED:
            text = f"failed at {session.failed_step_id() or '?'}"
        else:
            text = RUN_STATE_STYLE[state]
        parts = [text, fmt.elapsed(self._busy_seconds())]
        count = len(self._last_breakpoints)
        if count:
            parts.append(f"● {count} breakpoint" + ("" if count == 1 else "s"))
        stale = self._last_stale
        if stale:
            selected = stale.get(self.selected_step_id or "")
            parts.append(f"↻ stale: {selected}" if selected else f"↻ {len(stale)} stale")
        if session.auto_rerun:
            parts.append("watching")
        self.sub_title = " · ".join(parts)

    # -- actions -------------------------------------------------------------------------------------
    DATA_ACTIONS: ClassVar[frozenset[str]] = frozenset({
        "next_input", "describe", "data_search", "next_match", "previous_match", "data_where",
        "data_frequency", "data_sort", "data_pin", "data_widen", "data_export", "data_diff"})

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if not self.pane_ready:  # (what waits is checked again when it runs)
            return True
        if action in self.DATA_ACTIONS:  # only on the Data tab (`/` elsewhere filters the events)
            if action == "data_search":  # with no frame shown, `/` filters the events as on other tabs
                return self.tabs.active == "data" and self.loaded and self.data_view.view is not None
            return self.tabs.active == "data"
        if action in self.EDIT_ACTIONS:  # not while the editor is open
            view = self._mounted("config_view")
            return view is None or not view.editing
        if action == "focus_table":  # Enter / l on the step list
            return self.focused is self.step_list
        return True

    def _require_selection(self) -> str | None:
        if self.selected_step_id is None:
            self.notify("Select a step first", severity="warning")
        return self.selected_step_id

    def _at_end(self) -> bool:
        if self.session.next_step_id() is None and not self.session.busy:
            self.notify("The run has finished — press R to restart it, or r to re-run a step")
            return True
        return False

    def action_step(self) -> None:
        if self._at_end():
            return
        self._follow = True
        self.session.step()

    def action_continue(self) -> None:
        if not self.session.stale_steps() and self._at_end():  # (stale steps run again first)
            return
        self._follow = True
        self.session.continue_()

    def action_run_to(self) -> None:
        step_id = self._require_selection()
        if step_id is None:
            return
        if self.session.status(step_id).state is StepState.DONE:
            self.notify(f"{step_id} has already run — press r to re-run it", severity="warning")
            return
        self._follow = False  # the user chose where to stop: the selection stays there, not on the running step
        self.session.run_to(step_id)

    def action_pause(self) -> None:
        if self.session.busy:
            self.session.pause()
            self.notify("Pausing after the running step")
        else:
            self.notify("Nothing is running")

    def action_toggle_breakpoint(self) -> None:
        step_id = self._require_selection()
        if step_id is None:
            return
        on = self.session.toggle_breakpoint(step_id)
        self.drain_session_updates()
        self.notify(f"Breakpoint {'set on' if on else 'removed from'} {step_id}", timeout=2)

    def action_edit_breakpoint(self, step_id: str | None = None, when: str | None = None) -> None:
        """B: the selected step's breakpoint in a dialog (its before one first, else its after one)."""
        from osiris_tui.tui.screens.breakpoint_dialog import REMOVE, BreakpointDialog

        step_id = step_id or self._require_selection()
        if step_id is None:
            return
        session = self.session
        existing = session.breakpoints_of(step_id)
        current = next((bp for bp in existing if bp.when == when), existing[0] if existing else None)
        inputs = session.input_tables(step_id)
        frames = {"after": session.output_table(step_id), "before": inputs[0][2] if inputs else None}
        hits = session.breakpoint_hits(step_id, current.when) if current is not None else 0

        def done(result: Any) -> None:
            if result == REMOVE and current is not None:
                session.remove_breakpoint(current.step_id, current.when)
                self.notify(f"Breakpoint removed from {step_id}", timeout=2)
            elif result is not None and result != REMOVE:
                session.put_breakpoint(result, replacing=current.key if current is not None else None)
                self.notify(f"Breakpoint: {mask_text(result.describe())}", timeout=3)
            self.drain_session_updates()

        self.push_screen(BreakpointDialog(step_id, current, frames, hits), done)

    def action_list_breakpoints(self) -> None:
        from osiris_tui.tui.screens.breakpoint_list import BreakpointList

        session = self.session

        def edit(bp: Any) -> None:
            self.drain_session_updates()
            if bp is not None:
                self.action_edit_breakpoint(bp.step_id, bp.when)

        self.push_screen(BreakpointList(session.breakpoint_list, lambda bp: session.breakpoint_hits(*bp.key),
                                        session.put_breakpoint,
                                        lambda bp: session.remove_breakpoint(bp.step_id, bp.when),
                                        session.clear_breakpoints), edit)
    def action_toggle_reuse(self) -> None:
        step_id = self._require_selection()
        if step_id is None:
            return
        on = self.session.toggle_reuse(step_id)
        self.drain_session_updates()
        cached = self.session.cached_steps().get(step_id)
        if on is None:
            self.notify("Checkpoints are off (--cache-size 0)", severity="warning")
        elif not on:
            self.notify(f"{step_id} will run (its checkpoint is not used)", timeout=3)
        elif cached is not None:
            self.notify(f"{step_id} will be taken from its checkpoint ({fmt.age(cached.age)})", timeout=3)
        else:
            self.notify(f"{step_id} will be taken from its checkpoint once it has one", timeout=3)

    def action_rerun(self) -> None:
        step_id = self._require_selection()
        if step_id is None:
            return
        step = self.session.pipeline.step(step_id)
        missing = [u for u in step.upstream if self.session.status(u).state is not StepState.DONE]
        if missing:
            self.notify(f"Cannot re-run {step_id} yet: run {', '.join(missing)} first", severity="warning")
            return
        self._follow = True
        self.session.rerun(step_id)

    def action_restart(self) -> None:
        from osiris_tui.tui.screens.confirm_stop import ConfirmRestart

        if not self.session.busy:
            self._follow = True
            self.session.restart()
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._follow = True
                self.session.restart()

        self.push_screen(ConfirmRestart(self.session.running_step_id()), answered)

    def action_cancel_step(self) -> None:
        if self.session.cancel_step():
            self.notify("Cancelling the running step…", timeout=2)
        else:
            self.notify("Nothing is running")

    def action_goto_failed(self) -> None:
        step_id = self.session.failed_step_id()
        if step_id is None:
            self.notify("No step has failed")
            return
        self._follow = False
        self._auto_select(step_id)
        self.step_list.focus()

    def action_next_input(self) -> None:
        if not self.data_view.next_input():
            self.notify("This step has no other input or output to show", timeout=2)

    def action_describe(self) -> None:
        self.data_view.toggle_describe()

    def action_switch_tab(self, tab: str) -> None:
        if tab in TABS:
            self.tabs.active = tab

    async def action_filter_events(self) -> None:
        self._focus_filter_pending = True
        self.action_switch_tab("events")
        await self._ensure_tab("events")

    def action_focus_steps(self) -> None:
        """Esc: on the Data tab, first what it has to peel (a running sort, a bar, a filter), then the steps."""
        if self.pane_ready and self.tabs.active == "data" and self.loaded and self.data_view.back():
            return
        self.step_list.focus()

    def action_focus_table(self) -> None:
        """Enter / l on the step list: into the active tab (the Data table, when one is shown)."""
        if self.tabs.active == "data":
            if self.data_view.table is not None:
                self.data_view.table.focus()
            else:
                self.notify("No table to move to: this step has no frame to show", timeout=2)
            return
        view = self._tab_view(self.tabs.active)
        if view is not None and view.is_mounted:
            view.focus()

    def _data(self, done: bool, nothing: str = "No frame shown: select a step that has data") -> None:
        if not done:
            self.notify(nothing, timeout=2)

    def action_data_search(self) -> None:
        self._data(self.data_view.open_search())

    def action_next_match(self) -> None:
        self._data(self.data_view.next_match(), "No search matches: / to search")

    def action_previous_match(self) -> None:
        self._data(self.data_view.next_match(backwards=True), "No search matches: / to search")

    def action_data_where(self) -> None:
        self._data(self.data_view.open_filter())

    def action_data_frequency(self) -> None:
        self._data(self.data_view.show_frequency(), "No rows shown to count (Frequency counts the rows' columns)")

    def action_data_sort(self) -> None:
        table = self.data_view.table
        self._data(table is not None and self.data_view.mode == "rows")
        if table is not None:
            self.data_view.sort_by_column(table.cursor_column)

    def action_data_pin(self) -> None:
        self._data(self.data_view.toggle_pin(), "No rows shown: nothing to pin")

    def action_data_widen(self) -> None:
        self._data(self.data_view.toggle_wide(), "No rows shown: nothing to widen")

    def action_data_export(self) -> None:
        self._data(self.data_view.open_export())

    def action_data_diff(self) -> None:
        from osiris_tui.tui.widgets.data.diff_view import open_diff

        open_diff(self, self.session, self.selected_step_id)

    def action_help(self) -> None:
        from osiris_tui.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_request_quit(self) -> None:
        from osiris_tui.tui.screens.confirm_stop import ConfirmQuit

        if self._session is None or not self.session.busy:
            self.exit()
            return

        def answered(quit_: bool | None) -> None:
            if quit_:
                self.exit()

        self.push_screen(ConfirmQuit(self.session.running_step_id()), answered)

    async def action_quit(self) -> None:
        # ctrl+q, Textual's priority binding: the one app key that still works while a dialog is up
        from osiris_tui.tui.screens.confirm_stop import ConfirmQuit

        if not isinstance(self.screen, ConfirmQuit):  # that dialog already asks
            self.action_request_quit()

    async def action_filter_events_to_step(self) -> None:
        self.action_switch_tab("events")
        await self._ensure_tab("events")
        self.event_log.set_step_filter(self.selected_step_id)
