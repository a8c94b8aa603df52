"""``lazy_mount``: children rendered only once their box is on screen (IntersectionObserver), and, with
``after_interaction``, only once the subscriber has touched, scrolled or typed on the page.

The usage page's charts sit in these boxes. Plotly is a client-side component whose module is
imported when it mounts (Reflex's ``ClientSide``), so until a chart is mounted no plotly code (353 KB
compressed, about a second and a half of a mid-range phone's main thread to load and draw) is fetched
or run: the summary above paints and answers taps first. The first chart is at the bottom of a phone's
first screen; it waits for the first touch or scroll (a facade: the box shows its title and keeps its
final height, so nothing moves when the chart arrives). Someone who only reads the summary never
downloads plotly. The component's code is part of the page's compiled module (no inline script: the CSP
forbids them).
"""

from __future__ import annotations

import reflex as rx
from reflex.utils.imports import ImportVar

_CODE = """
const lazyMountInteraction = { done: false, waiters: new Set() };
const LAZY_MOUNT_EVENTS = ["scroll", "wheel", "pointerdown", "keydown", "touchstart"];
function lazyMountInteracted() {
  if (lazyMountInteraction.done) return;
  lazyMountInteraction.done = true;
  for (const name of LAZY_MOUNT_EVENTS) window.removeEventListener(name, lazyMountInteracted, true);
  for (const wake of lazyMountInteraction.waiters) wake();
  lazyMountInteraction.waiters.clear();
}
if (typeof window !== "undefined") {
  for (const name of LAZY_MOUNT_EVENTS) {
    window.addEventListener(name, lazyMountInteracted, { capture: true, passive: true });
  }
}

function LazyMount({ children, margin, afterInteraction, ...rest }) {
  const ref = useRef(null);
  const [shown, setShown] = useState(false);
  useEffect(() => {
    if (shown) return undefined;
    const el = ref.current;
    if (!el) return undefined;
    if (typeof IntersectionObserver === "undefined") { setShown(true); return undefined; }
    let inView = false;
    let ready = !afterInteraction || lazyMountInteraction.done || window.scrollY > 0;
    const check = () => { if (inView && ready) setShown(true); };
    const wake = () => { ready = true; check(); };
    if (!ready) lazyMountInteraction.waiters.add(wake);
    const io = new IntersectionObserver((entries) => {
      inView = entries.some((e) => e.isIntersecting);
      check();
    }, { rootMargin: margin || "0px" });
    io.observe(el);
    return () => { io.disconnect(); lazyMountInteraction.waiters.delete(wake); };
  }, [shown, margin, afterInteraction]);
  return createElement("div", { ref, "data-shown": shown ? "true" : "false", ...rest }, shown ? children : null);
}
"""


class LazyMount(rx.Component):
    """A ``div`` whose children mount when it comes within ``margin`` of the viewport (and, with
    ``after_interaction``, after the first touch, scroll or key press on the page)."""

    tag = "LazyMount"

    margin: rx.Var[str]

    after_interaction: rx.Var[bool]

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


def lazy_mount(*children: rx.Component, margin: str = "0px", after_interaction: bool = False, **props) -> rx.Component:
    return LazyMount.create(*children, margin=margin, after_interaction=after_interaction, **props)
