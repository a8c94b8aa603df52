// <html lang> follows the chosen language. Before the page is hydrated the language cookie says it
// (so nothing is announced in the wrong language); afterwards the hidden #lang-sync element that
// every page renders from the session's language (sign-in, the switch), watched here.
// A file, not an inline script: the pages' CSP allows scripts from 'self' and by hash only
// (selfcare/selfcare.py loads it; docs/security.md "Headers").
(function () {
  var root = document.documentElement;
  function sync() {
    var el = document.getElementById("lang-sync");
    var lang = el && el.getAttribute("data-lang");
    if (!lang) {
      var m = document.cookie.match(/(?:^|;\s*)selfcare_lang=(sv|en)(?:;|$)/);
      lang = m ? m[1] : null;
    }
    if ((lang === "sv" || lang === "en") && root.lang !== lang) root.lang = lang;
  }
  sync();
  new MutationObserver(sync).observe(root, {subtree: true, childList: true, attributes: true,
                                            attributeFilter: ["data-lang", "lang"]});
})();
