"""StepList: the pipeline's steps in run order, with status, rows, duration, breakpoints and needs.

An OptionList (it scrolls, and handles up/down and the mouse); each step is one option whose prompt is
re-rendered only when what it shows changes. The running step's icon is a spinner, advanced by
`tick()` from the app's timer.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence

from rich.table import Table
from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from osiris_tui.manifest.model import Pipeline
from osiris_tui.runtime.session import StepState, StepStatus
from osiris_tui.tui import format as fmt
from osiris_tui.tui.messages import StepHighlighted

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"

ICONS: dict[StepState, tuple[str, str]] = {
    StepState.PENDING: ("·", "dim"),
    StepState.RUNNING: ("", "bold yellow"),  # spinner
    StepState.PAUSED: ("▶", "bold yellow"),
    StepState.DONE: ("✓", "bold green"),
    StepState.FAILED: ("✗", "bold red"),
    StepState.SKIPPED: ("\N{EN DASH}", "dim"),
}

BREAKPOINT = "●"


def spinner_frame(now: float | None = None) -> str:
    now = time.monotonic() if now is None else now
    return SPINNER[int(now * 10) % len(SPINNER)]


class StepList(OptionList):
    """The steps; the highlighted option is the selected step.

    `StepHighlighted` is posted only when the user moves the cursor (keys or mouse), never for
    `select_step`, so the app can tell "follow the run" from "the user looked elsewhere".
    """

    def __init__(self, pipeline: Pipeline, **kwargs) -> None:
        super().__init__(**kwargs)
        self._pipeline = pipeline
        self._rendered: dict[str, tuple] = {}
        self._statuses: dict[str, StepStatus] = {}
        self._breakpoints: set[str] = set()
        self._echoes: list[str] = []  # highlights we set ourselves, whose messages are still on the way

    # -- data ------------------------------------------------------------------------------------------
    def on_mount(self) -> None:
        self._rebuild()

    def _rebuild(self) -> None:
        self._rendered.clear()
        self.set_options(Option(self._prompt(s.id), id=s.id) for s in self._pipeline.steps)

    def set_pipeline(self, pipeline: Pipeline) -> None:
        """After a restart reloaded the manifest (steps may have been added or removed)."""
        selected = self.selected_step_id
        self._pipeline = pipeline
        self._rebuild()
        if selected in pipeline.step_ids:
            self.select_step(selected)

    @property
    def step_ids(self) -> list[str]:
        return [o.id for o in self.options if o.id is not None]

    def update_steps(self, statuses: Iterable[StepStatus], breakpoints: set[str]) -> None:
        """Re-render the steps whose status or breakpoint changed."""
        self._statuses = {s.step_id: s for s in statuses}
        self._breakpoints = set(breakpoints)
        if [s.id for s in self._pipeline.steps] != self.step_ids:
            self._rebuild()
            return
        self._refresh_prompts()

    def tick(self) -> None:
        """Advance the spinner (and the live duration) of the running step."""
        if any(s.state is StepState.RUNNING for s in self._statuses.values()):
            self._refresh_prompts()

    def _refresh_prompts(self) -> None:
        for index, step in enumerate(self._pipeline.steps):
            signature = self._signature(step.id)
            if self._rendered.get(step.id) != signature:
                self.replace_option_prompt_at_index(index, self._prompt(step.id))

    def _signature(self, step_id: str) -> tuple:
        status = self._statuses.get(step_id) or StepStatus(step_id)
        live = None
        if status.state is StepState.RUNNING:
            live = (spinner_frame(), self._live_duration(status))
        return (status, step_id in self._breakpoints, live)

    @staticmethod
    def _live_duration(status: StepStatus) -> str:
        if status.state is StepState.RUNNING and status.started_at is not None:
            return fmt.duration(max(0.0, time.monotonic() - status.started_at))
        return fmt.duration(status.duration)

    # -- rendering -------------------------------------------------------------------------------------
    def _prompt(self, step_id: str) -> Table:
        self._rendered[step_id] = self._signature(step_id)
        step = self._pipeline.step(step_id)
        status = self._statuses.get(step_id) or StepStatus(step_id)
        icon, icon_style = ICONS[status.state]
        if status.state is StepState.RUNNING:
            icon = spinner_frame()
        id_style = {
            StepState.FAILED: "bold red",
            StepState.RUNNING: "bold yellow",
            StepState.PAUSED: "bold",
            StepState.DONE: "bold",
            StepState.SKIPPED: "dim strike",
        }.get(status.state, "")
        grid = Table.grid(expand=True, padding=(0, 1, 0, 0))
        grid.add_column(width=1, no_wrap=True)
        grid.add_column(width=1, no_wrap=True)
        grid.add_column(ratio=1)
        grid.add_column(justify="right", no_wrap=True)
        bp = Text(BREAKPOINT, style="bold red") if step_id in self._breakpoints else Text(" ")
        running = status.state is StepState.RUNNING
        right = Text(self._live_duration(status), style="yellow" if running else "dim")
        if status.state is StepState.FAILED:
            right = Text("failed", style="red")
        name = Text(step_id, style=id_style, no_wrap=True, overflow="ellipsis")
        grid.add_row(bp, Text(icon, style=icon_style), name, right)
        rows = Text(fmt.rows(status.rows), style="cyan") if status.rows is not None else Text("")
        grid.add_row("", "", Text(step.driver, style="dim", no_wrap=True, overflow="ellipsis"), rows)
        needs = _needs(step.upstream)
        if needs:
            grid.add_row("", "", Text("← " + needs, style="dim italic", overflow="fold"), "")
        return grid

    # -- selection -------------------------------------------------------------------------------------
    @property
    def selected_step_id(self) -> str | None:
        option = self.highlighted_option
        return option.id if option is not None else None

    def select_step(self, step_id: str) -> None:
        try:
            index = self.get_option_index(step_id)
        except Exception:
            return
        if self.highlighted != index:
            self._echoes.append(step_id)
            self.highlighted = index

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        if self._echoes and self._echoes[0] == event.option.id:
            self._echoes.pop(0)  # our own select_step, not the user
            return
        self._echoes.clear()
        if event.option.id is not None:
            self.post_message(StepHighlighted(event.option.id))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()


def _needs(upstream: Sequence[str]) -> str:
    return ", ".join(upstream)
