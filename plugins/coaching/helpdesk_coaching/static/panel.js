/* Coaching: fill the ticket page's coaching panel after the page has loaded (the page itself
   runs no coaching query). Without JavaScript the panel keeps its link to the review page. */
(function () {
  "use strict";
  document.querySelectorAll("[data-coaching-panel]").forEach(function (box) {
    fetch(box.getAttribute("data-coaching-panel"), { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.text();
      })
      .then(function (html) {
        var body = box.querySelector(".coaching-panel-body");
        body.innerHTML = html;  /* our own server's escaped fragment */
        box.setAttribute("data-loaded", "1");
      })
      .catch(function () {
        box.querySelector(".coaching-panel-body").textContent = box.getAttribute("data-failed");  /* rendered in the agent's language */
      });
  });
})();
