"""Use cases: what the bot does for an event, independent of how the event arrived.

Handlers (``bot/handlers/``) route webhooks here; these modules fetch through
:mod:`bot.github.client`, call the pure core, and write back.
"""
