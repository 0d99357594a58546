"""The Data tab's parts; `tui/widgets/data_view.py` (`DataView`) puts them together.

- `frames`: which frames a step has (output, cached inputs) and what is kept of those opened;
- `header`: the frame's lead and shape lines, its columns line, the filter banner;
- `modes`: what the table shows (rows, Describe, frequency) and the table widget for each;
- `table`: the lazy table over a `FrameView` and its backends;
- `operations`: sort, filter, search, frequency and Describe, run off the UI thread;
- `search_bar`, `search_state`: the search typed and the matches moved through;
- `filter_bar`, `frequency_view`, `export_screen`, `status`: the filter bar, the frequency table's
  layout, the export dialog and the status line.
"""
