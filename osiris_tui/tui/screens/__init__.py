"""Modal screens: help, quit confirmation."""
