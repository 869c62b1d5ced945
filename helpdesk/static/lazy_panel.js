// Lazy panels: a card rendered empty (no query on the page) and filled after load from
// its data-lazy-url (server-rendered HTML, same origin).
(function () {
  "use strict";
  /* Words from the page, in the reader's language (base.html, helpdesk/web/js_texts.py). */
  var T = {};
  try { T = JSON.parse(document.getElementById("helpdesk-texts").getAttribute("data-texts")).lazy_panel || {}; } catch (err) { T = {}; }
  function fill(text, values) {
    return String(text || "").replace(/\{(\w+)\}/g, function (all, key) {
      return values[key] === undefined ? all : String(values[key]);
    });
  }
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
