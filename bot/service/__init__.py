"""The webhook service: the aiohttp app, the job queue, metrics, the engine's worker processes,
and the composition of it all (:mod:`.context`)."""
