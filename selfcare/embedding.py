"""The billing core embedded in the Reflex backend, or a standalone core elsewhere.

Embedded (the default): the core's FastAPI app (``backend_stub.api.app.create_app``,
configured from ``DATABASE_URL`` and ``SELFCARE_JWT_SECRET``) is built once per process
and

* mounted in the Reflex backend under :data:`CORE_PREFIX` (``/core``) by
  :func:`api_transformer` (``rx.App(api_transformer=api_transformer)``), clear of Reflex's
  own ``/_event``, ``/ping``, ``/_upload``, ``/_health`` and ``/_all_routes``; the browser
  reaches it there (the payment provider's hosted page, the PDF);
* reached in process by the app's httpx client through :func:`core_asgi_app`
  (``httpx.ASGITransport(app=core_asgi_app())``): no socket, same objects.

Standalone: with ``BILLING_API_URL`` set the app talks to that core over HTTP and mounts
nothing; ``BILLING_API_PUBLIC_URL`` (default: ``BILLING_API_URL``) is where browsers reach it.

CORS and websocket origins: Reflex wraps the whole backend, ``/core`` included, in one
CORS middleware with ``rxconfig.config.cors_allowed_origins`` (an explicit list, see
``rxconfig.py``) and gives Socket.IO the same list, so the mounted core answers
cross-origin requests only from the app's own origins.

Worker processes: the production backend forks its workers from a supervisor that has
imported the app; a core built before the fork is never reused by a child (its database
connections belong to the parent), each process builds its own.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import FastAPI
from starlette.routing import Mount, Router

from selfcare.settings import get_settings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

CORE_PREFIX = "/core"
"""Where the core's routes live in the Reflex backend (``/core/health``, ``/core/invoices``…)."""

RESERVED_PREFIXES = ("/_event", "/ping", "/_upload", "/_health", "/_all_routes")
"""Reflex's own backend routes; the core prefix must never shadow them."""

_lock = threading.Lock()
_core: tuple[int, FastAPI] | None = None  # (pid it was built in, app)


def standalone_core_url() -> str | None:
    """``BILLING_API_URL`` without a trailing slash, or None when the core is embedded."""
    return get_settings().standalone_core_url


def is_embedded() -> bool:
    """Whether this process serves the core itself (``BILLING_API_URL`` is not set)."""
    return standalone_core_url() is None


def core_asgi_app() -> FastAPI:
    """This process's core ASGI app (built on first use from the environment).

    Raises ``RuntimeError`` when ``BILLING_API_URL`` is set: the app must then use the
    standalone core over HTTP and this process holds no core.
    """
    global _core
    if not is_embedded():
        raise RuntimeError("BILLING_API_URL is set: the core is standalone; use it over HTTP, not in process")
    pid = os.getpid()
    with _lock:
        if _core is None or _core[0] != pid:
            if _core is not None:
                # Built in the parent before a fork: leave the parent's connections alone.
                _core[1].state.core.engine.dispose(close=False)
            from backend_stub.api.app import create_app

            _core = (pid, create_app())
        return _core[1]


class _CoreMount:
    """ASGI app: ``/core/...`` goes to the core, everything else (and lifespan) to Reflex."""

    def __init__(self, reflex_app: ASGIApp) -> None:
        self.reflex_app = reflex_app
        self._router: Router | None = None

    def _core_router(self) -> Router:
        if self._router is None:
            self._router = Router(routes=[Mount(CORE_PREFIX, app=core_asgi_app())], redirect_slashes=False)
        return self._router

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and _is_core_path(scope.get("path", "")):
            await self._core_router()(scope, receive, send)
            return
        await self.reflex_app(scope, receive, send)


def _is_core_path(path: str) -> bool:
    return path == CORE_PREFIX or path.startswith(CORE_PREFIX + "/")


def api_transformer(reflex_app: ASGIApp) -> ASGIApp:
    """``rx.App(api_transformer=...)``: mount the core under ``/core`` unless it is standalone.

    Called in each backend worker when the ASGI app is built; the core is built right away
    there (migrations checked, catalogue read) so the first request does not pay for it.
    """
    if not is_embedded():
        return reflex_app
    mount = _CoreMount(reflex_app)
    mount._core_router()
    return mount


def core_public_base() -> str:
    """The URL prefix under which the browser reaches the core (no trailing slash).

    ``SELFCARE_CORE_PUBLIC_URL`` wins when set. Standalone: ``BILLING_API_PUBLIC_URL`` or
    ``BILLING_API_URL``. Embedded in production mode (frontend and backend on one port):
    ``/core`` on the page's own origin. Embedded in dev mode (frontend on its own port):
    the backend's address + ``/core``.

    Open it with a full page load (``selfcare.state.browser.go_to(...)`` or a plain link), not
    ``rx.redirect``: a same-origin ``rx.redirect`` is routed inside the single-page app and never
    reaches the backend.
    """
    explicit = (get_settings().core_public_url or "").strip().rstrip("/")
    if explicit:
        return explicit
    if (standalone := standalone_core_url()) is not None:
        return (get_settings().billing_api_public_url or "").strip().rstrip("/") or standalone
    from reflex.config import get_config

    config = get_config()
    if config.frontend_port and config.frontend_port == config.backend_port:
        return CORE_PREFIX
    return config.api_url.rstrip("/") + CORE_PREFIX
