"""osiris-tui: a terminal step debugger for Osiris data pipelines."""

__version__ = "0.1.0"
