"""Reflex configuration of the subscriber app, all from the environment (the app's settings, ``selfcare.settings``).

| variable | meaning | default |
| --- | --- | --- |
| ``SELFCARE_PORT`` | production mode: the one port of frontend and backend | Reflex's (3000; dev: 3000 + 8000) |
| ``SELFCARE_PUBLIC_URL`` | the address the browser uses (baked into the frontend build) | ``http://localhost:<port>`` |
| ``SELFCARE_ALLOWED_ORIGINS`` | comma-separated extra origins allowed by CORS and the websocket | none |
| ``REDIS_URL`` | Reflex's state manager in Redis: several backend workers share sessions | in-process state |
| ``GRANIAN_WORKERS`` | backend worker processes (Reflex's own default is 1 without Redis) | |

The allowed origins are always explicit (never ``*``): the public URL plus its
``localhost``/``127.0.0.1`` twin. They guard the Reflex backend, its ``/_event`` websocket
and the core mounted under ``/core`` alike (Reflex wraps the whole ASGI app in one CORS
middleware and gives the same list to Socket.IO).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import reflex as rx
from reflex_base.registry import RegistrationContext

from selfcare import page_shells
from selfcare.settings import get_settings

_SETTINGS = get_settings()
_PORT_SET = _SETTINGS.port is not None
PORT = _SETTINGS.port or 3000
_PUBLIC_SET = bool(_SETTINGS.public_url)
PUBLIC_URL = (_SETTINGS.public_url or f"http://localhost:{PORT}").rstrip("/")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"SELFCARE_PUBLIC_URL / SELFCARE_ALLOWED_ORIGINS: {url!r} is not an http(s) URL")
    return f"{parts.scheme}://{parts.netloc}"


def allowed_origins() -> list[str]:
    """The origins the browser may call the backend from: explicit, no wildcard."""
    public = _origin(PUBLIC_URL)
    origins = [public]
    parts = urlsplit(public)
    port = f":{parts.port}" if parts.port else ""
    for twin in ("localhost", "127.0.0.1"):
        if parts.hostname in ("localhost", "127.0.0.1") and parts.hostname != twin:
            origins.append(f"{parts.scheme}://{twin}{port}")
    origins += [_origin(o) for o in get_settings().allowed_origins]
    if "*" in origins:
        raise ValueError("SELFCARE_ALLOWED_ORIGINS: '*' is not allowed; list the origins")
    return list(dict.fromkeys(origins))


RADIX_PACKAGE = "@radix-ui/themes"
POSTCSS_TRIM = "postcss-radix-trim.cjs"
POSTCSS_TRIM_SOURCE = Path(__file__).resolve().parent / "frontend" / POSTCSS_TRIM


def add_postcss_trim(config_js: str) -> str:
    """Reflex's ``postcss.config.js`` with the trim plugin after ``postcss-import`` (which inlines Radix)."""
    anchor = '"postcss-import": {},'
    if anchor not in config_js:
        raise ValueError(f"postcss.config.js has no {anchor!r} line to put {POSTCSS_TRIM} after: {config_js!r}")
    if POSTCSS_TRIM in config_js:
        return config_js
    return config_js.replace(anchor, f'{anchor}\n    "./{POSTCSS_TRIM}": {{}},', 1)


