"""Data code for showing frames: how a value reads as text (`format`) and per-column summaries
(`describe`). Pure Arrow/pandas; nothing here imports Textual, so it runs in worker threads and tests
without an app."""
