"""``ssot-bot manifest``: the GitHub App manifest JSON, built from ``app.yaml``."""

from __future__ import annotations

import argparse
import json
import sys
from importlib import resources
from typing import Any

import yaml

WEBHOOK_PATH = "/api/github/webhooks"
# where GitHub's manifest flow comes back with the new App's code (bot/service/setup.py)
MANIFEST_REDIRECT_PATH = "/github/app-manifest"


def manifest_text() -> str:
    return (resources.files("bot") / "data" / "app.yaml").read_text(encoding="utf-8")


def build_manifest(url: str | None = None, *, webhook_path: str = WEBHOOK_PATH) -> dict[str, Any]:
    """The manifest as GitHub's manifest flow takes it; ``url`` is where the service is reached."""
    manifest: dict[str, Any] = yaml.safe_load(manifest_text())
    if url:
        base = url.rstrip("/")
        manifest["url"] = base
        manifest["hook_attributes"]["url"] = base + webhook_path
        manifest["redirect_url"] = base + MANIFEST_REDIRECT_PATH
    return manifest


def manifest_main(args: argparse.Namespace) -> int:
    url = getattr(args, "url", None)
    if url and not url.startswith(("http://", "https://")):
        print(f"ssot-bot manifest: --url must be an http(s) URL, got {url!r}", file=sys.stderr)
        return 2
    print(json.dumps(build_manifest(url), indent=2))
    return 0
