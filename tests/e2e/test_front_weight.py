"""What every page of the production build makes a phone download before its first paint (issue 16).

Read from the served sign-in page, as the browser gets it: the one render-blocking stylesheet carries no
Radix breakpoint variants (rxconfig.RadixThemesTrimmed, frontend/postcss-radix-trim.cjs) and only the
colour scales the app uses, the page preloads a few modules (no Lucide ``DynamicIcon`` loader, no whole
Radix namespace), and nothing is left of the 1 600 per-icon chunks of Lucide's dynamic loader.
"""

from __future__ import annotations

import re

import httpx

CSS_MAX_BYTES = 300_000  # Radix's full styles.css alone is 812 KB; trimmed the bundle is about 260 KB
MODULES_MAX = 25  # the sign-in page preloaded 36 modules before (lucide's loader, Radix's namespace)


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
