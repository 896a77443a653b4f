"""Regenerate ``ssot_emulator/data/openapi-subset.json`` from GitHub's official OpenAPI description.

The description is the dereferenced ``api.github.com`` document that the ``@octokit/openapi``
npm package ships (GitHub's own ``rest-api-description``, packaged). Usage::

    npm pack @octokit/openapi@23.0.2 && tar xzf octokit-openapi-23.0.2.tgz
    python scripts/openapi_subset.py package/generated/api.github.com.deref.json

Only the operations listed in ``OPERATIONS`` are kept, without prose (summaries, descriptions,
examples, documentation links), so the file stays small enough to read.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

VERSION = "23.0.2"
OUT = Path(__file__).resolve().parent.parent / "ssot_emulator" / "data" / "openapi-subset.json"

# (method, path) of every REST call the bot makes, and of every call the emulator serves.
OPERATIONS: list[tuple[str, str]] = [
    ("get", "/app"),
    ("get", "/app/installations"),
    ("post", "/app/installations/{installation_id}/access_tokens"),
    ("get", "/installation/repositories"),
    ("get", "/repos/{owner}/{repo}"),
    ("post", "/repos/{owner}/{repo}/check-runs"),
    ("get", "/repos/{owner}/{repo}/check-runs/{check_run_id}"),
    ("patch", "/repos/{owner}/{repo}/check-runs/{check_run_id}"),
    ("get", "/repos/{owner}/{repo}/collaborators/{username}/permission"),
    ("get", "/repos/{owner}/{repo}/commits/{ref}/check-runs"),
    ("get", "/repos/{owner}/{repo}/compare/{basehead}"),
    ("get", "/repos/{owner}/{repo}/contents/{path}"),
    ("get", "/repos/{owner}/{repo}/git/blobs/{file_sha}"),
    ("get", "/repos/{owner}/{repo}/git/trees/{tree_sha}"),
    ("get", "/repos/{owner}/{repo}/issues/comments/{comment_id}"),
    ("patch", "/repos/{owner}/{repo}/issues/comments/{comment_id}"),
    ("post", "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions"),
    ("get", "/repos/{owner}/{repo}/issues/{issue_number}"),
    ("patch", "/repos/{owner}/{repo}/issues/{issue_number}"),
    ("get", "/repos/{owner}/{repo}/issues/{issue_number}/comments"),
    ("post", "/repos/{owner}/{repo}/issues/{issue_number}/comments"),
    ("get", "/repos/{owner}/{repo}/pulls"),
    ("get", "/repos/{owner}/{repo}/pulls/comments/{comment_id}"),
    ("patch", "/repos/{owner}/{repo}/pulls/comments/{comment_id}"),
    ("get", "/repos/{owner}/{repo}/pulls/{pull_number}"),
    ("get", "/repos/{owner}/{repo}/pulls/{pull_number}/comments"),
    ("post", "/repos/{owner}/{repo}/pulls/{pull_number}/comments"),
    ("get", "/repos/{owner}/{repo}/pulls/{pull_number}/files"),
    ("get", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews"),
    ("post", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews"),
    ("put", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews/{review_id}"),
    ("get", "/repos/{owner}/{repo}/tarball/{ref}"),
]

_PROSE = {"summary", "description", "externalDocs", "x-github", "examples", "example"}


def _strip(node: Any, *, in_properties: bool = False) -> Any:
    """Drop prose keys, but never a schema property that happens to be named like one."""
    if isinstance(node, dict):
        return {
            key: _strip(value, in_properties=key == "properties" and not in_properties)
            for key, value in node.items()
            if in_properties or key not in _PROSE
        }
    if isinstance(node, list):
        return [_strip(item) for item in node]
    return node


def subset(full: dict[str, Any]) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for method, path in OPERATIONS:
        paths.setdefault(path, {})[method] = _strip(full["paths"][path][method])
    return {
        "info": {
            "source": "@octokit/openapi generated/api.github.com.deref.json",
            "title": "GitHub REST API, subset used by ssot-bot",
            "version": VERSION,
        },
        "openapi": full["openapi"],
        "paths": dict(sorted(paths.items())),
    }


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    full = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    OUT.write_text(json.dumps(subset(full), indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {OUT} ({len(OPERATIONS)} operations)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
