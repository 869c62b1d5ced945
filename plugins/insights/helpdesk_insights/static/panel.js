// Lazy panels: the page renders an empty placeholder (no SQL of ours in the page's render),
// this fills it from the plugin's own URL after load. The answer is server-rendered, escaped HTML.
(function () {
  "use strict";
  function fill(el) {
    var url = el.getAttribute("data-insights-panel");
    if (!url) { return; }
    fetch(url, {credentials: "same-origin", headers: {"Accept": "text/html"}})
      .then(function (r) { return r.ok ? r.text() : ""; })
      .then(function (html) {
        el.innerHTML = html;
        el.removeAttribute("aria-busy");
      })
      .catch(function () { el.removeAttribute("aria-busy"); });
  }
  function start() {
    document.querySelectorAll("[data-insights-panel]").forEach(fill);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
