"""EventLog: the run's events and metrics, live, filterable, one line per record.

Built for floods (cf. Toolong): the app hands over batches already coalesced on a timer; each batch is
formatted once into plain line strings, filtered incrementally (only the new records are tested), and
appended to a bounded window of matching lines. The lines themselves live in a virtual list
(`EventLines`, a `ScrollView` with the Line API) that styles and renders only the rows on screen, so
100k records cost about what building their strings costs. A filter change re-scans the stored lines
once, after a short debounce, never inside `add_records`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

from rich.style import Style
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.containers import Horizontal, Vertical
from textual.geometry import Size
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.timer import Timer
from textual.widgets import Checkbox, Input, Select, Static

from osiris_tui.frames import format as vf
from osiris_tui.runtime.records import LogRecord, Record, StateChange
from osiris_tui.tui import format as fmt

MAX_VIEW_LINES = 10_000  # matching lines kept scrollable; older ones drop off the top
MAX_RECORDS = 1_000_000  # records kept for re-filtering
FILTER_DEBOUNCE = 0.15

# Columns: time, name, step, then the fields. Every line of a log has the same column widths, so
# the columns align: the name column fits the longest name known for the pipeline (the runtime's
# longest event names, each step's duration metric) within bounds, the step column its longest id;
# anything longer is cut in the middle ("connection_res…_complete"), keeping both ends readable.
TIME_W = 12
NAME_W_MIN, NAME_W_MAX = 24, 28
STEP_W_MIN, STEP_W_MAX = 4, 20
KNOWN_NAMES = ("connection_resolve_complete", "connection_resolve_start", "adapter_prepare_complete",
               "◆ rows_written")
_NAME_AT = TIME_W + 1

# Fields not worth a column in a one-line summary.
# `session_id` repeats the run id on Osiris's run-level events; `metadata` is collect_complete's bulky dict.
_SKIP = {"ts", "session", "event", "metric", "kind", "step_id", "value", "unit", "tags", "traceback",
         "session_id", "metadata"}
# The fields that matter most come first (a narrow pane cuts the end of the line), paths and drivers last.
_FIRST = {"error": 0, "message": 1, "reason": 2, "ok": 3, "rows": 4, "rows_written": 5, "duration": 6,
          "status": 7, "from_step": 8}
_LAST = {"driver", "path", "output_dir", "artifact_type", "session_dir", "manifest_path"}
_PATH_KEYS = {"path", "output_dir", "session_dir", "manifest_path", "cfg_path", "file", "dir", "destination",
              "source", "source_base"}
_MAX_VALUE = 80

TYPE_ALL, TYPE_EVENTS, TYPE_METRICS, TYPE_ERRORS = "all", "events", "metrics", "errors"
TYPE_OPTIONS = [("all", TYPE_ALL), ("events", TYPE_EVENTS), ("metrics", TYPE_METRICS), ("errors", TYPE_ERRORS)]

# category -> style of the name column
STYLES: dict[str, Style] = {
    "error": Style(color="red", bold=True),
    "step": Style(color="green"),
    "connection": Style(color="cyan"),
    "run": Style(color="blue", bold=True),
    "io": Style(color="yellow"),
    "metric": Style(color="magenta"),
    "other": Style(),
}
_TIME_STYLE = Style(dim=True)
_STEP_STYLE = Style(bold=True)


def format_time(ts: Any) -> str:
    """`2025-11-01T10:00:00.123Z` → `10:00:00.123` (tests replace this to make snapshots stable)."""
    text = str(ts or "")
    return text[11:23] if len(text) >= 23 and text[10] == "T" else text[:12]


def format_duration(seconds: Any) -> str:
    """Seconds exactly as recorded (through `fmt.seconds`, which snapshot tests may replace)."""
    try:
        value = float(seconds)
    except (TypeError, ValueError):
        return str(seconds)
    return fmt.seconds(value)


def category(kind: str, name: str, record: Mapping[str, Any]) -> str:
    if kind == "metric":
        return "metric"
    if "error" in name or "failed" in name or record.get("ok") is False or name == "rerun_refused":
        return "error"
    if name.startswith("step_"):
        return "step"
    if name.startswith("connection_"):
        return "connection"
    if name.startswith(("run_", "adapter_", "execute", "cleanup", "collect", "execution_")):
        return "run"
    if name.startswith(("write.", "ddl", "table.", "inputs_", "artifact", "cfg_")):
        return "io"
    return "other"


def fit_middle(text: str, width: int) -> str:
    """`text` in at most `width` characters: cut in the middle with "…" when longer."""
    if len(text) <= width:
        return text
    if width <= 1:
        return "…"[:width]
    tail = (width - 1) // 2
    return text[: width - 1 - tail] + "…" + text[len(text) - tail:]


def _step_of(record: Mapping[str, Any]) -> str:
    step = record.get("step_id")
    if step is None and isinstance(record.get("tags"), dict):
        step = record["tags"].get("step")
    return "" if step is None else str(step)


class Entry:
    """One formatted record: what filtering and rendering need, nothing else."""

    __slots__ = ("category", "is_error", "kind", "name_len", "seq", "step", "step_at", "step_len", "text")

    def __init__(self, seq: int, kind: str, step: str, text: str, cat: str, name_len: int,
                 step_at: int = 0, step_len: int = 0) -> None:
        self.seq = seq
        self.kind = kind
        self.step = step
        self.text = text
        self.category = cat
        self.is_error = cat == "error"
        self.name_len = name_len  # the name as shown (maybe cut), from _NAME_AT
        self.step_at = step_at  # where the step column starts, and the length of the id shown there
        self.step_len = step_len


class LineFormatter:
    """Turns a record (masked at its source and by the screen guard) into its one-line summary."""

    def __init__(self, base_dir: Path | None = None, step_ids: Iterable[str] = ()) -> None:
        self.base = str(base_dir).rstrip("/") + "/" if base_dir is not None else None
        step_ids = list(step_ids)
        self.step_w = min(STEP_W_MAX, max([STEP_W_MIN, *(len(s) for s in step_ids)]))
        known = [*KNOWN_NAMES, *(f"◆ step_{s}_duration" for s in step_ids)]
        self.name_w = min(NAME_W_MAX, max([NAME_W_MIN, *(len(n) for n in known)]))
        self.step_at = _NAME_AT + self.name_w + 1

    def _value(self, key: str, value: Any) -> str:
        if key in ("duration", "duration_seconds", "total_duration") or key.endswith("_seconds"):
            return format_duration(value)
        if key == "end_time":
            return format_time(value)
        # a float (or Decimal) reads exactly, as in the Data tab: 0.1234, not a rounded 0.123
        text = vf.plain(value) if isinstance(value, float | Decimal) else str(value)
        if self.base and key in _PATH_KEYS and (text + "/").startswith(self.base):
            text = text[len(self.base):] or "."
        text = text.replace("\n", " ⏎ ")
        if len(text) > _MAX_VALUE:
            text = text[: _MAX_VALUE - 1] + "…"
        return text

    def fields(self, kind: str, record: Mapping[str, Any]) -> str:
        parts: list[str] = []
        if kind == "metric":
            value = record.get("value")
            unit = record.get("unit")
            shown = format_duration(value) if unit == "seconds" else self._value("value", value)
            parts.append(f"= {shown}" + (f" {unit}" if unit and unit != "seconds" else ""))
        keys = [k for k in record if k not in _SKIP and record[k] is not None and record[k] != ""]
        keys.sort(key=lambda k: _FIRST.get(k, 50 if k not in _LAST else 99))  # stable: the rest keep their order
        for key in keys:
            parts.append(f"{key}={self._value(key, record[key])}")
        return "  ".join(parts)

    def line(self, seq: int, record: LogRecord) -> Entry:
        kind, name, data = record.kind, record.name, record.data
        step = _step_of(data)
        cat = category(kind, name, data)
        time = format_time(data.get("ts"))
        label = fit_middle(name if kind == "event" else f"◆ {name}", self.name_w)
        shown_step = fit_middle(step, self.step_w)
        text = (f"{time:<{TIME_W}.{TIME_W}} {label:<{self.name_w}} {shown_step:<{self.step_w}} "
                f"{self.fields(kind, data)}")
        text = text.rstrip()
        return Entry(seq, kind, step, text, cat, len(label), self.step_at, len(shown_step))


class EventLines(ScrollView, can_focus=True):
    """A virtual list of lines: only the visible rows are styled and rendered."""

    DEFAULT_CSS = """
    EventLines {
        height: 1fr;
        background: $surface;
        scrollbar-gutter: stable;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "scroll_up", "Up", show=False),
        Binding("down", "scroll_down", "Down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("left", "scroll_left", "Left", show=False),
        Binding("right", "scroll_right", "Right", show=False),
        Binding("home", "scroll_home", "Top", show=False),
        Binding("end", "follow", "Follow", show=False),
    ]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.entries: list[Entry] = []
        self._width = 0
        self.following = True  # stick to the tail until the user scrolls up
        self._cache: LRUCache[int, Strip] = LRUCache(512)

    @property
    def line_count(self) -> int:
        return len(self.entries)

    def set_entries(self, entries: list[Entry]) -> None:
        self.entries = entries
        self._cache.clear()
        self._width = max((len(e.text) for e in entries[-2000:]), default=0)
        self.virtual_size = Size(self._width, len(entries))
        self.follow()
        self.refresh()

    def follow(self) -> None:
        """Jump to the tail and keep following it."""
        self.following = True
        # force: the scrollbars of a just-grown virtual size are only known after the next layout
        self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True, force=True)
        # ... and a horizontal scrollbar that appears then takes a row: go to the tail again after it.
        self.call_after_refresh(self._refollow)

    def _refollow(self) -> None:
        if self.following and self.scroll_offset.y < self.max_scroll_y:
            self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True, force=True)

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self.following = round(new_value) >= self.max_scroll_y

    def append(self, new: list[Entry], max_lines: int) -> None:
        if not new:
            return
        follow = self.following and not self.is_vertical_scrollbar_grabbed
        self.entries.extend(new)
        removed = 0
        if len(self.entries) > max_lines + max_lines // 10:
            removed = len(self.entries) - max_lines
            del self.entries[:removed]
        self._width = max(self._width, max(len(e.text) for e in new))
        self.virtual_size = Size(self._width, len(self.entries))
        if follow:
            self.follow()
        elif removed:
            self.scroll_to(y=max(0, self.scroll_offset.y - removed), animate=False, immediate=True, force=True)
        self.refresh()

    def action_follow(self) -> None:
        self.follow()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._cache.clear()

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.size.width
        rich_style = self.rich_style
        if index >= len(self.entries):
            return Strip.blank(width, rich_style)
        entry = self.entries[index]
        strip = self._cache.get(entry.seq)
        if strip is None:
            strip = self._render_entry(entry, rich_style)
            self._cache[entry.seq] = strip
        return strip.crop_extend(scroll_x, scroll_x + width, rich_style).apply_offsets(scroll_x, index)

    def _render_entry(self, entry: Entry, base: Style) -> Strip:
        text = Text(entry.text, no_wrap=True, end="")
        text.stylize(base)
        text.stylize(_TIME_STYLE, 0, TIME_W)
        text.stylize(STYLES[entry.category], _NAME_AT, _NAME_AT + entry.name_len)
        if entry.step_len:
            text.stylize(_STEP_STYLE, entry.step_at, entry.step_at + entry.step_len)
        if entry.is_error:
            text.stylize(Style(color="red"), _NAME_AT + entry.name_len)
        return Strip(text.render(self.app.console), text.cell_len)


