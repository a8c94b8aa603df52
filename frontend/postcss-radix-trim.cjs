// PostCSS plugin (installed into .web by rxconfig.RadixThemesTrimmed): trims Radix Themes' stylesheet to what
// the app can render.
//
// 1. Responsive variants. Radix ships every size, spacing and layout class again for each breakpoint (xs
//    520 px … xl 1640 px), inside `@media (min-width: …)` blocks whose selectors carry the breakpoint's
//    prefix (`.xs\:rt-r-m-2`, `.rt-Button:where(.md\:rt-r-size-3)`). A component only gets such a class from a
//    responsive prop (`size={"initial": "1", "md": "3"}`, rx.breakpoints), which the app never uses
//    (tests/app/test_radix_plugin.py checks). They are 468 KB of Radix's 684 KB of component and utility
//    CSS: the one render-blocking stylesheet of every page, parsed on the main thread before the first
//    paint. A rule goes only if every one of its selectors has a breakpoint prefix; an emptied @media goes too.
//
// 2. Components the app never renders. Radix's components.css styles all 60-odd components (Switch, Slider,
//    Kbd, DataList, SegmentedControl, …). The compiled app (.web/app, .web/app_components, .web/components,
//    .web/utils: the files the build bundles) imports some of them from "@radix-ui/themes"; each such
//    component's module in Radix's dist, and the Radix modules it imports, name the component classes it
//    renders (`"rt-BaseButton"`, `"rt-DialogContent"`). A selector naming a component class (`.rt-Capital…`)
//    outside that set can never match and goes; a rule with no selector left goes. Utility and variant
//    classes (`rt-r-size-2`, `rt-variant-soft`) are lower case and stay. If an imported name has no module
//    (a Radix upgrade renamed it), nothing is trimmed. tests/e2e/test_front_weight.py checks the build: every
//    component class in the JavaScript the pages load has its rules in the stylesheet.
"use strict";

const fs = require("fs");
const path = require("path");

const RESPONSIVE = /(?:^|[^A-Za-z0-9_-])(?:xs|sm|md|lg|xl)\\:/;
const COMPONENT_CLASS = /\.rt-([A-Z][A-Za-z0-9]*)/g;
const WEB = __dirname;
const SOURCES = ["app", "app_components", "components", "utils"];
const RADIX_ESM = path.join(WEB, "node_modules", "@radix-ui", "themes", "dist", "esm", "components");
const IMPORT = /import\s*\{([^}]*)\}\s*from\s*["']@radix-ui\/themes["']/g;

function sourceFiles(dir, out) {
  let entries = [];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    return out;
  }
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) sourceFiles(full, out);
    else if (/\.(jsx?|tsx?)$/.test(entry.name)) out.push(full);
  }
  return out;
}

function kebab(name) {
  return name.replace(/([a-z0-9])([A-Z])/g, "$1-$2").toLowerCase();
}

// The component classes the app can render, or null when they cannot be known for sure.
function renderedClasses() {
  const names = new Set();
  for (const dir of SOURCES) {
    for (const file of sourceFiles(path.join(WEB, dir), [])) {
      const text = fs.readFileSync(file, "utf8");
      for (const match of text.matchAll(IMPORT)) {
        for (const part of match[1].split(",")) {
          const name = part.trim().split(/\s+as\s+/)[0].trim();
          if (name) names.add(name);
        }
      }
    }
  }
  if (names.size === 0) return null;
  const seen = new Set();
  const todo = [];
  for (const name of names) {
    const file = path.join(RADIX_ESM, `${kebab(name)}.js`);
    if (!fs.existsSync(file)) {
      console.warn(`postcss-radix-trim: no Radix module for "${name}"; keeping every component's CSS`);
      return null;
    }
    todo.push(file);
  }
  const classes = new Set();
  while (todo.length) {
    const file = todo.pop();
    if (seen.has(file)) continue;
    seen.add(file);
    const text = fs.readFileSync(file, "utf8");
    for (const m of text.matchAll(/rt-([A-Z][A-Za-z0-9]*)/g)) classes.add(m[1]);
    for (const m of text.matchAll(/from\s*"(\.{1,2}\/[^"]+\.js)"/g)) {
      const next = path.resolve(path.dirname(file), m[1]);
      if (next.startsWith(path.dirname(RADIX_ESM)) && fs.existsSync(next)) todo.push(next);
    }
  }
  return classes;
}

function keepSelector(selector, classes) {
  for (const m of selector.matchAll(COMPONENT_CLASS)) {
    if (!classes.has(m[1])) return false;
  }
  return true;
}

const plugin = () => ({
  postcssPlugin: "selfcare-radix-trim",
  OnceExit(root) {
    root.walkAtRules("media", (media) => {
      if (!/min-width/.test(media.params)) return;
      media.walkRules((rule) => {
        if (rule.selectors.every((s) => RESPONSIVE.test(s))) rule.remove();
      });
      media.walkAtRules((inner) => {
        if (inner.nodes && inner.nodes.length === 0) inner.remove();
      });
      if (!media.nodes || media.nodes.length === 0) media.remove();
    });
    const classes = renderedClasses();
    if (classes === null) return;
    root.walkRules((rule) => {
      if (rule.parent && rule.parent.type === "atrule" && /keyframes$/.test(rule.parent.name)) return;
      if (!COMPONENT_CLASS.test(rule.selector)) return;
      COMPONENT_CLASS.lastIndex = 0;
      const kept = rule.selectors.filter((s) => keepSelector(s, classes));
      if (kept.length === 0) rule.remove();
      else if (kept.length !== rule.selectors.length) rule.selectors = kept;
    });
    root.walkAtRules((at) => {
      if (at.nodes && at.nodes.length === 0) at.remove();
    });
  },
});
plugin.postcss = true;
module.exports = plugin;
