"""Checks a browser test makes on a page as a phone shows it: accessibility (axe-core), layout shift, CSP.

``watch(page)`` once, before the first ``goto``: from then on every document the page loads records its
layout shifts (``PerformanceObserver``, ``layout-shift`` entries, buffered, so those before the observer
ran count too) and its CSP violations (reported through a Playwright binding, which the CSP does not
govern), and has axe-core (``.tools/node_modules/axe-core``, ``make tools``) loaded by an init script,
which runs through the DevTools protocol, outside the page's CSP (a ``<script>`` tag would be refused).

    watch(page)
    page.goto(url); ready(page, "#left-to-pay")
    assert cls(page) < CLS_MAX
    assert axe_violations(page) == []

A page is ready when its skeleton has gone (it is hydrated and its on-load handlers ran), the given
element is there and the network and the layout have been quiet for a moment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / ".tools" / "node_modules" / "axe-core" / "axe.min.js"
CLS_MAX = 0.02  # issue 16: CLS ≤ 0,02 on every page
TIMEOUT = 30_000

OBSERVE = """
window.__layoutShifts = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    if (e.hadRecentInput) continue;
    window.__layoutShifts.push({value: e.value, at: Math.round(e.startTime), nodes: (e.sources || []).map((s) => {
      const n = s.node; if (!n || !n.nodeType) return "?";
      if (n.nodeType !== 1) return "#text:" + (n.textContent || "").slice(0, 30);
      return n.tagName.toLowerCase() + (n.id ? "#" + n.id : "") + (n.className && typeof n.className === "string"
        ? "." + n.className.trim().split(/\\s+/).slice(0, 3).join(".") : "");
    })});
  }
}).observe({type: "layout-shift", buffered: true});
document.addEventListener("securitypolicyviolation", (e) => {
  window.__reportCspViolation({page: location.pathname, directive: e.violatedDirective, blocked: e.blockedURI});
});
"""


def watch(page: Any) -> Any:
    """From now on every document ``page`` loads is watched (layout shifts, CSP violations, axe-core loaded).
    CSP violations collect in ``page.csp_violations``."""
    if not AXE.exists():
        raise RuntimeError(f"{AXE} is missing: run `make tools` (npm install axe-core into .tools)")
    violations: list[dict[str, Any]] = []
    page.expose_function("__reportCspViolation", lambda v: violations.append(v))
    page.add_init_script(OBSERVE)
    page.add_init_script(path=str(AXE))
    page.csp_violations = violations
    return page


def sections_shown(page: Any) -> None:
    """Every section below the first screen (``components/lazy.below_the_fold``: rendered when the browser is
    idle) is in the page."""
    page.wait_for_function(
        "() => [...document.querySelectorAll('.below-fold')].every((e) => e.dataset.shown === 'true')",
        timeout=TIMEOUT,
    )


def ready(page: Any, selector: str, *, quiet_ms: int = 800) -> None:
    """The page has hydrated and loaded: no skeleton, ``selector`` visible, the sections below the first screen
    rendered, then a quiet moment."""
    page.locator("#page-skeleton").wait_for(state="detached", timeout=TIMEOUT)
    page.locator(selector).first.wait_for(timeout=TIMEOUT)
    sections_shown(page)
    page.wait_for_load_state("networkidle", timeout=TIMEOUT)
    page.wait_for_timeout(quiet_ms)


def layout_shifts(page: Any) -> list[dict[str, Any]]:
    """Every layout shift of the current document (not caused by input), with the nodes that moved."""
    return page.evaluate("() => window.__layoutShifts || []")


def cls(page: Any) -> float:
    """The document's cumulative layout shift: the sum of its shifts (at least Lighthouse's session-window CLS)."""
    return round(sum(s["value"] for s in layout_shifts(page)), 4)


def assert_stable(page: Any, what: str) -> None:
    """CLS below ``CLS_MAX``; the message names the shifts and the nodes that moved."""
    shifts = layout_shifts(page)
    total = sum(s["value"] for s in shifts)
    assert total < CLS_MAX, f"{what}: CLS {total:.4f} ≥ {CLS_MAX}; shifts: {shifts}"


def axe_violations(page: Any) -> list[str]:
    """axe-core's violations on the page as it is now (every rule axe runs by default, WCAG 2.2 AA's
    target size among them), one line each: rule, impact, what it says and the first nodes."""
    found = page.evaluate("""async () => {
        const r = await axe.run(document, {resultTypes: ["violations"]});
        return r.violations.map((v) => ({id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 4).map((n) => n.target.join(" ") + " :: " + (n.failureSummary || "")
                                                              .replace(/\\s+/g, " ").slice(0, 200))}));
    }""")
    return [f"{v['id']} ({v['impact']}): {v['help']} — {v['nodes']}" for v in found]


def small_targets(page: Any, minimum: int = 44) -> list[str]:
    """Links, buttons and disclosure summaries on screen smaller than ``minimum`` CSS px either way
    (issue 16: tap targets of 44 × 44 px), links inside running text aside (WCAG's inline exception)."""
    return page.evaluate(
        """(minimum) => {
        const out = [];
        for (const el of document.querySelectorAll("a[href], button, summary, [role=button], select")) {
          const r = el.getBoundingClientRect();
          if (r.width === 0 && r.height === 0) continue;                 // not shown
          if (el.closest("[hidden], [aria-hidden=true]")) continue;
          const parent = el.parentElement;
          const inline = el.tagName === "A" && parent && getComputedStyle(el).display === "inline"
            && (parent.textContent || "").trim().length > (el.textContent || "").trim().length;
          if (inline) continue;
          if (r.width < minimum || r.height < minimum)
            out.push(`${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""} "${(el.textContent || el.getAttribute("aria-label") || "").trim().slice(0, 40)}" ${Math.round(r.width)}×${Math.round(r.height)}`);
        }
        return out;
    }""",
        minimum,
    )
