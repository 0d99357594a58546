"""A light tab strip over the tabs' views (Textual's TabbedContent cost more than half of startup).

`TabStrip` is one widget drawing two lines: the labels ("1 Data  2 Config …", the active one bright)
and an underline with the active tab's part highlighted. A click on a label posts `TabStrip.Clicked`;
the hover highlights the label under the mouse. It never takes the focus (keys 1 to 5 switch tabs).

`TabView` holds the strip and the views. Setting `active` shows a view and posts
`TabView.TabActivated`, which the app uses to mount a tab's view the first time it is shown.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import AwaitMount, Widget

BAR = "━"
HALF_LEFT = "╺"
HALF_RIGHT = "╸"


class TabStrip(Widget):
    """The labels and the underline; `active` is the id of the highlighted tab."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "tab-strip--tab", "tab-strip--active", "tab-strip--hover", "tab-strip--bar", "tab-strip--bar-active",
    }

    DEFAULT_CSS = """
    TabStrip {
        width: 1fr;
        height: 2;
        & > .tab-strip--tab { color: $foreground 50%; }
        & > .tab-strip--active { color: $foreground; }
        & > .tab-strip--hover { color: $foreground; }
        & > .tab-strip--bar { color: $foreground 10%; }
        & > .tab-strip--bar-active { color: $block-cursor-background; }
        &:ansi {
            & > .tab-strip--tab { text-style: dim; }
            & > .tab-strip--active { text-style: not dim bold; }
            & > .tab-strip--bar { color: $border-blurred; }
        }
    }
    """

    active: reactive[str] = reactive("", layout=False)
    hover: reactive[str | None] = reactive(None, layout=False)

    @dataclass
    class Clicked(Message):
        tab: str

    def __init__(self, tabs: Sequence[tuple[str, str]], active: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.tabs = list(tabs)  # (id, label)
        self._spans: list[tuple[str, int, int]] = []  # (id, start, end) of each label, padding included
        x = 0
        for tab_id, label in self.tabs:
            width = len(label) + 2
            self._spans.append((tab_id, x, x + width))
            x += width
        self.set_reactive(TabStrip.active, active or (self.tabs[0][0] if self.tabs else ""))

    def span(self, tab: str) -> tuple[int, int]:
        """Where `tab`'s label is (start, end), in cells from the strip's left edge."""
        for tab_id, start, end in self._spans:
            if tab_id == tab:
                return start, end
        raise KeyError(tab)

    def tab_at(self, x: int) -> str | None:
        for tab_id, start, end in self._spans:
            if start <= x < end:
                return tab_id
        return None

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles = None

    _styles: dict[str, Style] | None = None

    def _style(self, name: str) -> Style:
        if self._styles is None:
            self._styles = {n: self.get_component_rich_style(n) for n in self.COMPONENT_CLASSES}
        return self._styles[name]

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        segments = self._labels() if y == 0 else self._bar(width) if y == 1 else []
        return Strip(segments).extend_cell_length(width, self.rich_style).crop(0, width)

    def _labels(self) -> list[Segment]:
        segments = []
        for tab_id, label in self.tabs:
            style = self._style("tab-strip--tab")
            if tab_id == self.active:
                style = self._style("tab-strip--active")
            elif tab_id == self.hover:
                style = self._style("tab-strip--hover")
            segments.append(Segment(f" {label} ", style))
        return segments

    def _bar(self, width: int) -> list[Segment]:
        rest, highlight = self._style("tab-strip--bar"), self._style("tab-strip--bar-active")
        try:
            start, end = self.span(self.active)
        except KeyError:
            return [Segment(BAR * width, rest)]
        start, end = start + 1, min(end - 1, width)  # under the label, not its padding
        bar = []
        if start > 0:
            bar.append(Segment(BAR * (start - 1) + HALF_RIGHT, rest))
        bar.append(Segment(BAR * max(0, end - start), highlight))
        if end < width:
            bar.append(Segment(HALF_LEFT + BAR * (width - end - 1), rest))
        return bar

    def on_click(self, event: events.Click) -> None:
        tab = self.tab_at(event.x) if event.y == 0 or event.y == 1 else None
        if tab is not None:
            event.stop()
            self.post_message(self.Clicked(tab))

    def on_mouse_move(self, event: events.MouseMove) -> None:
        self.hover = self.tab_at(event.x)

    def on_leave(self, event: events.Leave) -> None:
        self.hover = None


class TabView(Vertical):
    """The strip and the tabs' views. `active` switches; `TabActivated` says which tab is now shown.

    A tab's view is a direct child, shown only while its tab is active. The views of the tabs not
    shown at first are mounted when first needed (`mount_view`), which keeps startup light.
    """

    DEFAULT_CSS = """
    TabView {
        height: 1fr;
    }
    """

    @dataclass
    class TabActivated(Message):
        tabs: TabView
        tab: str

    def __init__(self, tabs: Sequence[tuple[str, str]], initial: str, *,
                 views: dict[str, Widget] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.tabs = list(tabs)
        self.views: dict[str, Widget] = dict(views or {})  # tab → its view
        self._active = initial
        self.strip = TabStrip(self.tabs, active=initial, id=f"{self.id or 'tabs'}-strip")

    def compose(self) -> ComposeResult:
        yield self.strip
        if self._active in self.views:
            yield self.views[self._active]

    def mount_view(self, tab: str, view: Widget) -> AwaitMount | None:
        """Give `tab` its view (mounted now if not yet; shown only while the tab is active)."""
        self.views[tab] = view
        if view.parent is not None:
            return None
        view.display = tab == self._active
        return self.mount(view)

    @property
    def active(self) -> str:
        return self._active

    @active.setter
    def active(self, tab: str) -> None:
        if tab not in {t for t, _ in self.tabs}:
            raise ValueError(f"no tab {tab!r}")
        if tab == self._active:
            return
        with self.app.batch_update():
            old = self.views.get(self._active)
            if old is not None:
                old.display = False
            self._active = tab
            self.strip.active = tab
            new = self.views.get(tab)
            if new is not None:
                new.display = True
        self.post_message(self.TabActivated(self, tab))

    def on_tab_strip_clicked(self, message: TabStrip.Clicked) -> None:
        message.stop()
        self.active = message.tab
