"""rxconfig.RadixThemesTrimmed: its stylesheet has every colour scale the app names, and Radix is no window library.

The app names a Radix colour in three ways: ``color_scheme="red"`` on a component, a tone in a
``*_TONE`` table of a presenter or state (a badge's ``color_scheme`` at run time), and the theme's
accent. A colour whose scale is left out of the stylesheet would render with no colour at all.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from rxconfig import RadixThemesTrimmed, config

ROOT = Path(__file__).resolve().parents[2]
RADIX_COLOURS = {
    "gray",
    "gold",
    "bronze",
    "brown",
    "yellow",
    "amber",
    "orange",
    "tomato",
    "red",
    "ruby",
    "crimson",
    "pink",
    "plum",
    "purple",
    "violet",
    "iris",
    "indigo",
    "blue",
    "cyan",
    "teal",
    "jade",
    "green",
    "grass",
    "lime",
    "mint",
    "sky",
    "mauve",
    "slate",
    "sage",
    "olive",
    "sand",
}


def _named_colours() -> dict[str, str]:
    """Every Radix colour named in the app's source, with where."""
    found: dict[str, str] = {}
    for path in sorted((ROOT / "selfcare").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        for m in re.finditer(r"color_scheme\s*=\s*\"([a-z]+)\"", text):
            found.setdefault(m.group(1), str(path))
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Assign | ast.AnnAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                names = [t.id for t in targets if isinstance(t, ast.Name)]
                if any(n.endswith("TONE") for n in names) and isinstance(node.value, ast.Dict):
                    for v in node.value.values:
                        if isinstance(v, ast.Constant) and isinstance(v.value, str):
                            found.setdefault(v.value, f"{path} {names[0]}")
    return found


def test_every_named_colour_is_in_the_stylesheet():
    named = _named_colours()
    assert {"red", "green", "blue", "gray"} <= set(named), named  # the scan finds what it should
    assert set(named) <= RADIX_COLOURS, {c: w for c, w in named.items() if c not in RADIX_COLOURS}
    missing = {c: w for c, w in named.items() if c not in RadixThemesTrimmed.COLOURS}
    assert not missing, f"add these to RadixThemesTrimmed.COLOURS: {missing}"


def test_the_theme_accent_and_its_grey_are_in_the_stylesheet():
    plugin = next(p for p in config.plugins if isinstance(p, RadixThemesTrimmed))
    accent = str(plugin.theme.accent_color).strip('"')
    assert accent in RadixThemesTrimmed.COLOURS, accent
    # Radix's grey for a cyan accent (the page's data-gray-color="slate")
    assert accent == "cyan" and "slate" in RadixThemesTrimmed.COLOURS


def test_the_stylesheets_are_radix_files():
    paths = RadixThemesTrimmed().get_stylesheet_paths()
    assert paths[0] == "@radix-ui/themes/tokens/base.css"
    assert "@radix-ui/themes/components.css" in paths and "@radix-ui/themes/utilities.css" in paths
    assert len([p for p in paths if "/tokens/colors/" in p]) == len(RadixThemesTrimmed.COLOURS)


def test_radix_is_not_a_window_library():
    """Radix registered for dynamic components (the stock plugin's dependency) is dropped before the root
    module is compiled, so the root does not import the whole of Radix Themes on every page."""
    from reflex_base.components.dynamic import _bundle_library
    from reflex_base.registry import RegistrationContext

    plugin = RadixThemesTrimmed()
    for dependency in plugin.get_frontend_dependencies():
        _bundle_library(dependency)
    libraries = RegistrationContext.ensure_context().bundled_libraries
    assert any(lib.startswith("@radix-ui/themes") for lib in libraries)
    plugin.pre_compile(
        add_save_task=lambda *a, **k: None,
        add_modify_task=lambda *a: None,
        radix_themes_plugin=plugin,
        unevaluated_pages=[],
    )
    assert not any(lib.startswith("@radix-ui/themes") for lib in libraries), libraries
    assert "react" in libraries and "$/utils/state" in libraries  # Reflex's own stay
    # The package is still installed for the components that import it.
    assert any(d.startswith("@radix-ui/themes@") for d in plugin.get_frontend_dependencies())


def test_postcss_config_gets_the_trim_plugin_after_postcss_import():
    from rxconfig import POSTCSS_TRIM, POSTCSS_TRIM_SOURCE, add_postcss_trim

    reflex_config = 'export default {\n  plugins: {\n    "postcss-import": {},\n    autoprefixer: {},\n  },\n};'
    out = add_postcss_trim(reflex_config)
    lines = [line.strip() for line in out.splitlines()]
    assert lines.index(f'"./{POSTCSS_TRIM}": {{}},') == lines.index('"postcss-import": {},') + 1
    assert add_postcss_trim(out) == out  # once
    with pytest.raises(ValueError, match="postcss-import"):
        add_postcss_trim("export default {plugins: {}};")
    assert (POSTCSS_TRIM, POSTCSS_TRIM_SOURCE.read_text()) in RadixThemesTrimmed().get_static_assets()


def test_the_app_uses_no_responsive_radix_props():
    """The trim plugin drops Radix's breakpoint variants, so no component may ask for one: no
    ``rx.breakpoints`` and no prop given a dict of breakpoints (``size={"initial": "1", "md": "3"}``)."""
    offenders = []
    for path in sorted((ROOT / "selfcare").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if "breakpoints(" in text or re.search(r"=\s*\{\s*[\"'](initial|xs|sm|md|lg|xl)[\"']\s*:", text):
            offenders.append(str(path.relative_to(ROOT)))
    assert not offenders, offenders
