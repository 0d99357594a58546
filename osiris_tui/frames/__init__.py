"""Data code for showing and exploring frames: how a value reads as text (`format`, `text`), per-column
summaries (`describe`), views with filters and sorts (`view`, `sql`), `search`, `frequency` and
`export` (with `to_arrow`, the one pandas -> Arrow conversion). Pure Arrow/DuckDB/pandas; nothing here
imports Textual, so it runs in worker threads and tests without an app."""
