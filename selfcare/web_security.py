"""The app's HTTP front: security headers on every page and response, and a cap on anonymous uploads.

How the pages are served: ``reflex run --env prod`` on one port serves the compiled frontend
(``.web/build/client``: one pre-rendered HTML file per route, pre-compressed ``.gz`` beside it)
from the backend's Starlette app (Reflex mounts it there when ``REFLEX_MOUNT_FRONTEND_COMPILED_APP``
is set, as ``reflex run --env prod`` does for a single port), next to ``/_event`` (Socket.IO),
``/_upload``, ``/ping`` and, embedded, the core under ``/core``. ``rx.App(api_transformer=...)``
wraps that whole app, so :func:`api_transformer` sees every HTTP response the browser gets.

* Headers: ``selfcare_common.security_headers.SecurityHeadersMiddleware`` with the page policy
  below. Each HTML page's inline scripts (React Router's hydration data and module loader, the
  theme script) are allowed by their sha256, read from the page as it is served; ``script-src`` has
  neither ``'unsafe-inline'`` nor ``'unsafe-eval'``. ``style-src 'unsafe-inline'`` stays: Emotion
  and Radix write ``<style>`` elements and ``style`` attributes at run time. The core's responses
  under ``/core`` keep the core's own policy.
* Caching (:class:`CachePolicy`): the build's hashed files under ``/assets/`` are ``immutable`` for a
  year (a new build has new names); every other answer of the front that says nothing itself (pages,
  ``lang-sync.js``, the icons and manifest) is ``no-cache``: kept, but checked with its ``ETag`` first, so
  a new build shows at once. The core's answers under ``/core`` and Reflex's own routes are left alone.
* Uploads: ``POST /_upload`` (Reflex's upload route; anyone with a websocket token can call it)
  is refused with 413 when ``Content-Length`` says more than :data:`UPLOAD_MAX_BYTES`, and cut
  off at that many bytes when the body is streamed without a length, before Reflex reads it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from urllib.parse import urlsplit

from selfcare.pages.marketing.image import MAX_IMAGE_BYTES
from selfcare_common.security_headers import ASGIApp, Message, Receive, Scope, SecurityHeadersMiddleware, Send, csp

UPLOAD_PATH = "/_upload"
UPLOAD_MAX_BYTES = MAX_IMAGE_BYTES + 64 * 1024
"""The only upload of the app is a marketing offer image (≤ 1 MiB, ``pages/marketing/image.py``); CSV
imports go to the core's API with a service token, not through ``/_upload``. 64 KiB more is room
for the multipart framing and the bound event arguments."""


def _origin(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme in ("http", "https") and parts.netloc:
        return f"{parts.scheme}://{parts.netloc}"
    return None


def _socket_origin(origin: str) -> str:
    return "ws" + origin[4:] if origin.startswith("http") else origin


def page_policy(api_url: str = "", core_url: str = "") -> Callable[[Scope, list[str]], str]:
    """The CSP of the app's HTML pages. ``api_url``: the backend's address when it is not the page's own
    (Socket.IO and uploads go there); ``core_url``: a standalone core's public address (its offer
    images are shown, its payment page is navigated to)."""
    connect = ["'self'"]
    images = ["'self'", "data:", "blob:"]  # blob: the marketing console's preview of a chosen image
    if (api := _origin(api_url)) is not None:
        connect += [api, _socket_origin(api)]
    if (core := _origin(core_url)) is not None:
        connect.append(core)
        images.append(core)

    def policy(scope: Scope, hashes: list[str]) -> str:
        return csp(
            [
                ("default-src", ["'none'"]),
                ("script-src", ["'self'", *hashes]),
                ("style-src", ["'self'", "'unsafe-inline'"]),
                ("img-src", images),
                ("font-src", ["'self'", "data:"]),
                ("connect-src", connect),
                ("manifest-src", ["'self'"]),
                ("object-src", ["'none'"]),
                ("base-uri", ["'none'"]),
                ("form-action", ["'self'"]),
                ("frame-ancestors", ["'none'"]),
            ]
        )

    return policy


RESOURCE_POLICY = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'"
"""Everything that is not a page (scripts, styles, images, JSON): nothing may run in it or frame it."""


class UploadCap:
    """ASGI middleware: ``POST /_upload`` bodies larger than ``limit`` are refused before they are read."""

    def __init__(self, app: ASGIApp, *, limit: int = UPLOAD_MAX_BYTES, path: str = UPLOAD_PATH) -> None:
        self.app = app
        self.limit = limit
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path", "").rstrip("/") != self.path or scope.get("method") != "POST":
            await self.app(scope, receive, send)
            return
        length = _content_length(scope)
        if length is None and _has_header(scope, b"content-length"):
            await _too_large(send, self.limit, "Content-Length is not a number")
            return
        if length is not None and length > self.limit:
            await _too_large(send, self.limit)
            return
        received = 0
        refused = False
        started = False

        async def counted_receive() -> Message:
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    refused = True
                    if not started:
                        await _too_large(send, self.limit)
                    raise _BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the 413 is sent; Reflex's own error answer is dropped
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except _BodyTooLarge:
            pass
        except Exception:
            if not refused:
                raise


class _BodyTooLarge(Exception):
    pass


def _has_header(scope: Scope, name: bytes) -> bool:
    return any(k.lower() == name for k, _ in scope.get("headers") or [])


def _content_length(scope: Scope) -> int | None:
    for key, value in scope.get("headers") or []:
        if key.lower() == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() else None
    return None


async def _too_large(send: Send, limit: int, why: str = "") -> None:
    detail = why or f"the upload is larger than {limit} bytes"
    body = json.dumps({"detail": detail, "limit_bytes": limit}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})


ASSETS_PREFIX = "/assets/"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
_LEFT_ALONE = ("/core/", "/_event", "/_upload", "/ping", "/_health", "/_all_routes")


class CachePolicy:
    """``Cache-Control`` for the compiled frontend (see the module's docstring); a route that sets its own keeps it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path") or "")
        if scope["type"] != "http" or scope.get("method") not in ("GET", "HEAD") or path.startswith(_LEFT_ALONE):
            await self.app(scope, receive, send)
            return
        value = IMMUTABLE if path.startswith(ASSETS_PREFIX) else REVALIDATE

        async def with_policy(message: Message) -> None:
            if message["type"] == "http.response.start" and message.get("status") in (200, 203, 304):
                headers = list(message.get("headers") or [])
                if not any(k.lower() == b"cache-control" for k, _ in headers):
                    message = {**message, "headers": [*headers, (b"cache-control", value.encode())]}
            await send(message)

        await self.app(scope, receive, with_policy)


def secure(app: ASGIApp, *, api_url: str = "", core_url: str = "") -> ASGIApp:
    """``app`` behind the upload cap, the cache policy and the security headers (the headers outermost, so
    a 413 has them too)."""
    return SecurityHeadersMiddleware(
        CachePolicy(UploadCap(app)),
        html_policy=page_policy(api_url, core_url),
        other_policy=RESOURCE_POLICY,
    )


def api_transformer(reflex_app: ASGIApp) -> ASGIApp:
    """``rx.App(api_transformer=[embedding.api_transformer, web_security.api_transformer])``: the last
    transformer wraps outermost, so the core mounted under ``/core`` is behind it too."""
    from reflex.config import get_config

    from selfcare import embedding

    config = get_config()
    same_port = bool(config.frontend_port) and config.frontend_port == config.backend_port
    api_url = "" if same_port else str(config.api_url or "")
    core_url = "" if embedding.is_embedded() else embedding.core_public_base()
    return secure(reflex_app, api_url=api_url, core_url=core_url)
