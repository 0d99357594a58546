"""The Data tab's parts: the lazy table over a `FrameView`, the search and filter bars, the frequency
table and the export dialog. `tui/widgets/data_view.py` puts them together."""
