"""Security headers on every HTTP response: one ASGI middleware for the core's API and the app's pages.

Every response gets ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: no-referrer`` (invoice
links carry their token in the path: no page may leak it in a ``Referer``), a ``Permissions-Policy``
that turns off the powerful features no page here uses, ``X-Frame-Options: DENY`` and a
Content-Security-Policy with ``frame-ancestors 'none'`` (no foreign page frames ``/agent``), and
``Strict-Transport-Security`` when the request came over https. A header the route set itself is
kept.

The CSP of an HTML response is built per response by ``html_policy(scope, script_hashes)``: the
middleware reads the page (decompressing a pre-compressed one) and hashes its inline ``<script>``
elements, so ``script-src`` lists exactly the inline scripts that page carries, never
``'unsafe-inline'``. Other responses get ``other_policy``. A ``304 Not Modified`` gets no CSP: the
browser keeps the one stored with the page (a CSP without the page's hashes would replace it).
See ``docs/security.md`` ("Headers").
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import re
import zlib
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from pathlib import Path
from typing import Any

import brotli  # type: ignore[import-untyped]  # no stubs; decompress(bytes) -> bytes

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
HtmlPolicy = Callable[[Scope, list[str]], str]

PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=()"
)
HSTS = "max-age=31536000; includeSubDomains"

BASE_HEADERS: tuple[tuple[str, str], ...] = (
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("permissions-policy", PERMISSIONS_POLICY),
    ("x-frame-options", "DENY"),
)

API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
"""JSON, PDF, images: nothing in them may load or run anything, nor be framed."""

_SCRIPT = re.compile(rb"<script\b([^>]*)>(.*?)</script\s*>", re.IGNORECASE | re.DOTALL)
_SRC = re.compile(rb"\ssrc\s*=", re.IGNORECASE)


def inline_script_hashes(html: bytes) -> list[str]:
    """``'sha256-…'`` sources for every inline ``<script>`` of an HTML page, in order, without repeats.

    The hash is of the element's text exactly as written (script is a raw-text element: no entity
    decoding), which is what the browser hashes.
    """
    found: list[str] = []
    for attrs, body in _SCRIPT.findall(html):
        if _SRC.search(attrs) or not body:
            continue
        source = "'sha256-" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii") + "'"
        if source not in found:
            found.append(source)
    return found


def _decoded(body: bytes, encoding: str) -> bytes | None:
    """The page's bytes under its ``Content-Encoding`` (None when it cannot be decoded here)."""
    encoding = encoding.strip().lower()
    try:
        if encoding in ("", "identity"):
            return body
        if encoding in ("gzip", "x-gzip"):
            return gzip.decompress(body)
        if encoding == "deflate":
            return zlib.decompress(body)
        if encoding == "br":  # the build writes .br pages (rxconfig frontend_compression_formats)
            return bytes(brotli.decompress(body))
    except (OSError, zlib.error, brotli.error, EOFError):
        return None
    return None


def route_path(scope: Scope) -> str:
    """The request path inside a mounted app (``/docs`` of the core mounted under ``/core``)."""
    path = scope.get("path", "")
    root = scope.get("root_path", "")
    if root and path.startswith(root):
        return path[len(root) :] or "/"
    return path


