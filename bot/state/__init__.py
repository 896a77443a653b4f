"""Durable state of the service: the inventory's per-file cache and snapshots (:mod:`.store`)."""
