"""Durable state of the service (the inventory's per-file cache and snapshots)."""

from bot.state.store import FileRecord, Snapshot, SQLiteStore, StateStore, open_store

__all__ = ["FileRecord", "SQLiteStore", "Snapshot", "StateStore", "open_store"]
