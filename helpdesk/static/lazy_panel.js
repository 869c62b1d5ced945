// Lazy panels: a card rendered empty (no query on the page) and filled after load from
// its data-lazy-url (server-rendered HTML, same origin).
(function () {
  "use strict";
  /* Words from the page, in the reader's language (texts.js). */
  var T = window.HelpdeskTexts.section("lazy_panel");
  function fill(panel) {
    if (panel.dataset.loaded) return;
    panel.dataset.loaded = "1";
    var body = panel.querySelector(".lazy-panel-body");
    fetch(panel.dataset.lazyUrl, {credentials: "same-origin", headers: {"X-Requested-With": "fetch"}})
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.text(); })
      .then(function (html) { body.innerHTML = html; body.classList.remove("text-body-secondary"); })
      .catch(function () { body.textContent = T.failed; });
  }
  function start() { document.querySelectorAll(".lazy-panel[data-lazy-url]").forEach(fill); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
