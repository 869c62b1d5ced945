/* @mentions in internal notes: typing "@" and a few letters in the reply box of an internal
 * note offers matching agents (JSON from /agents/mentionable, only those who can see the
 * ticket); choosing one inserts a stable token "@[Name](user:ID)". The mentioned agent is
 * notified and follows the ticket. No inline script or style (strict CSP). */
(function () {
  "use strict";
  /* Words from the page, in the reader's language (texts.js). */
  var T = window.HelpdeskTexts.section("mentions");
  var script = document.getElementById("mentions-script");
  var body = document.getElementById("reply-body");
  if (!script || !body || !window.fetch) { return; }
  var url = script.getAttribute("data-url");
  var internal = document.getElementById("reply-internal");  // absent for light agents: always notes
  var list = document.createElement("ul");
  list.id = "mention-picker";
  list.className = "list-group mention-picker d-none";
  list.setAttribute("role", "listbox");
  list.setAttribute("aria-label", T.picker);
  body.parentNode.insertBefore(list, body.nextSibling);
  body.setAttribute("aria-controls", "mention-picker");
  var items = [], active = -1, pending = 0, start = -1;

  function isNote() { return !internal || internal.checked; }

  function close() {
    list.classList.add("d-none");
    list.textContent = "";
    items = []; active = -1; start = -1;
    body.setAttribute("aria-expanded", "false");
  }

  function query() {
    var caret = body.selectionStart, before = body.value.slice(0, caret);
    var match = /(^|\s)@([^\s@\[\]()]{0,30})$/.exec(before);
    if (!match) { return null; }
    return {start: caret - match[2].length - 1, text: match[2]};
  }

  function highlight(index) {
    active = index;
    items.forEach(function (item, i) {
      item.classList.toggle("active", i === index);
      item.setAttribute("aria-selected", i === index ? "true" : "false");
    });
  }

  function choose(index) {
    var agent = items[index] && items[index].agent;
    if (!agent || start < 0) { return; }
    var caret = body.selectionStart;
    var text = agent.token + " ";
    body.value = body.value.slice(0, start) + text + body.value.slice(caret);
    var at = start + text.length;
    body.focus();
    body.setSelectionRange(at, at);
    close();
  }

  function show(agents, from) {
    list.textContent = "";
    items = [];
    if (!agents.length) { close(); return; }
    start = from;
    agents.forEach(function (agent, i) {
      var item = document.createElement("li");
      item.className = "list-group-item list-group-item-action mention-option";
      item.setAttribute("role", "option");
      item.id = "mention-option-" + agent.id;
      item.textContent = agent.name;
      item.agent = agent;
      item.addEventListener("mousedown", function (event) { event.preventDefault(); choose(i); });
      list.appendChild(item);
      items.push(item);
    });
    list.classList.remove("d-none");
    body.setAttribute("aria-expanded", "true");
    highlight(0);
  }

  body.addEventListener("input", function () {
    var q = isNote() ? query() : null;
    if (!q) { close(); return; }
    var ticket = ++pending;
    fetch(url + "&q=" + encodeURIComponent(q.text), {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.ok ? response.json() : []; })
      .then(function (agents) { if (ticket === pending) { show(agents, q.start); } })
      .catch(close);
  });

  body.addEventListener("keydown", function (event) {
    if (list.classList.contains("d-none") || !items.length) { return; }
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      var step = event.key === "ArrowDown" ? 1 : -1;
      highlight((active + step + items.length) % items.length);
    } else if (event.key === "Enter" || event.key === "Tab") {
      event.preventDefault();
      choose(active);
    } else if (event.key === "Escape") {
      event.preventDefault();
      close();
    }
  });
  body.addEventListener("blur", close);
  if (internal) { internal.addEventListener("change", close); }
})();
