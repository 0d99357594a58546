"""Editing a pipeline where it is written: find the file and the place a step's value comes from, rewrite
that one value (JSON, YAML, OML) keeping every other byte, atomically with one level of undo, and type the
parameters of OML pipelines. No UI code: the Config tab and its editor call into this package."""
