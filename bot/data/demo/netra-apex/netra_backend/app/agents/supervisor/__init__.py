"""The supervisor: builds per-request agent instances."""
