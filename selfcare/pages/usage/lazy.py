"""``lazy_mount``: children rendered only once their box is on screen (IntersectionObserver).

The usage page's charts sit in these boxes. Plotly is a client-side component whose module is
imported when it mounts (Reflex's ``ClientSide``), so until a chart's box scrolls into view no
plotly code is fetched or run: the summary above paints and answers taps first. The box keeps its
final height all along (no layout shift when the chart arrives). The component's code is part of
the page's compiled module (no inline script: the CSP forbids them).
"""

from __future__ import annotations

import reflex as rx
from reflex.utils.imports import ImportVar

_CODE = """
function LazyMount({ children, margin, ...rest }) {
  const ref = useRef(null);
  const [shown, setShown] = useState(false);
  useEffect(() => {
    if (shown) return undefined;
    const el = ref.current;
    if (!el) return undefined;
    if (typeof IntersectionObserver === "undefined") { setShown(true); return undefined; }
    const io = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) { setShown(true); io.disconnect(); }
    }, { rootMargin: margin || "0px" });
    io.observe(el);
    return () => io.disconnect();
  }, [shown, margin]);
  return createElement("div", { ref, "data-shown": shown ? "true" : "false", ...rest }, shown ? children : null);
}
"""


class LazyMount(rx.Component):
    """A ``div`` whose children mount when it comes within ``margin`` of the viewport."""

    tag = "LazyMount"

    margin: rx.Var[str]

    def add_imports(self):
        return {
            "react": [
                ImportVar(tag="useEffect"),
                ImportVar(tag="useRef"),
                ImportVar(tag="useState"),
                ImportVar(tag="createElement"),
            ]
        }

    def add_custom_code(self) -> list[str]:
        return [_CODE]


def lazy_mount(*children: rx.Component, margin: str = "0px", **props) -> rx.Component:
    return LazyMount.create(*children, margin=margin, **props)
