"""Inventory and burndown of a tracking issue (docs/behaviour.md §11)."""
