"""``GET /github/app-manifest``: the page where GitHub's manifest flow lands.

GitHub's flow (docs: "Registering a GitHub App from a manifest"): a form posts the manifest
(``ssot-bot manifest --url``) to GitHub; the user names the App and creates it; GitHub redirects
to the manifest's ``redirect_url`` with a one-time ``code`` (valid for an hour); the code is
exchanged with ``POST /app-manifests/{code}/conversions`` for the App's id, webhook secret and
private key. This page does both ends:

- without ``code``: a page with the form that starts the flow for this service's own URL
  (the manifest of ``app.yaml``, its webhook and redirect URLs on the host the page was asked
  for), on GitHub or on the GitHub Enterprise Server of ``GITHUB_API_URL``;
- with ``code``: the exchange, then the settings to deploy (``APP_ID``, ``WEBHOOK_SECRET``,
  ``PRIVATE_KEY`` base64-encoded) and the link that installs the App. The code works once and
  only for the person who created the App, so only they see these; the page is never cached,
  and nothing of it is logged.

Everything a request brings (the code, the Host header) is checked or escaped before use.
"""

from __future__ import annotations

import base64
import html
import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from aiohttp import web

from bot.manifest import MANIFEST_REDIRECT_PATH, build_manifest

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.Response]]

_CODE = re.compile(r"[A-Za-z0-9_-]{1,128}")
_HOST = re.compile(r"[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?")
_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                               "form-action https: http:",
}


def github_web_url(api_url: str) -> str:
    """Where people use GitHub, from the REST root: github.com, or the GHES host."""
    api = api_url.rstrip("/")
    if api == "https://api.github.com":
        return "https://github.com"
    return api.removesuffix("/api/v3")


def _page(title: str, body: str, status: int = 200) -> web.Response:
    text = (
        "<!doctype html><html lang=en><meta charset=utf-8>"
        f"<title>{html.escape(title)}</title>"
        "<style>body{font:15px/1.5 system-ui,sans-serif;max-width:46em;margin:2em auto;"
        "padding:0 1em}pre{background:#f4f4f4;padding:1em;overflow-x:auto;"
        "white-space:pre-wrap;word-break:break-all}</style>"
        f"<h1>{html.escape(title)}</h1>{body}</html>"
    )
    return web.Response(text=text, status=status, content_type="text/html", headers=_HEADERS)


def _base_url(request: web.Request) -> str | None:
    """This service's public base URL as the browser reached it (None: an odd Host header)."""
    host = request.headers.get("X-Forwarded-Host") or request.host
    if not _HOST.fullmatch(host):
        return None
    proto = request.headers.get("X-Forwarded-Proto", request.scheme)
    return f"{'https' if proto == 'https' else 'http'}://{host}"


def manifest_page(api_url: str, webhook_path: str) -> Handler:
    """The handler of :data:`MANIFEST_REDIRECT_PATH` for a service whose REST root is
    ``api_url`` and whose webhooks arrive at ``webhook_path``."""

    async def page(request: web.Request) -> web.Response:
        code = request.query.get("code")
        if code is None:
            return _start(request, api_url, webhook_path)
        if not _CODE.fullmatch(code):
            return _page("Not a manifest code", "<p>The <code>code</code> parameter is not one "
                         "GitHub gives. Start again from this page without it.</p>", 400)
        return await _convert(code, api_url)

    return page


def _start(request: web.Request, api_url: str, webhook_path: str) -> web.Response:
    base = _base_url(request)
    if base is None:
        return _page("Unknown host", "<p>The request's Host header is not a host name.</p>", 400)
    manifest = build_manifest(base, webhook_path=webhook_path)
    action = github_web_url(api_url) + "/settings/apps/new"
    body = (
        "<p>Register ssot-bot as a GitHub App for this service "
        f"(<code>{html.escape(base)}</code>): the button sends the manifest of "
        "<code>app.yaml</code> to GitHub, where you name the App and create it (for an "
        "organisation, use <code>/organizations/NAME/settings/apps/new</code> instead). GitHub "
        "then comes back here with the App's settings.</p>"
        f'<form action="{html.escape(action)}" method="post">'
        f'<input type="hidden" name="manifest" value="{html.escape(json.dumps(manifest))}">'
        "<button type=submit>Create the GitHub App</button></form>"
    )
    return _page("Register ssot-bot", body)


async def _convert(code: str, api_url: str) -> web.Response:
    url = f"{api_url.rstrip('/')}/app-manifests/{code}/conversions"
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session, \
                session.post(url, headers={"Accept": "application/vnd.github+json"}) as resp:
            status = resp.status
            answer: Any = await resp.json(content_type=None) if status == 201 else None
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        log.warning("manifest conversion failed", extra={"error": type(exc).__name__})
        return _page("GitHub did not answer", "<p>The code could not be exchanged (GitHub did "
                     "not answer). Reload this page to try again within the hour.</p>", 502)
    if status != 201 or not isinstance(answer, dict) or not all(
            k in answer for k in ("id", "pem", "webhook_secret")):
        log.warning("manifest conversion refused", extra={"status": status})
        return _page("The code was not accepted", "<p>GitHub did not accept the code: it works "
                     "once, within an hour of creating the App. If the App was created, find it "
                     "in your GitHub settings (Developer settings, GitHub Apps), generate a "
                     "private key and a webhook secret there; otherwise start again from "
                     f'<a href="{MANIFEST_REDIRECT_PATH}">this page</a>.</p>', 400)
    log.info("manifest converted", extra={"app_id": answer["id"]})
    pem = str(answer["pem"]).encode()
    settings = (
        f"APP_ID={int(answer['id'])}\n"
        f"WEBHOOK_SECRET={answer['webhook_secret']}\n"
        f"PRIVATE_KEY={base64.b64encode(pem).decode()}\n"
    )
    install = str(answer.get("html_url") or "")
    link = (f'<p>Then <a href="{html.escape(install)}/installations/new">install the App</a> on '
            "the repositories it should review.</p>") if install.startswith("http") else ""
    name = str(answer.get("name") or answer.get("slug") or "ssot-bot")
    body = (
        f"<p>The GitHub App <b>{html.escape(name)}</b> is registered. Put these settings in the "
        "service's environment (or its <code>.env</code> file) and restart it. They are shown "
        "once: GitHub will not give this private key again (you can generate another in the "
        "App's settings).</p>"
        f"<pre>{html.escape(settings)}</pre>{link}"
    )
    return _page("GitHub App registered", body)
