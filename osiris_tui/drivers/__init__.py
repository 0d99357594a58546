"""Drivers: one module per family, looked up by name in the registry."""
