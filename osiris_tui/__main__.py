from osiris_tui.cli import run

run()