class RadixThemesTrimmed(rx.plugins.RadixThemesPlugin):
    """Radix Themes with only the colour scales the app uses, and without its whole namespace in the bundle.

    The stock plugin registers ``@radix-ui/themes`` as a library for dynamic (eval'd) components, so the
    root module imports all of Radix Themes (every component, used or not) for ``window.__reflex``, eagerly
    or, with ``frontend_lazy_bundled_libraries``, as a dynamic import whose modules the bundler then
    shares into the common chunk every page loads. The app has no dynamic components: each page imports
    the Radix components it uses, and nothing else of Radix is bundled. (The package itself is still
    installed: it stays in the plugin's frontend dependencies.)

    Radix's ``styles.css`` (the plugin's default) carries every colour scale of the 31 (tokens: 35 KB
    gzipped of the 82 KB render-blocking stylesheet of every page); the app names eight: the accent
    (cyan), its grey (slate), ``gray``, and the tones of badges and callouts (``presenters.*_TONE``,
    ``color_scheme=``). ``tests/app/test_radix_colours.py`` checks that the app names no other."""

    COLOURS = ("cyan", "slate", "gray", "red", "green", "orange", "blue", "amber")

    def pre_compile(self, **context: Any) -> None:
        """After the plugins' dependencies are registered as window libraries, and before the root is compiled."""
        super().pre_compile(**context)
        libraries = RegistrationContext.ensure_context().bundled_libraries
        libraries[:] = [lib for lib in libraries if not lib.startswith(RADIX_PACKAGE)]
        context["add_modify_task"]("postcss.config.js", add_postcss_trim)

    def get_static_assets(self, **context: Any) -> list[tuple[str, str]]:
        """The PostCSS plugin that drops Radix's responsive variants, into the web dir."""
        return [*super().get_static_assets(**context), (POSTCSS_TRIM, POSTCSS_TRIM_SOURCE.read_text())]

    def get_stylesheet_paths(self, **context: object) -> tuple[str, ...]:
        if not self.enabled:
            return ()
        return (
            "@radix-ui/themes/tokens/base.css",
            *(f"@radix-ui/themes/tokens/colors/{c}.css" for c in self.COLOURS),
            "@radix-ui/themes/components.css",
            "@radix-ui/themes/utilities.css",
        )


class PageShells(rx.plugins.Plugin):
    """The prerendered pages paint before their scripts run, and the dynamic routes get prerendered shells
    (``selfcare/page_shells.py``)."""

    def pre_compile(self, **context: Any) -> None:
        context["add_modify_task"]("react-router.config.js", page_shells.prerender_dynamic_routes)
        context["add_modify_task"]("vite.config.js", page_shells.group_ui_chunks)

    def post_build(self, **context: Any) -> None:
        page_shells.rewrite_build(Path(context["static_dir"]))


# Ports and URLs are only pinned when asked to: `reflex run` in dev mode keeps its two ports.
_placement: dict[str, object] = {}
if _PORT_SET:
    _placement.update(frontend_port=PORT, backend_port=PORT)
if _PUBLIC_SET:
    _placement.update(api_url=PUBLIC_URL, deploy_url=PUBLIC_URL)

config = rx.Config(
    app_name="selfcare",
    telemetry_enabled=False,
    show_built_with_reflex=False,
    # state_auto_setters: False is Reflex 0.10's default (the option is deprecated; setting it only warns);
    # tests/e2e/test_smoke.py checks that it stays off.
    **_placement,  # type: ignore[arg-type]
    cors_allowed_origins=allowed_origins(),
    redis_url=_SETTINGS.redis_url,
    # The app keeps no tables of its own; the core owns the database (DATABASE_URL).
    db_url=None,
    disable_plugins=[rx.plugins.SitemapPlugin],
    # The app has no dynamic (eval'd) components: libraries registered for them (window.__reflex) beyond
    # Reflex's core are not imported by the root on every page (RadixThemesTrimmed drops Radix from them).
    frontend_lazy_bundled_libraries=True,
    # Precompressed at build time: brotli for browsers (all current ones take it), gzip for the rest. Brotli is
    # about a fifth smaller on the scripts, a second less on a slow phone connection for the first visit.
    frontend_compression_formats=["brotli", "gzip"],
    # Light theme always: the brand colours are chosen for it (a phone in dark mode keeps its contrast).
    default_color_mode="light",
    plugins=[
        RadixThemesTrimmed(theme=rx.theme(appearance="light", accent_color="cyan", radius="medium", scaling="100%")),
        PageShells(),
    ],
)
