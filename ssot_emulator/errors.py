"""GitHub's error answers: :class:`HTTPError` and the JSON body every answer is sent as."""

from __future__ import annotations

import json
import uuid
from typing import Any

from aiohttp import web

DOCS = "https://docs.github.com/rest"
RATE_DOCS = f"{DOCS}/overview/rate-limits-for-the-rest-api"
JSON_TYPE = "application/json; charset=utf-8"


class HTTPError(Exception):
    def __init__(self, status: int, message: str, *, errors: list[Any] | None = None,
                 headers: dict[str, str] | None = None, doc: str = DOCS) -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {"message": message, "documentation_url": doc,
                                     "status": str(status)}
        if errors is not None:
            self.body["errors"] = errors
        self.headers = headers or {}


def not_found(doc: str = DOCS) -> HTTPError:
    return HTTPError(404, "Not Found", doc=doc)


def unprocessable(*errors: str) -> HTTPError:
    """422 as the reviews endpoint answers it: ``errors`` is a list of strings."""
    return HTTPError(422, "Unprocessable Entity", errors=list(errors))


def validation_failed(resource: str, field: str, message: str,
                      code: str = "custom") -> HTTPError:
    """422 as most endpoints answer it: ``errors`` holds objects with a ``code``."""
    return HTTPError(422, "Validation Failed", errors=[
        {"resource": resource, "code": code, "field": field, "message": message}])


def rate_limited(reset: int) -> web.Response:
    """403 as GitHub answers a request past the primary rate limit."""
    return json_response(403, {"message": "API rate limit exceeded for installation.",
                               "documentation_url": RATE_DOCS},
                         {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)})


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> web.Response:
    """``body`` as GitHub sends it (no body for 204, 302 and 304), with GitHub's own headers."""
    text = "" if status in (204, 302, 304) else json.dumps(body)
    return web.Response(status=status, text=text, headers={
        "Content-Type": JSON_TYPE, "X-GitHub-Media-Type": "github.v3; format=json",
        "X-GitHub-Request-Id": uuid.uuid4().hex[:20].upper(), **(headers or {})})


def error_response(error: HTTPError) -> web.Response:
    return json_response(error.status, error.body, error.headers)
