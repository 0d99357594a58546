"""The histogram under the Data tab's frequency table (`F`): the cursor column's values in bins.

`ColumnHistogram(view, column)` counts in a thread worker (`osiris_tui.frames.histogram`) and then
shows a sparkline of the bins (the shape at a glance) and one line per bin: its range or period, a
bar in eighth blocks scaled to the largest bin, and the count. NULLs (and NaN) are counted on the
title line, apart from the bins; a text column says that it has no histogram.

The widget is kept from one frequency table to the next: `count(view, column)` starts over with
another column, and a count still in flight for the one before is dropped when it arrives.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Sparkline, Static

if TYPE_CHECKING:  # (numpy and pyarrow load only when a histogram is counted, not with the app)
    from osiris_tui.frames.histogram import Histogram
    from osiris_tui.frames.view import FrameView

EIGHTHS = " ▏▎▍▌▋▊▉"
BAR_STYLE = "cyan"


def bar(count: int, largest: int, width: int) -> str:
    """`count` as a bar of up to `width` cells (eighths of a cell), relative to `largest`; a count
    above 0 always shows at least an eighth."""
    if largest <= 0 or width <= 0 or count <= 0:
        return ""
    eighths = max(1, round(count * width * 8 / largest))
    full, part = divmod(eighths, 8)
    return "█" * full + (EIGHTHS[part] if part else "")


def title(hist: Histogram) -> Text:
    text = Text.assemble(("histogram", "bold magenta"), " of ", (hist.column, "bold"))
    if hist.bins:
        what = f"{len(hist.bins)} bin" + ("" if len(hist.bins) == 1 else "s")
        text.append(f" · {what}, {hist.method}", style="dim")
    if hist.nulls:
        text.append(f" · {hist.nulls:,} NULL", style="dim")
    if hist.nan:
        text.append(f" · {hist.nan:,} NaN/inf", style="dim")
    return text


def bin_lines(hist: Histogram, width: int) -> Text:
    """One line per bin: the label, the bar and the count, in `width` cells."""
    if not hist.bins:
        return Text(hist.note, style="dim italic")
    label_width = min(max(len(b.label) for b in hist.bins), max(8, width // 2))
    counts = [f"{b.count:,}" for b in hist.bins]
    count_width = max(len(c) for c in counts)
    room = max(1, width - label_width - count_width - 3)
    largest = max(b.count for b in hist.bins)
    text = Text(no_wrap=True, overflow="ellipsis")
    for i, (b, count) in enumerate(zip(hist.bins, counts, strict=True)):
        if i:
            text.append("\n")
        label = b.label if len(b.label) <= label_width else b.label[: label_width - 1] + "…"
        drawn = bar(b.count, largest, room)
        text.append(label.rjust(label_width), style="dim" if not b.count else "")
        text.append(" ")
        text.append(drawn.ljust(room), style=BAR_STYLE)
        text.append(" ")
        text.append(count.rjust(count_width), style="dim" if not b.count else "bold")
    return text


class HistogramBins(Widget):
    """The bins' lines, drawn for the width they get."""

    DEFAULT_CSS = "HistogramBins { height: auto; }"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.histogram: Histogram | None = None

    def show(self, hist: Histogram) -> None:
        self.histogram = hist
        self.refresh(layout=True)

    def clear(self) -> None:
        if self.histogram is not None:
            self.histogram = None
            self.refresh(layout=True)

    def render(self) -> Text:
        if self.histogram is None:
            return Text("counting…", style="dim")
        return bin_lines(self.histogram, self.size.width)

    def get_content_height(self, container: Any, viewport: Any, width: int) -> int:
        return max(1, len(self.histogram.bins)) if self.histogram is not None else 1


class ColumnHistogram(VerticalScroll):
    """The histogram of `column` over the rows `view` shows (computed off the UI thread)."""

    DEFAULT_CSS = """
    ColumnHistogram {
        height: auto;
        max-height: 50%;
        padding: 0 1;
        border-top: hkey $foreground 20%;
        scrollbar-size-vertical: 1;
    }
    ColumnHistogram > #histogram-title { height: 1; }
    ColumnHistogram > Sparkline { height: 1; margin-bottom: 1; }
    """

    class Counted(Message):
        def __init__(self, token: int, result: Histogram | None, error: str | None = None) -> None:
            super().__init__()
            self.token = token
            self.result = result
            self.error = error

    def __init__(self, view: FrameView | None, column: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.view = view
        self.column = column
        self.histogram: Histogram | None = None
        self.error: str | None = None
        self._token = 0  # of the count shown (or in flight)
        self._title = Static(self._counting(column), id="histogram-title")
        self._sparkline = Sparkline([], id="histogram-sparkline")
        self._sparkline.display = False
        self.bins = HistogramBins(id="histogram-bins")

    def compose(self) -> ComposeResult:
        yield self._title
        yield self._sparkline
        yield self.bins

    def on_mount(self) -> None:
        if self.view is not None:
            self._count(self._token, self.view, self.column)

    @staticmethod
    def _counting(column: str) -> Text:
        return Text.assemble(("histogram", "bold magenta"), " of ", (column, "bold"), (" · counting…", "dim"))

    def count(self, view: FrameView, column: str) -> None:
        """Start over: the histogram of `column` over `view`, as a new widget would show it."""
        self.forget()
        self.view, self.column = view, column
        self._title.update(self._counting(column))
        self.scroll_home(animate=False, immediate=True)
        if self.is_mounted:
            self._count(self._token, view, column)

    def forget(self) -> None:
        """Drop what is shown and the count in flight (its result is ignored when it comes)."""
        self._token += 1
        self.view, self.histogram, self.error = None, None, None
        self._sparkline.display = False
        self._sparkline.data = []
        self.bins.clear()

    @work(thread=True, exclusive=True, group="osiris-histogram", description="bin a column")
    def _count(self, token: int, view: FrameView, column: str) -> None:
        from osiris_tui.frames.histogram import histogram

        try:
            self.post_message(self.Counted(token, histogram(view, column)))
        except Exception as exc:  # a type the binning does not know: say so, keep the app
            self.post_message(self.Counted(token, None, f"no histogram of {column}: {type(exc).__name__}: {exc}"))

    def on_column_histogram_counted(self, message: Counted) -> None:
        message.stop()
        if message.token != self._token:
            return  # a count for the column shown before
        if message.result is None:
            self.error = message.error
            self._title.update(Text(message.error or "", style="dim italic"))
            return
        hist = self.histogram = message.result
        self._title.update(title(hist))
        if len(hist.bins) > 1:
            self._sparkline.data = [b.count for b in hist.bins]
            self._sparkline.display = True
        self.bins.show(hist)
