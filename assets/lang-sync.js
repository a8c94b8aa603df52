// <html lang> before the page is hydrated: the language cookie says it (so nothing is announced in the
// wrong language). Once hydrated, an effect compiled into every page keeps it equal to the session's
// language (selfcare/components/layout.py, lang_sync). No watching of the DOM here: an observer of the
// whole page cost the usage page's charts over a second of main thread on a phone.
// A file, not an inline script: the pages' CSP allows scripts from 'self' and by hash only
// (selfcare/selfcare.py loads it; docs/security.md "Headers").
(function () {
  var m = document.cookie.match(/(?:^|;\s*)selfcare_lang=(sv|en)(?:;|$)/);
  if (m && document.documentElement.lang !== m[1]) document.documentElement.lang = m[1];
})();
