// Lazy panels: a card rendered empty (no query on the page) and filled after load from
// its data-lazy-url (server-rendered HTML, same origin).
(function () {
  "use strict";
  function fill(panel) {
    if (panel.dataset.loaded) return;
    panel.dataset.loaded = "1";
    var body = panel.querySelector(".lazy-panel-body");
    fetch(panel.dataset.lazyUrl, {credentials: "same-origin", headers: {"X-Requested-With": "fetch"}})
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.text(); })
      .then(function (html) { body.innerHTML = html; body.classList.remove("text-body-secondary"); })
      .catch(function () { body.textContent = "Could not load this card; reload the page to try again."; });
  }
  function start() { document.querySelectorAll(".lazy-panel[data-lazy-url]").forEach(fill); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
