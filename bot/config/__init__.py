"""ssot.yml: schema, loading and strict validation (errors carry file:line)."""
