"""TitleBar: the top line, as Textual's `Header` draws it (icon, title — sub-title centered), in one widget.

`Header` is four widgets that watch the app and the screen; it costs more than the rest of the first
screen's top line is worth. This draws the same line: the icon in the first 8 cells (clicking it opens
the command palette), the title and the dim sub-title centered between it and 10 blank cells on the right,
cut with `…` when they do not fit.
"""

from __future__ import annotations

from typing import Any

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.strip import Strip
from textual.widget import Widget

ICON_CELLS = 8  # as Header's icon: padding 1, the icon, the rest blank
RIGHT_CELLS = 10  # as Header's clock space


class TitleBar(Widget):
    DEFAULT_CSS = """
    TitleBar {
        dock: top;
        width: 100%;
        height: 1;
        background: $panel;
        color: $foreground;
    }
    """

    def __init__(self, icon: str = "◆", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.icon = icon

    def on_mount(self) -> None:
        self.watch(self.app, "title", self._retitle, init=False)
        self.watch(self.app, "sub_title", self._retitle, init=False)

    def _retitle(self) -> None:
        self.refresh()

    def render_line(self, y: int) -> Strip:
        """The line in the pieces Header's four widgets make of it (so that it draws the same)."""
        width = self.size.width
        style = self.rich_style
        room = max(0, width - ICON_CELLS - RIGHT_CELLS)
        title = self.app.format_title(self.app.title, self.app.sub_title)
        if title.cell_length > room:
            title = title.truncate(room, ellipsis=True)
        left = (room - title.cell_length) // 2
        right = room - left - title.cell_length
        padding = Style(bgcolor=style.bgcolor)  # (a widget's padding has its background, no colour)
        fill = style + Style(reverse=False)  # (as Textual fills and aligns content)
        pieces = [Segment(" ", padding), Segment(self.icon, style),
                  Segment(" " * max(0, ICON_CELLS - 2 - len(self.icon)), fill), Segment(" ", padding)]
        if left:
            pieces.append(Segment(" " * left, fill))
        base, x = self.visual_style, 0
        for text, text_style in title.render(base, end=""):  # (with offsets, as Textual draws content)
            pieces.append(Segment(text, (base + text_style).rich_style_with_offset(x, 0)))
            x += len(text)
        if right:
            pieces.append(Segment(" " * right, fill))
        pieces += [Segment(" ", padding), Segment("", style), Segment(" " * (RIGHT_CELLS - 1), padding)]
        return Strip(pieces).crop(0, width) if y == 0 else Strip.blank(width, style)

    async def on_click(self, event: events.Click) -> None:
        if event.x < ICON_CELLS:
            event.stop()
            await self.run_action("app.command_palette")
