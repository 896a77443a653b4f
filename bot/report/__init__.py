"""Violations -> what people read: local formats (text, JSON, SARIF, workflow commands) and the
GitHub check run and review. Pure functions over engine results."""
