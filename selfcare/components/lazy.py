"""``lazy_mount``: children rendered only once their box is near the screen (IntersectionObserver); with
``idle``, also as soon as the browser is idle after the page has shown; with ``after_interaction``, only
once the subscriber has touched, scrolled or typed on the page.

Reflex applies a state update in one synchronous render (its store is read with React's
``useSyncExternalStore``), so the first update of a long page (the invoice: specification, usage,
timeline, thread) rendered everything in one task of 200 ms on a fast computer, four times that on a
phone: the page could not answer a tap meanwhile. The sections below the first screen sit in ``idle``
boxes: the first update renders what is on screen, and each box below renders in a React transition when
the browser is next idle (split into short slices, a tap goes first) or when it scrolls near, whichever
comes first. Scrolling never finds an empty box (the margin mounts it before it shows).

``after_hydration`` is the page frame's switch from skeleton to content: the same render problem one
level up. The update that ends hydration (``is_hydrated``) would render the whole page synchronously; the
switch reads it through ``useDeferredValue``, so that update renders the header only and the content
follows at once in a transition (time-sliced) render.

The usage page's charts use ``after_interaction``. Plotly is a client-side component whose module is
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

function LazyMount({ children, margin, afterInteraction, idle, ...rest }) {
  const ref = useRef(null);
  const [shown, setShown] = useState(false);
  useEffect(() => {
    if (shown) return undefined;
    const el = ref.current;
    if (!el) return undefined;
    if (typeof IntersectionObserver === "undefined") { setShown(true); return undefined; }
    let inView = false;
    let ready = !afterInteraction || lazyMountInteraction.done || window.scrollY > 0;
    const check = () => { if (inView && ready) startTransition(() => setShown(true)); };
    const wake = () => { ready = true; check(); };
    if (!ready) lazyMountInteraction.waiters.add(wake);
    const io = new IntersectionObserver((entries) => {
      inView = entries.some((e) => e.isIntersecting);
      check();
    }, { rootMargin: margin || "0px" });
    io.observe(el);
    let idleHandle = null;
    if (idle) {
      const later = () => startTransition(() => setShown(true));
      idleHandle = typeof requestIdleCallback === "function"
        ? requestIdleCallback(later, { timeout: 2000 }) : setTimeout(later, 50);
    }
    return () => {
      io.disconnect();
      lazyMountInteraction.waiters.delete(wake);
      if (idleHandle !== null) {
        if (typeof cancelIdleCallback === "function") cancelIdleCallback(idleHandle); else clearTimeout(idleHandle);
      }
    };
  }, [shown, margin, afterInteraction, idle]);
  return createElement("div", { ref, "data-shown": shown ? "true" : "false", ...rest }, shown ? children : null);
}
"""


class LazyMount(rx.Component):
    """A ``div`` whose children mount when it comes within ``margin`` of the viewport, or with ``idle`` when
    the browser is idle (in a transition), and with ``after_interaction`` not before the first touch, scroll
    or key press on the page."""

    tag = "LazyMount"

    margin: rx.Var[str]

    after_interaction: rx.Var[bool]

    idle: rx.Var[bool]

    def add_imports(self):
        return {
            "react": [
                ImportVar(tag="useEffect"),
                ImportVar(tag="useRef"),
                ImportVar(tag="useState"),
                ImportVar(tag="createElement"),
                ImportVar(tag="startTransition"),
            ]
        }

    def add_custom_code(self) -> list[str]:
        return [_CODE]


_AFTER_HYDRATION_CODE = """
function AfterHydration({ hydrated, children }) {
  const shown = useDeferredValue(hydrated, false);
  const [content, fallback] = Array.isArray(children) ? children : [children, null];
  return shown ? content : fallback;
}
"""


class AfterHydration(rx.Component):
    """Its first child once the page is hydrated, its second (the skeleton) until then. The switch to the
    content is a deferred value: React renders the page's content in a transition, in short slices that
    let the browser answer a tap in between, instead of in the synchronous render that applies the state
    update (see the module's docstring)."""

    tag = "AfterHydration"

    hydrated: rx.Var[bool]

    def add_imports(self):
        return {"react": [ImportVar(tag="useDeferredValue")]}

    def add_custom_code(self) -> list[str]:
        return [_AFTER_HYDRATION_CODE]


def after_hydration(content: rx.Component, fallback: rx.Component) -> rx.Component:
    """``content`` once the page is hydrated (its on-load handlers have run), rendered in a transition;
    ``fallback`` until then."""
    return AfterHydration.create(content, fallback, hydrated=rx.State.is_hydrated)


def lazy_mount(
    *children: rx.Component, margin: str = "0px", after_interaction: bool = False, idle: bool = False, **props
) -> rx.Component:
    return LazyMount.create(*children, margin=margin, after_interaction=after_interaction, idle=idle, **props)


def below_the_fold(*children: rx.Component, **props) -> rx.Component:
    """A section under the first screen: rendered when the browser is idle or it scrolls near, not in the
    page's first render (``width`` 100%; ``props`` go to the box)."""
    return lazy_mount(*children, margin="600px", idle=True, width="100%", class_name="below-fold", **props)