class EventLog(Vertical):
    """Events and metrics of the run: all steps or the selected one, filterable, following the tail."""

    DEFAULT_CSS = """
    EventLog {
        height: 1fr;
    }
    EventLog > #event-log-bar {
        height: 1;
        width: 1fr;
    }
    EventLog #event-filter {
        width: 1fr;
        min-width: 16;
    }
    EventLog #event-type {
        width: 14;
        margin: 0 1;
    }
    EventLog #event-only-step {
        width: auto;
    }
    EventLog > #event-log-status {
        height: 1;
        color: $text-muted;
        padding: 0 1;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "focus_filter", "Filter", show=False, id="event_log.filter"),
        Binding("a", "toggle_step_only", "All/selected step", show=False, id="event_log.toggle_step"),
        Binding("k", "cycle_type", "Kind", show=False, id="event_log.cycle_type"),
        Binding("f", "follow", "Follow tail", show=False, id="event_log.follow"),
    ]

    only_selected: reactive[bool] = reactive(False, init=False)
    type_filter: reactive[str] = reactive(TYPE_ALL, init=False)
    text_filter: reactive[str] = reactive("", init=False)

    def __init__(
        self, session: Any, *, max_lines: int = MAX_VIEW_LINES, load_history: bool = True, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.session = session
        self._ready = False
        self.max_lines = max_lines
        self.records: list[Entry] = []
        self._seq = 0
        self._step: str | None = None  # the selected step
        self._step_filter: str | None = None  # what "only selected step" filters on
        self._terms: list[str] = []
        self._matching = 0
        self._debounce: Timer | None = None
        self._load_history = load_history
        self._last_seq = 0  # the newest record shown: the app's batches may repeat what the history had
        pipeline = getattr(session, "pipeline", None)
        self.formatter = LineFormatter(getattr(pipeline, "base_dir", None), getattr(pipeline, "step_ids", ()))

    # -- layout --------------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        with Horizontal(id="event-log-bar"):
            yield Input(placeholder="filter…  ( / )", id="event-filter", compact=True)
            yield Select(TYPE_OPTIONS, value=TYPE_ALL, allow_blank=False, id="event-type", compact=True)
            yield Checkbox("only selected step (a)", id="event-only-step", compact=True)
        yield EventLines(id="event-lines")
        yield Static("", id="event-log-status")

    def on_mount(self) -> None:
        self._ready = True
        if self._load_history and self.session is not None:
            self._ingest_history()
        self._update_status()

    @property
    def lines(self) -> EventLines:
        return self.query_one(EventLines)

    # -- the interface the app uses ------------------------------------------------------------------
    def add_records(self, records: Iterable[Record]) -> None:
        """Append a batch of records (state changes are ignored; records already shown are skipped)."""
        new = self._ingest(records)
        if new:
            self._show_new(new)

    def reset(self) -> None:
        """A new run (restart): forget every record and read the session's new history."""
        self.records = []
        self._matching = 0
        self._last_seq = 0
        pipeline = getattr(self.session, "pipeline", None)
        self.formatter = LineFormatter(getattr(pipeline, "base_dir", None), getattr(pipeline, "step_ids", ()))
        if not self._ready:
            return
        self.lines.set_entries([])
        if self._load_history and self.session is not None:
            self._ingest_history()
        self._update_status()

    def focus_filter(self) -> None:
        self.query_one("#event-filter", Input).focus()

    def set_step_filter(self, step_id: str | None) -> None:
        """Show only `step_id`'s records (None: every step)."""
        self._step = step_id
        self._step_filter = step_id
        with self.prevent(Checkbox.Changed):
            self.query_one("#event-only-step", Checkbox).value = step_id is not None
        self.set_reactive(EventLog.only_selected, step_id is not None)
        self.refilter()

    def show_step(self, step_id: str | None) -> None:
        """The selected step changed; it matters only while showing the selected step only."""
        if step_id == self._step:
            return
        self._step = step_id
        if self.only_selected:
            self._step_filter = step_id
            self.refilter()
        else:
            self._update_status()

    # -- ingestion -----------------------------------------------------------------------------------
    def _ingest_history(self) -> None:
        stream = getattr(self.session, "stream", None)
        new = self._ingest(list(stream.history) if stream is not None else [])
        if new:
            self._show_new(new)

    def _ingest(self, records: Iterable[Record]) -> list[Entry]:
        line = self.formatter.line
        new: list[Entry] = []
        seq = self._seq
        last = self._last_seq
        for record in records:
            if record.seq <= last or isinstance(record, StateChange):  # seen already (history), or not a log line
                continue
            last = record.seq
            new.append(line(seq, record))
            seq += 1
        self._seq = seq
        self._last_seq = last
        self.records.extend(new)
        if len(self.records) > MAX_RECORDS + MAX_RECORDS // 10:
            del self.records[: len(self.records) - MAX_RECORDS]
        return new

    def _show_new(self, new: list[Entry]) -> None:
        matching = [e for e in new if self._matches(e)] if self._filtering else new
        self._matching += len(matching)
        if matching and self._ready:
            self.lines.append(matching, self.max_lines)
        self._update_status()

    # -- filtering -----------------------------------------------------------------------------------
    @property
    def _filtering(self) -> bool:
        return bool(self._terms) or self.type_filter != TYPE_ALL or self.only_selected

    def _matches(self, entry: Entry) -> bool:
        if self.only_selected and entry.step != (self._step_filter or ""):
            return False
        kind = self.type_filter
        if kind == TYPE_EVENTS and entry.kind != "event":
            return False
        if kind == TYPE_METRICS and entry.kind != "metric":
            return False
        if kind == TYPE_ERRORS and not entry.is_error:
            return False
        if self._terms:
            text = f"{entry.text} {entry.step}".lower()  # the whole step id, also where the line cuts it
            return all(term in text for term in self._terms)
        return True

    def refilter(self) -> None:
        """Re-scan every stored record against the current filters and re-render the window."""
        if self._debounce is not None:
            self._debounce.stop()
            self._debounce = None
        if self._ready:  # the Input is the truth (its Changed message may not have arrived yet)
            self._terms = self._split(self.query_one("#event-filter", Input).value)
        matching = [e for e in self.records if self._matches(e)] if self._filtering else list(self.records)
        self._matching = len(matching)
        if self._ready:
            self.lines.set_entries(matching[-self.max_lines:])
        self._update_status()

    def _schedule_refilter(self) -> None:
        if self._debounce is not None:
            self._debounce.stop()
        self._debounce = self.set_timer(FILTER_DEBOUNCE, self.refilter)

    @on(Input.Changed, "#event-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.text_filter = event.value

    @on(Input.Submitted, "#event-filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.refilter()  # apply at once
        self.lines.focus()

    def watch_text_filter(self, value: str) -> None:
        self._terms = self._split(value)
        self._schedule_refilter()

    @staticmethod
    def _split(value: str) -> list[str]:
        return [t for t in value.lower().split() if t]

    @on(Select.Changed, "#event-type")
    def _type_changed(self, event: Select.Changed) -> None:
        event.stop()
        if event.value != self.type_filter and isinstance(event.value, str):
            self.type_filter = event.value

    def watch_type_filter(self, value: str) -> None:
        select = self.query_one("#event-type", Select)
        if select.value != value:
            with self.prevent(Select.Changed):
                select.value = value
        self.refilter()

    @on(Checkbox.Changed, "#event-only-step")
    def _only_changed(self, event: Checkbox.Changed) -> None:
        event.stop()
        self.only_selected = event.value

    def watch_only_selected(self, value: bool) -> None:
        checkbox = self.query_one("#event-only-step", Checkbox)
        if checkbox.value != value:
            with self.prevent(Checkbox.Changed):
                checkbox.value = value
        self._step_filter = self._step if value else None
        self.refilter()

    # -- actions -------------------------------------------------------------------------------------
    def action_focus_filter(self) -> None:
        self.focus_filter()

    def action_toggle_step_only(self) -> None:
        self.only_selected = not self.only_selected

    def action_cycle_type(self) -> None:
        values = [v for _, v in TYPE_OPTIONS]
        self.type_filter = values[(values.index(self.type_filter) + 1) % len(values)]

    def action_follow(self) -> None:
        self.lines.follow()

    def on_key(self, event: Any) -> None:
        if event.key == "escape" and isinstance(self.app.focused, Input):
            event.stop()
            self.lines.focus()

    # -- status --------------------------------------------------------------------------------------
    @property
    def shown_count(self) -> int:
        return self.lines.line_count if self._ready else 0

    def _update_status(self) -> None:
        if not self._ready:
            return
        total = len(self.records)
        shown = self.lines.line_count
        scope = (
            f"step {self._step_filter}" if self.only_selected and self._step_filter
            else "no step selected" if self.only_selected else "all steps"
        )
        text = f"{self._matching:,} of {total:,} records · {scope} (a) · kind: {self.type_filter} (k)"
        if self._terms:
            text += f" · “{' '.join(self._terms)}”"
        if shown < self._matching:
            text += f" · last {shown:,} shown"
        self.query_one("#event-log-status", Static).update(Text(text))
