"""The prerendered HTML each page is served from: paint first, then load the app.

Reflex 0.10 prerenders one HTML file per static route at build time (React Router's ``prerender``). Two
things about those files cost a phone a second or more before anything useful shows; both are fixed
here, at build time, and the running app only picks the right file:

* **Dynamic routes** (``/invoices/[invoice_id]``, ``/i/[link_token]``) have no file of their own: the
  server answers with the SPA fallback, a shell that loads only the root module, so the page's own
  module and the components it imports are discovered and fetched one round trip after another, and
  the page paints nothing of its own frame before they arrive. :func:`prerender_dynamic_routes` adds one
  prerendered path per dynamic route (the parameter is :data:`PLACEHOLDER`) and :class:`ShellRoutes`
  serves that file for every address of the route. The address in the browser is unchanged; the client
  router reads the real parameter from it, as before.
* **Paint before the scripts run.** React Router's module loader (an inline ``<script type="module">``)
  imports the route modules and starts hydration as soon as they are in, which on a fast connection is
  before the browser's first paint: the prerendered frame (header, the page's skeleton) then only shows
  after the JavaScript has run. :func:`paint_first` rewrites that loader to wait for one frame to be
  painted (not in a hidden tab, where there is no frame to wait for) and then import the same modules
  in the same order, one module graph per task (the root's, then the page's), so that their evaluation is
  not one long task either. The ``modulepreload`` links stay, so the downloads still start at once, but at low
  priority: the HTML and the stylesheet, which are all the first paint needs, go first. The CSP allows the inline scripts by their hash, computed from the page as served
  (``web_security``), so the rewritten loader needs no exception.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from selfcare_common.security_headers import ASGIApp, Receive, Scope, Send

PLACEHOLDER = "_"
"""The parameter the dynamic routes are prerendered with (``/invoices/_``): no real id or token is ``_``."""

DYNAMIC_ROUTES = ("/invoices/[invoice_id]", "/i/[link_token]")
"""The app's routes with a parameter (``selfcare.selfcare``); ``tests/app/test_page_shells.py`` checks the list."""

STATIC_ROUTES = (
    "/login",
    "/invoices",
    "/usage",
    "/payment-method",
    "/addons",
    "/settings",
    "/agent",
    "/agent/audit",
    "/marketing",
    "/dev/outbox",
)
"""The app's other routes but ``/`` (``selfcare.selfcare``; the same test checks this list). Each is prerendered
as ``<route>/index.html``, which the static server only serves at ``<route>/``: the address without the
slash, the one every link and message uses, got a redirect first (a round trip, 300 ms or more on a
phone, before the page even starts). :class:`ShellRoutes` serves the page at both."""

_PRERENDER = '"prerender": true'
_LOADER = re.compile(
    r'(<script type="module"(?: async="")?>)(?P<body>import "(?P<manifest>[^"]+)";\s*'
    r"(?P<routes>(?:import \* as route\d+ from \"[^\"]+\";\s*)+)"
    r"(?P<assign>window\.__reactRouterRouteModules = \{[^<]*?\};)\s*"
    r'import\("(?P<entry>[^"]+)"\);)(</script>)'
)
_ROUTE_IMPORT = re.compile(r'import \* as (route\d+) from "([^"]+)";')
_WAIT_FOR_PAINT = (
    "await new Promise((done) => {"
    ' if (document.visibilityState === "hidden") done();'
    " else requestAnimationFrame(() => setTimeout(done, 0)); });"
)

_NEXT_TASK = "await new Promise((done) => setTimeout(done, 0));"


def shell_path(route: str) -> str:
    """``/invoices/[invoice_id]`` → ``/invoices/_``: the path the route is prerendered at."""
    return re.sub(r"\[[^/\]]+\]", PLACEHOLDER, route)


def prerender_dynamic_routes(config_js: str, routes: Iterable[str] = DYNAMIC_ROUTES) -> str:
    """React Router's config with the dynamic routes' shells prerendered beside the static paths."""
    if _PRERENDER not in config_js:
        raise ValueError(f"react-router.config.js has no {_PRERENDER!r} to extend: {config_js!r}")
    extra = ", ".join(f'"{shell_path(r)}"' for r in routes)
    return config_js.replace(
        _PRERENDER, f'"prerender": async ({{ getStaticPaths }}) => [...getStaticPaths(), {extra}]', 1
    )


