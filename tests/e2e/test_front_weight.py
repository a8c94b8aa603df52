"""What every page of the production build makes a phone download before its first paint (issue 16).

Read from the served sign-in page, as the browser gets it: the one render-blocking stylesheet carries no
Radix breakpoint variants (rxconfig.RadixThemesTrimmed, frontend/postcss-radix-trim.cjs) and only the
colour scales the app uses, and none of the components the app never renders (while every component class the
pages' JavaScript names has its rules), the page preloads a few modules (no Lucide ``DynamicIcon`` loader, no whole
Radix namespace), and nothing is left of the 1 600 per-icon chunks of Lucide's dynamic loader.
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx

CSS_MAX_BYTES = 220_000  # Radix's full styles.css alone is 812 KB; trimmed the bundle is about 200 KB
# The sign-in page preloaded 36 modules before (lucide's loader, Radix's namespace), 20 before icons and Radix
# went into one chunk (page_shells.group_ui_chunks); 11 now.
MODULES_MAX = 14


def test_sign_in_page_loads_a_trimmed_stylesheet_and_few_modules(app_url):
    with httpx.Client(base_url=app_url, timeout=30, follow_redirects=True) as web:
        html = web.get("/login").text
        sheets = [
            href
            for tag in re.findall(r"<link [^>]*>", html)
            if 'rel="stylesheet"' in tag
            for href in re.findall(r'href="([^"]+\.css)"', tag)
        ]
        assert len(sheets) == 1, sheets
        css = web.get(sheets[0]).text
        modules = re.findall(r'<link rel="modulepreload" fetchpriority="low" href="([^"]+)"', html)
        entry = web.get(next(m for m in modules if "entry.client" in m)).text
    assert len(css.encode()) < CSS_MAX_BYTES, len(css.encode())
    assert not re.search(r"(?:xs|sm|md|lg|xl)\\:rt-", css), "Radix's breakpoint variants are in the stylesheet"
    assert "--cyan-9:" in css and "--red-9:" in css and "--crimson-9:" not in css  # the used scales only
    assert re.search(r"--cyan-11:\s*#0d667d", css)  # assets/app.css is bundled in
    assert 5 <= len(modules) <= MODULES_MAX, modules
    assert not any("DynamicIcon" in m or "dynamicIconImports" in m for m in modules), modules
    assert "lucide-react/dynamic" not in entry


def test_scripts_and_the_stylesheet_are_sent_brotli_compressed_to_a_browser_that_takes_it(app_url):
    """rxconfig ``frontend_compression_formats``: brotli first (about a fifth smaller than gzip on the
    scripts), gzip for a client without it."""
    with httpx.Client(base_url=app_url, timeout=30) as web:
        html = web.get("/login/", headers={"Accept-Encoding": "gzip"})
        assets = re.findall(r'href="(/assets/[^"]+\.(?:js|css))"', html.text)
        assert assets
        assert web.get("/login/", headers={"Accept-Encoding": "br"}).headers["content-encoding"] == "br"
        for asset in assets[:4]:
            br = web.get(asset, headers={"Accept-Encoding": "gzip, deflate, br, zstd"})
            gz = web.get(asset, headers={"Accept-Encoding": "gzip"})
            assert br.headers["content-encoding"] == "br" and gz.headers["content-encoding"] == "gzip", asset
            assert int(br.headers["content-length"]) < int(gz.headers["content-length"]), asset


PAGES = ("/login/", "/", "/invoices/", "/invoices/_/", "/i/_/", "/usage/", "/addons/", "/payment-method/", "/settings/")
STAFF_PAGES = ("/agent/", "/agent/audit/", "/marketing/")
RADIX_CSS = Path("node_modules") / "@radix-ui" / "themes" / "components.css"  # in the app's web dir
# A component class named in JavaScript, except where Reflex's state.js only looks an element up by it
# (``className?.includes(`rt-SwitchRoot`)``, ``querySelector(`.rt-SliderThumb`)``, reading a ref's value):
# that renders nothing.
NAMED = re.compile(r"(?<!includes\(`)(?<!querySelector\(`\.)rt-([A-Z][A-Za-z0-9]*)")


def test_every_component_class_the_pages_render_has_its_rules_and_no_other(running_app, app_url):
    """frontend/postcss-radix-trim.cjs keeps the rules of the Radix components the compiled app imports. Every
    component class (``rt-Capital…``) the JavaScript of any page renders, and that Radix styles, is still styled."""
    with httpx.Client(base_url=app_url, timeout=30) as web:
        named: set[str] = set()
        css = ""
        for path in PAGES + STAFF_PAGES:
            html = web.get(path).text
            css = css or web.get(re.search(r'href="(/assets/__reflex_global_styles-[^"]+\.css)"', html).group(1)).text
            for module in re.findall(r'<link rel="modulepreload" fetchpriority="low" href="([^"]+)"', html):
                named |= set(NAMED.findall(web.get(module).text))
    styled = set(re.findall(r"\.rt-([A-Z][A-Za-z0-9]*)", css))
    radix_css = Path(running_app.env["REFLEX_WEB_WORKDIR"]) / RADIX_CSS  # Radix's whole stylesheet, untrimmed
    radix = set(re.findall(r"\.rt-([A-Z][A-Za-z0-9]*)", radix_css.read_text()))
    assert {"BaseButton", "CalloutRoot", "TextFieldRoot", "Badge", "TableRoot"} <= named & styled, named
    missing = (named & radix) - styled
    assert not missing, f"component classes without their CSS: {sorted(missing)}"
    assert {"Kbd", "DataListRoot", "SegmentedControlRoot", "AvatarRoot", "RadioCardsRoot"} <= radix - styled
    assert len(css.encode()) < 200_000, len(css.encode())
