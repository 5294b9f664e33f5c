"""Interfaces: the CLI, the HTTP API and the map page. Nothing imports this package."""