class SecurityHeadersMiddleware:
    """ASGI middleware: the headers above on every ``http`` response; websockets pass untouched."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        html_policy: HtmlPolicy,
        other_policy: str = API_POLICY,
        extra_headers: Iterable[tuple[str, str]] = (),
    ) -> None:
        self.app = app
        self.html_policy = html_policy
        self.other_policy = other_policy
        self.extra_headers = tuple((k.lower(), v) for k, v in extra_headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = scope.get("scheme") == "https"
        start: Message | None = None
        chunks: list[bytes] = []

        async def guarded_send(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                headers = _Headers(message.get("headers") or [])
                for name, value in (*BASE_HEADERS, *self.extra_headers):
                    headers.setdefault(name, value)
                if https:
                    headers.setdefault("strict-transport-security", HSTS)
                message = {**message, "headers": headers.raw}
                status = int(message.get("status", 200))
                if status == 304 or headers.has("content-security-policy"):
                    await send(message)
                elif headers.get("content-type").lower().startswith("text/html"):
                    start = message  # the CSP needs the page's scripts: hold the start until the body is read
                else:
                    headers.setdefault("content-security-policy", self.other_policy)
                    await send({**message, "headers": headers.raw})
                return
            if start is None:
                await send(message)
                return
            if message["type"] == "http.response.pathsend":
                # The server sends the file itself (Granian's ASGI extension, used by Starlette's FileResponse).
                try:
                    body = Path(message["path"]).read_bytes()
                except OSError:
                    body = b""
                held, start = start, None
                await send(self._with_policy(scope, held, body))
                await send(message)
                return
            if message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            body = b"".join(chunks)
            held, start = start, None
            await send(self._with_policy(scope, held, body))
            await send({"type": "http.response.body", "body": body, "more_body": False})

        await self.app(scope, receive, guarded_send)

    def _with_policy(self, scope: Scope, start: Message, body: bytes) -> Message:
        """The held response start with the page's CSP (its inline scripts' hashes)."""
        headers = _Headers(start["headers"])
        page = _decoded(body, headers.get("content-encoding"))
        hashes = inline_script_hashes(page) if page else []
        headers.setdefault("content-security-policy", self.html_policy(scope, hashes))
        return {**start, "headers": headers.raw}


class _Headers:
    """ASGI raw headers (lower-case byte names), added to without repeating a name."""

    def __init__(self, raw: Iterable[tuple[bytes, bytes]]) -> None:
        self.raw = list(raw)

    def has(self, name: str) -> bool:
        key = name.encode("latin-1")
        return any(k.lower() == key for k, _ in self.raw)

    def get(self, name: str) -> str:
        key = name.encode("latin-1")
        return next((v.decode("latin-1") for k, v in self.raw if k.lower() == key), "")

    def setdefault(self, name: str, value: str) -> None:
        if not self.has(name):
            self.raw.append((name.encode("latin-1"), value.encode("latin-1")))


def csp(directives: Iterable[tuple[str, Iterable[str]]]) -> str:
    """``default-src 'none'; script-src 'self' …`` from (directive, sources) pairs."""
    return "; ".join(" ".join((name, *sources)) for name, sources in directives)


# --- the core's own HTML: the test provider's hosted pages and the API docs ---------------------------

DOCS_CDN = "https://cdn.jsdelivr.net"


def core_html_policy(docs_paths: frozenset[str]) -> HtmlPolicy:
    """The CSP of the core's HTML responses: the hosted payment pages (inline style, forms to
    themselves, no script at all) and FastAPI's ``/docs``/``/redoc`` (Swagger UI and ReDoc from
    their CDN, plus the page's one inline start-up script by hash)."""

    def policy(scope: Scope, hashes: list[str]) -> str:
        if route_path(scope) in docs_paths:
            return csp(
                [
                    ("default-src", ["'none'"]),
                    ("script-src", [DOCS_CDN, *hashes]),
                    ("style-src", [DOCS_CDN, "https://fonts.googleapis.com", "'unsafe-inline'"]),
                    ("font-src", ["https://fonts.gstatic.com"]),
                    ("img-src", ["'self'", "data:", "https://fastapi.tiangolo.com", "https://cdn.redoc.ly"]),
                    ("connect-src", ["'self'"]),
                    ("worker-src", ["blob:"]),
                    ("frame-ancestors", ["'none'"]),
                    ("base-uri", ["'none'"]),
                    ("form-action", ["'none'"]),
                ]
            )
        return csp(
            [
                ("default-src", ["'none'"]),
                ("script-src", hashes or ["'none'"]),
                ("style-src", ["'unsafe-inline'"]),
                ("img-src", ["'self'", "data:"]),
                ("frame-ancestors", ["'none'"]),
                ("base-uri", ["'none'"]),
            ]
        )

    return policy
