"""Netra backend (a miniature of the netra-apex repository, for ssot-bot's examples)."""
