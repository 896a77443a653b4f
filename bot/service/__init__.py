"""The webhook service: aiohttp app, background jobs, logging, metrics."""
