"""Request validation against GitHub's official OpenAPI description (through openapi-core).

openapi-core is a test dependency: it is imported only when a description is given, so the
offline demo (which passes none) runs without it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

_CONTENTS_PREFIX = "/contents/"
_MAX_MESSAGE = 240


class _Request:
    """The request protocol openapi-core expects, built from plain values."""

    def __init__(self, method: str, path: str, query: Mapping[str, list[str]],
                 headers: Mapping[str, str], body: bytes | None, content_type: str) -> None:
        from openapi_core.datatypes import RequestParameters
        from werkzeug.datastructures import Headers, ImmutableMultiDict

        self.method = method.lower()
        self.path = path
        self.host_url = "http://emulator.invalid"
        self.full_url_pattern = self.host_url + path
        self.parameters = RequestParameters(
            query=ImmutableMultiDict([(k, v) for k, vs in query.items() for v in vs]),
            header=Headers(dict(headers)),
            cookie=ImmutableMultiDict(),
        )
        self.body = body
        self.content_type = content_type


class _Response:
    def __init__(self, status: int, headers: Mapping[str, str], body: bytes) -> None:
        from werkzeug.datastructures import Headers

        self.status_code = status
        self.headers = Headers(dict(headers))
        self.data = body
        self.content_type = "application/json"


def _openapi_path(path: str) -> str:
    """``/repos/o/r/contents/a/b.py`` -> ``/repos/o/r/contents/a%2Fb.py``: the description
    declares ``{path}`` as one segment while GitHub accepts slashes in it."""
    head, sep, rest = path.partition(_CONTENTS_PREFIX)
    if sep and head.startswith("/repos/") and head.count("/") == 3:
        return head + sep + quote(rest, safe="")
    return path


def _schema_errors(exc: BaseException) -> Iterator[str]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        for error in getattr(current, "schema_errors", None) or ():
            yield _describe(error)
        current = current.__cause__ or current.__context__


def _describe(error: Any) -> str:
    where = "/".join(str(p) for p in getattr(error, "absolute_path", ())) or "(root)"
    validator = getattr(error, "validator", None)
    instance = getattr(error, "instance", None)
    if validator == "maxItems" and isinstance(instance, list):
        message = f"{len(instance)} items, more than the maximum {error.validator_value}"
    elif validator == "maxLength" and isinstance(instance, str):
        message = f"{len(instance)} characters, more than the maximum {error.validator_value}"
    else:
        message = str(getattr(error, "message", error))
    if len(message) > _MAX_MESSAGE:
        message = message[:_MAX_MESSAGE] + "..."
    return f"{where}: {message}"


class RequestValidator:
    """Validates requests (path, query, JSON body) against an OpenAPI 3 description."""

    def __init__(self, spec: Mapping[str, Any]) -> None:
        from openapi_core import Config, OpenAPI

        # GitHub's generated description carries non-standard ``info`` keys: skip validating
        # the description itself, validate requests against it.
        self._openapi = OpenAPI.from_dict(dict(spec), config=Config(spec_validator_cls=None))
        self.paths: list[str] = list(spec.get("paths", {}))

    @classmethod
    def from_path(cls, path: str | Path) -> RequestValidator:
        return cls(json.loads(Path(path).read_text(encoding="utf-8")))

    def errors(
        self,
        method: str,
        path: str,
        query: Mapping[str, list[str]],
        headers: Mapping[str, str],
        body: bytes | None,
        content_type: str,
    ) -> list[str]:
        """Human-readable problems with the request; empty when it is valid."""
        from openapi_core.templating.paths.exceptions import (
            OperationNotFound,
            PathNotFound,
            PathsNotFound,
        )

        request = _Request(method, _openapi_path(path), query, headers, body or None,
                           content_type)
        try:
            self._openapi.validate_request(request)
        except (PathNotFound, PathsNotFound):
            return ["endpoint not in the OpenAPI description"]
        except OperationNotFound:
            return [f"method {method.upper()} not in the OpenAPI description for this path"]
        except Exception as exc:  # openapi-core's validation errors share no narrower base
            details = list(_schema_errors(exc))
            summary = str(exc).split(":", 1)[0] if details else str(exc)
            if not details and exc.__cause__ is not None:
                summary = f"{summary}: {exc.__cause__}"
            if len(summary) > _MAX_MESSAGE:
                summary = summary[:_MAX_MESSAGE] + "..."
            return [f"{summary}: {d}" for d in details] if details else [summary]
        return []

    def response_errors(
        self,
        method: str,
        path: str,
        query: Mapping[str, list[str]],
        status: int,
        headers: Mapping[str, str],
        body: bytes,
    ) -> list[str]:
        """Problems with an answer against the description's response schema for its status
        (a self-check of the emulator; statuses the description does not list are skipped)."""
        request = _Request(method, _openapi_path(path), query, {}, None, "")
        try:
            self._openapi.validate_response(request, _Response(status, headers, body))
        except Exception as exc:  # openapi-core's validation errors share no narrower base
            # OpenAPI 3.0 quirk: a ``nullable`` enum without null in it rejects the nulls
            # GitHub really sends (conclusion, state_reason, start_side); not a shape error
            details = [d for d in _schema_errors(exc) if "None is not one of" not in d]
            if details:
                return details
            if list(_schema_errors(exc)):
                return []
            text = str(exc)
            if "Unknown response http status" in text or "not found" in text.lower():
                return []
            return [text[:_MAX_MESSAGE]]
        return []
