"""The page frame's switch from skeleton to content (``components/lazy.after_hydration``)."""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

import reflex as rx

from selfcare.components import lazy
from selfcare.components.layout import page


def _find(tree: Any, name: str) -> list[dict[str, Any]]:
    found = []
    if isinstance(tree, dict):
        if tree.get("name") == name:
            found.append(tree)
        for value in tree.values():
            found += _find(value, name)
    elif isinstance(tree, list):
        for value in tree:
            found += _find(value, name)
    return found


def test_a_page_shows_its_skeleton_until_hydrated_then_its_content_through_the_deferred_switch():
    rendered = page(rx.text("the content", id="content"), loading=rx.box(id="the-skeleton")).render()
    (switch,) = _find(rendered, "AfterHydration")
    assert switch["props"] == ["hydrated:reflex___state____state.is_hydrated_rx_state_"]
    content, skeleton = switch["children"]
    assert "the content" in str(content) and "the-skeleton" not in str(content)
    assert "the-skeleton" in str(skeleton) and "page-skeleton" in str(skeleton)
    # no other switch on hydration renders the page's content synchronously
    assert "is_hydrated" not in str(content) and "is_hydrated" not in str(skeleton)


def test_the_switch_defers_the_content_and_starts_from_the_skeleton(tmp_path):
    code = lazy._AFTER_HYDRATION_CODE
    assert "useDeferredValue(hydrated, false)" in code
    # the component's code is a valid module once its React import is there (Reflex adds it)
    node = shutil.which("node")
    assert node, "node (the frontend toolchain's runtime, `make install`) is needed to build the app at all"
    module = tmp_path / "after_hydration.mjs"
    module.write_text(
        "const useDeferredValue = (value, initial) => initial;\n"
        + code
        + "\nconst out = AfterHydration({ hydrated: true, children: ['content', 'skeleton'] });\n"
        + "if (out !== 'skeleton') throw new Error('first render: ' + out);\n"
    )
    run = subprocess.run([node, str(module)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
