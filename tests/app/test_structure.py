"""The app's layout (docs/architecture.md, "The app"): pages beside their states, shared parts that do not
depend on pages, and modules and functions of a size a newcomer can read."""

from __future__ import annotations

import ast
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "selfcare"
MAX_FILE_LINES = 600
MAX_FUNCTION_LINES = 80
# A page that names another page's module, and why.
PAGE_TO_PAGE = {("login", "outbox")}  # the sign-in page links to the demo's outbox when it exists
# Shared modules that name a page's module, and why.
SHARED_TO_PAGE = {
    "selfcare/state/usage.py",  # the old home of usage_csv, for tests/common/test_csv_export.py only
    "selfcare/web_security.py",  # the upload cap is the marketing image's size (pages/marketing/image.py)
}


def _sources() -> list[Path]:
    return sorted(p for p in APP.rglob("*.py") if "locales" not in p.parts)


def _module_imports(path: Path) -> set[str]:
    """The app's modules that ``path`` imports when it is imported (not inside functions, not for typing)."""
    found = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name == "selfcare" or name.startswith("selfcare.")}


def test_pages_import_shared_modules_not_one_another():
    crossing = []
    for path in _sources():
        parts = path.relative_to(APP).parts
        if parts[0] != "pages" or len(parts) < 3:
            continue
        for name in _module_imports(path):
            target = name.split(".")
            if target[1:2] == ["pages"] and target[2] != parts[1] and (parts[1], target[2]) not in PAGE_TO_PAGE:
                crossing.append(f"{path.relative_to(APP.parent)} imports {name}")
    assert crossing == []


def test_shared_states_and_components_do_not_depend_on_pages():
    upward = [
        f"{path.relative_to(APP.parent)} imports {name}"
        for path in _sources()
        if path.relative_to(APP).parts[0] != "pages"
        and path.name != "selfcare.py"
        and str(path.relative_to(APP.parent)) not in SHARED_TO_PAGE
        for name in _module_imports(path)
        if name.startswith("selfcare.pages")
    ]
    assert upward == []


def test_every_page_package_has_its_page_and_states_sit_beside_pages():
    pages = sorted(p for p in (APP / "pages").iterdir() if p.is_dir() and not p.name.startswith("__"))
    assert len(pages) >= 10 and all((p / "page.py").exists() for p in pages)
    assert not [p for p in (APP / "pages").glob("*.py") if p.name != "__init__.py"]  # no flat page modules left


def test_no_module_over_600_lines_and_no_function_over_80():
    too_long = []
    for path in _sources():
        text = path.read_text(encoding="utf-8")
        if text.count("\n") > MAX_FILE_LINES:
            too_long.append(f"{path.relative_to(APP.parent)}: {text.count(chr(10))} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    too_long.append(f"{path.relative_to(APP.parent)}:{node.lineno} {node.name}: {length} lines")
    assert too_long == []
