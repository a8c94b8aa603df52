"""Icons whose name is only known at run time, without Lucide's ``DynamicIcon``.

``rx.icon(var)`` compiles to ``DynamicIcon``, which imports ``lucide-react/dynamic``: a loader
(about 250 KB) that can fetch any of Lucide's 1 600 icons, each a chunk of its own, over the
network after the page has rendered (a late paint and a layout shift). The app only ever shows
a handful of names at run time, so each is a static icon (a deep import of that one icon's module),
chosen with ``rx.match``.
"""

from __future__ import annotations

from collections.abc import Iterable

import reflex as rx

from selfcare.presenters import TIMELINE_ICON


def icon_of(name: rx.Var, names: Iterable[str], fallback: str = "circle", **props) -> rx.Component:
    """The icon called ``name`` (a state var), one of ``names``; ``fallback`` for any other name."""
    cases = [(n, rx.icon(n, **props)) for n in dict.fromkeys(names) if n != fallback]
    return rx.match(name.to(str), *cases, rx.icon(fallback, **props))


def timeline_icon(name: rx.Var, **props) -> rx.Component:
    """A timeline event's icon (``presenters.TIMELINE_ICON``)."""
    return icon_of(name, TIMELINE_ICON.values(), **props)
