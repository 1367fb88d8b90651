"""HTTP API, event consumer wiring and CLI."""
