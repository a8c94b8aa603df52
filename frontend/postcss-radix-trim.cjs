// PostCSS plugin (installed into .web by rxconfig.RadixThemesTrimmed): drops Radix Themes' responsive
// variants from the bundled stylesheet.
//
// Radix ships every size, spacing and layout class again for each breakpoint (xs 520 px … xl 1640 px),
// inside `@media (min-width: …)` blocks whose selectors carry the breakpoint's prefix (`.xs\:rt-r-m-2`,
// `.rt-Button:where(.md\:rt-r-size-3)`). A component only gets such a class from a responsive prop
// (`size={"initial": "1", "md": "3"}`, rx.breakpoints), which the app never uses
// (tests/app/test_radix_plugin.py checks). They are 468 KB of Radix's 684 KB of component and utility
// CSS: the one render-blocking stylesheet of every page, parsed on the main thread before the first paint.
// A rule goes only if every one of its selectors has a breakpoint prefix; an emptied @media goes too.
"use strict";

const RESPONSIVE = /(?:^|[^A-Za-z0-9_-])(?:xs|sm|md|lg|xl)\\:/;

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
  },
});
plugin.postcss = true;
module.exports = plugin;
