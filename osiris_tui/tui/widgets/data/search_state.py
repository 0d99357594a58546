"""The search in force on the Data tab: its matches, which one the cursor is on, and moving between them
(`n`/`N`, F3), round from the last match to the first."""

from __future__ import annotations

from dataclasses import dataclass

from osiris_tui.frames.search import Matches
from osiris_tui.tui.widgets.data.search_bar import SearchQuery


@dataclass
class SearchState:
    query: SearchQuery
    column: str | None  # the column searched (a `@` query), None: every column
    matches: Matches
    index: int | None = None  # the match the cursor was taken to

    def step(self, row: int, column: int, backwards: bool = False) -> tuple[int, bool] | None:
        """The match after (or before) cell (row, source column), and whether that went round; None:
        no match."""
        matches = self.matches
        if not len(matches):
            return None
        found = matches.previous_before(row, column) if backwards else matches.next_after(row, column)
        if found is None:
            found = len(matches) - 1 if backwards else 0
        cell = (int(matches.positions[found]), int(matches.columns[found]))
        wrapped = (cell >= (row, column)) if backwards else (cell <= (row, column))
        return int(found), wrapped

    def cell(self, index: int) -> tuple[int, int]:
        """(display row, source column) of match `index`."""
        return int(self.matches.positions[index]), int(self.matches.columns[index])
