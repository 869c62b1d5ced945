// The ticket page's "Suggested articles" panel: filled after the page loaded (the page itself
// runs no query for it). Insert a link or the text into the reply composer in one click.
(function () {
  "use strict";
  // Its words are rendered into the panel's data-* attributes in the agent's language.
  var panel = document.getElementById("knowledge-panel");
  if (!panel) { return; }
  var list = document.getElementById("knowledge-panel-list");

  function say(message) {
    list.textContent = "";
    var li = document.createElement("li");
    li.className = "text-muted";
    li.textContent = message;
    list.appendChild(li);
  }

  function insert(snippet) {
    var area = document.getElementById("reply-body");
    if (!area) { return; }
    var start = area.selectionStart, end = area.selectionEnd, value = area.value;
    if (typeof start !== "number" || document.activeElement !== area && start === 0 && end === 0) {
      start = end = value.length;
    }
    var before = value.slice(0, start), after = value.slice(end);
    var pad = before && !/\n$/.test(before) ? "\n\n" : "";
    area.value = before + pad + snippet + after;
    var caret = (before + pad + snippet).length;
    area.focus();
    area.setSelectionRange(caret, caret);
    area.dispatchEvent(new Event("input", {bubbles: true}));
  }

  function button(label, cls, onClick) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "btn btn-sm btn-outline-secondary py-0 " + cls;
    b.textContent = label;
    b.addEventListener("click", onClick);
    return b;
  }

  fetch(panel.dataset.url, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
    .then(function (r) { if (!r.ok) { throw new Error("status " + r.status); } return r.json(); })
    .then(function (data) {
      var articles = data.articles || [];
      if (!articles.length) { say(panel.dataset.none); return; }
      list.textContent = "";
      articles.forEach(function (a) {
        var li = document.createElement("li");
        li.className = "mb-2 knowledge-panel-item";
        var link = document.createElement("a");
        link.href = a.staff_url;
        link.textContent = a.title;
        li.appendChild(link);
        if (a.internal) {
          var badge = document.createElement("span");
          badge.className = "badge text-bg-warning ms-1";
          badge.textContent = panel.dataset.internal;
          li.appendChild(badge);
        }
        var excerpt = document.createElement("div");
        excerpt.className = "text-body-secondary";
        excerpt.textContent = a.excerpt;
        li.appendChild(excerpt);
        var actions = document.createElement("div");
        actions.className = "d-flex gap-1 mt-1";
        if (!a.internal) {
          actions.appendChild(button(panel.dataset.insertLink, "knowledge-insert-link", function () {
            insert("[" + a.title.replace(/[[\]]/g, "") + "](" + a.url + ")");
          }));
        }
        actions.appendChild(button(panel.dataset.insertText, "knowledge-insert-text", function () { insert(a.body); }));
        li.appendChild(actions);
        list.appendChild(li);
      });
    })
    .catch(function () { say(panel.dataset.failed); });
})();