_GROUPS = "codeSplitting: {\n          groups: ["
UI_GROUP = (
    '{ name: "ui", test: /node_modules[\\\\/](lucide-react[\\\\/]dist[\\\\/]esm[\\\\/]icons|@radix-ui|radix-ui)[\\\\/]/, '
    "minShareCount: 3 },"
)
"""One chunk for the icons and Radix's components and primitives, the small modules every page takes a
different handful of. Left to itself the bundler makes a chunk for every set of pages sharing a module: a
page loaded 20 to 32 scripts, most under 2 KB, each a request (and, over HTTP/1.1's six connections, a round
trip of a phone's network) before the page could show its data."""


def group_ui_chunks(vite_config_js: str) -> str:
    """Vite's config with :data:`UI_GROUP` first among the code-splitting groups."""
    if _GROUPS not in vite_config_js:
        raise ValueError(f"vite.config.js has no {_GROUPS!r} to extend")
    return vite_config_js.replace(_GROUPS, f"{_GROUPS}\n            {UI_GROUP}", 1)


def paint_first(html: str) -> str:
    """The page with React Router's module loader made to wait for the first paint, and its module
    preloads fetched at low priority, after the page's own HTML and stylesheet (unchanged if it already
    waits, or has no loader)."""
    if _WAIT_FOR_PAINT in html:
        return html
    html = html.replace('<link rel="modulepreload" href=', '<link rel="modulepreload" fetchpriority="low" href=')

    def rewrite(match: re.Match[str]) -> str:
        routes = _ROUTE_IMPORT.findall(match["routes"])
        # One module graph at a time, the browser's other work in between: the root's graph (React Router,
        # Reflex's state and socket, Emotion) and the page's are evaluated in two tasks, not one long one.
        steps = "".join(f'const {name} = await import("{src}"); {_NEXT_TASK}\n' for name, src in routes)
        body = (
            f"{_WAIT_FOR_PAINT}\n"
            f'await import("{match["manifest"]}");\n'
            f"{steps}"
            f"{match['assign']}\n"
            f'import("{match["entry"]}");'
        )
        return f"{match.group(1)}{body}{match.group(match.lastindex or 0)}"

    return _LOADER.sub(rewrite, html, count=1)


def rewrite_build(static_dir: Path) -> int:
    """:func:`paint_first` on every prerendered page of the build; the number of pages changed."""
    changed = 0
    for page in static_dir.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        new = paint_first(text)
        if new != text:
            page.write_text(new, encoding="utf-8")
            changed += 1
    return changed


def _shell_patterns(routes: Iterable[str]) -> list[tuple[re.Pattern[str], str]]:
    out = []
    for route in routes:
        pattern = re.escape(route.rstrip("/"))
        pattern = re.sub(r"\\\[[^/]+?\\\]", "[^/]+", pattern)
        out.append((re.compile(f"^{pattern}/?$"), shell_path(route).rstrip("/") + "/"))
    return out


class ShellRoutes:
    """Serves a dynamic route's prerendered shell for every address of the route, and a static route's page
    at its address without the trailing slash, with no redirect (GET and HEAD only; the path the browser
    sees is unchanged)."""

    def __init__(
        self, app: ASGIApp, routes: Iterable[str] = DYNAMIC_ROUTES, pages: Iterable[str] = STATIC_ROUTES
    ) -> None:
        self.app = app
        self.patterns = _shell_patterns(routes)
        self.pages = {page.rstrip("/"): page.rstrip("/") + "/" for page in pages}

    def _served(self, path: str) -> str | None:
        if path in self.pages:
            return self.pages[path]
        for pattern, shell in self.patterns:
            if pattern.match(path):
                return shell
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD"):
            served = self._served(scope["path"])
            if served is not None:
                scope = {**scope, "path": served, "raw_path": served.encode()}
        await self.app(scope, receive, send)


def api_transformer(app: ASGIApp) -> ASGIApp:
    """``rx.App(api_transformer=[page_shells.api_transformer, …])``: first in the list, so innermost: the routes
    around it (the invoice link's one-step open in ``session_cookie``) see the address the browser asked for."""
    return ShellRoutes(app)
