"""selfcare.page_shells: the build's pages paint before their scripts run, and dynamic routes get their shells.

The loader below is React Router's, as Reflex 0.10's production build writes it into every prerendered
page (copied from ``.web/build/client/login.html``).
"""

from __future__ import annotations

import ast
import asyncio
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from rxconfig import PageShells, config
from selfcare import page_shells

ROOT = Path(__file__).resolve().parents[2]
LOADER = (
    '<script type="module" async="">import "/assets/manifest-f95d1ced.js";\n'
    'import * as route0 from "/assets/root-rz3h7dwT.js";\n'
    'import * as route1 from "/assets/_login_._index-bkUNEnTo.js";\n  \n'
    '  window.__reactRouterRouteModules = {"root":route0,"routes/[login]._index":route1};\n\n'
    'import("/assets/entry.client-BcBPaK_9.js");</script>'
)
PAGE = (
    '<!DOCTYPE html><html lang="sv"><head><link rel="modulepreload" href="/assets/manifest-f95d1ced.js"/>'
    '<link rel="modulepreload" href="/assets/entry.client-BcBPaK_9.js"/>'
    '<link href="/assets/__reflex_global_styles.css" rel="stylesheet"/></head><body><header>Nordvik</header>'
    f'<script>window.__reactRouterContext = {{}};</script>{LOADER}<script>$RC("B:0","S:0")</script></body></html>'
)


def _loader_of(html: str) -> str:
    found = re.search(r'<script type="module" async="">(.*?)</script>', html, re.S)
    assert found, html
    return found.group(1)


def test_the_loader_waits_for_a_paint_then_imports_the_same_modules_in_order():
    page = page_shells.paint_first(PAGE)
    body = _loader_of(page)
    assert body.startswith("await new Promise(")
    assert "requestAnimationFrame" in body and 'document.visibilityState === "hidden"' in body
    # the same modules, manifest first, then the routes, then the entry (which hydrates) last
    imports = re.findall(r'import\("([^"]+)"\)', body)
    assert imports == [
        "/assets/manifest-f95d1ced.js",
        "/assets/root-rz3h7dwT.js",
        "/assets/_login_._index-bkUNEnTo.js",
        "/assets/entry.client-BcBPaK_9.js",
    ]
    # one graph per task: each route module is awaited, then the browser gets a turn before the next
    assert 'const route0 = await import("/assets/root-rz3h7dwT.js"); await new Promise((done) => setTimeout(' in body
    assert 'const route1 = await import("/assets/_login_._index-bkUNEnTo.js"); await new Promise(' in body
    assert 'window.__reactRouterRouteModules = {"root":route0,"routes/[login]._index":route1};' in body
    assert body.index("__reactRouterRouteModules") < body.index("entry.client")
    # no static import is left (those would run before the wait)
    assert not re.search(r"^\s*import\s+[*\"]", body, re.M)
    # the preloads stay, at low priority; everything else of the page is untouched
    assert page.count('<link rel="modulepreload" fetchpriority="low" href=') == 2
    assert page.replace(body, "").replace(' fetchpriority="low"', "") == PAGE.replace(_loader_of(PAGE), "")


def test_rewriting_twice_changes_nothing_and_a_page_without_the_loader_is_left_alone():
    once = page_shells.paint_first(PAGE)
    assert page_shells.paint_first(once) == once
    plain = "<html><body><p>hej</p></body></html>"
    assert page_shells.paint_first(plain) == plain


