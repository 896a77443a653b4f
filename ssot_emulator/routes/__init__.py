"""The emulator's REST (and GraphQL) routes, one module per resource, each on its own aiohttp
``RouteTableDef``."""

from aiohttp import web

from ssot_emulator.routes import apps, checks, contents, graphql, issues, pulls, repos

TABLES: tuple[web.RouteTableDef, ...] = (
    apps.routes, contents.routes, issues.routes, pulls.routes, checks.routes, repos.routes,
    graphql.routes)

__all__ = ["TABLES"]
