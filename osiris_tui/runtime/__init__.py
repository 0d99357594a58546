"""The headless runtime: adapter, context, cache, connections, secrets and the debug session."""