def test_the_rewritten_loader_is_a_valid_module(tmp_path):
    node = shutil.which("node")
    assert node, "node (the frontend toolchain's runtime, `make install`) is needed to build the app at all"
    module = tmp_path / "loader.mjs"
    module.write_text(_loader_of(page_shells.paint_first(PAGE)))
    checked = subprocess.run([node, "--check", str(module)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr


def test_rewrite_build_changes_every_page_with_a_loader(tmp_path):
    (tmp_path / "invoices" / "_").mkdir(parents=True)
    (tmp_path / "login.html").write_text(PAGE)
    (tmp_path / "invoices" / "_" / "index.html").write_text(PAGE)
    (tmp_path / "plain.html").write_text("<p>hej</p>")
    assert page_shells.rewrite_build(tmp_path) == 2
    assert "requestAnimationFrame" in (tmp_path / "invoices" / "_" / "index.html").read_text()
    assert page_shells.rewrite_build(tmp_path) == 0


def test_reflex_s_router_config_prerenders_the_dynamic_routes_shells():
    from reflex.utils.frontend_skeleton import _update_react_router_config

    original = _update_react_router_config(config, prerender_routes=True)
    changed = page_shells.prerender_dynamic_routes(original)
    assert '"prerender": async ({ getStaticPaths }) => [...getStaticPaths(), "/invoices/_", "/i/_"]' in changed
    with pytest.raises(ValueError, match="prerender"):
        page_shells.prerender_dynamic_routes(original.replace('"prerender": true', '"prerender": false'))


def test_reflex_s_vite_config_puts_icons_and_radix_in_one_chunk():
    from reflex.utils.frontend_skeleton import _compile_vite_config

    original = _compile_vite_config(config)
    changed = page_shells.group_ui_chunks(original)
    groups = changed[changed.index("groups: [") :]
    assert groups.index('name: "ui"') < groups.index('name: "reflex-env"')  # first: it takes what it matches
    test = re.search(r'name: "ui", test: /(.+)/, minShareCount: 3 \}', changed)  # shared by 3 pages or more
    assert test, changed
    pattern = re.compile(test.group(1).replace("\\\\", "\\"))
    for module in (
        "/app/.web/node_modules/lucide-react/dist/esm/icons/log-out.mjs",
        "/app/.web/node_modules/@radix-ui/themes/dist/esm/components/badge.js",
        "/app/.web/node_modules/@radix-ui/react-slot/dist/index.mjs",
        "/app/.web/node_modules/radix-ui/dist/index.mjs",
    ):
        assert pattern.search(module), module
    for module in (
        "/app/.web/node_modules/react-dom/cjs/react-dom-client.production.js",
        "/app/.web/node_modules/lucide-react/dist/esm/createLucideIcon.mjs",  # the icons' base stays shared
        "/app/.web/utils/state.js",
        "/app/.web/node_modules/plotly.js-basic-dist-min/plotly-basic.min.js",
    ):
        assert not pattern.search(module), module
    with pytest.raises(ValueError, match="codeSplitting"):
        page_shells.group_ui_chunks("export default {};")


def test_the_plugin_is_configured():
    assert any(isinstance(p, PageShells) for p in config.plugins)


def test_every_route_of_the_app_is_known_to_the_shells():
    tree = ast.parse((ROOT / "selfcare" / "selfcare.py").read_text())
    routes = {
        str(kw.value.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        for kw in node.keywords
        if kw.arg == "route" and isinstance(kw.value, ast.Constant)
    }
    assert {r for r in routes if "[" in r} == set(page_shells.DYNAMIC_ROUTES)
    assert {r for r in routes if "[" not in r} - {"/"} == set(page_shells.STATIC_ROUTES)


def _seen_path(method: str, path: str) -> str:
    seen: list[str] = []

    async def app(scope, receive, send):
        seen.append(scope["path"])
        assert scope["raw_path"] == scope["path"].encode()

    scope = {"type": "http", "method": method, "path": path, "raw_path": path.encode()}
    asyncio.run(page_shells.ShellRoutes(app)(scope, None, None))
    return seen[0]


@pytest.mark.parametrize(
    ("method", "path", "served"),
    [
        ("GET", "/invoices/50a2a058-09e0-40f8-8414-f0862326160f", "/invoices/_/"),
        ("GET", "/invoices/50a2a058/", "/invoices/_/"),
        ("HEAD", "/i/Zm9vYmFy", "/i/_/"),
        ("GET", "/invoices", "/invoices/"),  # the list is a page of its own, served without a redirect
        ("GET", "/invoices/", "/invoices/"),
        ("HEAD", "/usage", "/usage/"),
        ("GET", "/agent/audit", "/agent/audit/"),
        ("GET", "/usage/more", "/usage/more"),
        ("GET", "/", "/"),
        ("POST", "/login", "/login"),
        ("GET", "/invoices/abc/pdf", "/invoices/abc/pdf"),  # not the route
        ("POST", "/invoices/abc", "/invoices/abc"),  # pages are only read
        ("GET", "/core/invoices/abc", "/core/invoices/abc"),
        ("GET", "/index", "/index"),
    ],
)
def test_a_route_is_served_from_its_prerendered_page(method, path, served):
    assert _seen_path(method, path) == served


def test_the_shells_sit_innermost_so_the_link_route_sees_the_real_address():
    """``rx.App(api_transformer=[...])``: the first wraps innermost. ``session_cookie`` opens an invoice link in
    one step from ``/i/<token>``; were the shells outside it, it would see ``/i/_/`` and never open a link."""
    source = (ROOT / "selfcare" / "selfcare.py").read_text()
    listed = re.search(r"api_transformer=\[(.*?)\]", source, re.S)
    assert listed, "no api_transformer list"
    order = re.findall(r"(\w+)\.api_transformer", listed.group(1))
    assert order[0] == "page_shells" and order.index("page_shells") < order.index("session_cookie"), order
