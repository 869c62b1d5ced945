/* Helpdesk: keyboard shortcuts, the queue's hover preview and bulk pickers, read marks,
   "Send and next". Every page works without this file; see docs/agents.md for the keys. */
(function () {
  "use strict";
  /* Words from the page, in the reader's language (texts.js). */
  var T = window.HelpdeskTexts.section("shortcuts"), fill = window.HelpdeskTexts.fill;

  var QUEUE_KEY = "helpdesk.queue"; /* sessionStorage: the last queue page's order */

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      });
  }

  /* Shortcuts never fire while the person types in a field (or holds a modifier). */
  function typing(event) {
    var el = event.target;
    if (event.ctrlKey || event.metaKey || event.altKey) { return true; }
    if (!el || !el.tagName) { return false; }
    var tag = el.tagName.toLowerCase();
    if (tag === "input") {
      return ["checkbox", "radio", "button", "submit", "reset"].indexOf((el.type || "").toLowerCase()) === -1;
    }
    return tag === "textarea" || tag === "select" || el.isContentEditable;
  }

  var queueTable = document.getElementById("queue-table");
  var ticketHeader = document.getElementById("ticket-header");
  if (!queueTable && !ticketHeader && !document.getElementById("bulk-form")) { return; }

  /* ------------------------------------------------------------ the help overlay */
  // [keys, what they do]: several keys are alternatives ("o" or "Enter").
  var KEYS = queueTable ? [
    [["j"], T.next], [["k"], T.previous],
    [["o", T.enter], T.open], [["x"], T.tick],
    [["?"], T.help], [[T.esc], T.close_help]
  ] : [
    [["r"], T.reply],
    document.getElementById("reply-internal") ? [["n"], T.note] : null,
    document.getElementById("fields-form") ? [["e"], T.resolve] : null,
    [["?"], T.help], [[T.esc], T.close_help]
  ].filter(Boolean);
  var overlay = null;

  function buildOverlay() {
    overlay = document.createElement("div");
    overlay.className = "shortcut-overlay";
    overlay.id = "shortcut-help";
    overlay.setAttribute("role", "dialog");
    overlay.setAttribute("aria-modal", "true");
    overlay.setAttribute("aria-labelledby", "shortcut-help-title");
    overlay.hidden = true;
    var box = document.createElement("div");
    box.className = "shortcut-box card shadow";
    var body = document.createElement("div");
    body.className = "card-body";
    var title = document.createElement("h2");
    title.className = "h5";
    title.id = "shortcut-help-title";
    title.textContent = T.title;
    var list = document.createElement("dl");
    list.className = "shortcut-list mb-2";
    KEYS.forEach(function (pair) {
      var dt = document.createElement("dt");
      pair[0].forEach(function (key, i) {
        if (i) { dt.appendChild(document.createTextNode(" " + T.or + " ")); }
        var kbd = document.createElement("kbd");
        kbd.textContent = key;
        dt.appendChild(kbd);
      });
      var dd = document.createElement("dd");
      dd.textContent = pair[1];
      list.appendChild(dt);
      list.appendChild(dd);
    });
    var note = document.createElement("p");
    note.className = "small text-body-secondary mb-2";
    note.textContent = T.keys_note;
    var close = document.createElement("button");
    close.type = "button";
    close.className = "btn btn-sm btn-secondary";
    close.id = "shortcut-help-close";
    close.textContent = T.close;
    close.addEventListener("click", function () { toggleHelp(false); });
    body.appendChild(title);
    body.appendChild(list);
    body.appendChild(note);
    body.appendChild(close);
    box.appendChild(body);
    overlay.appendChild(box);
    overlay.addEventListener("click", function (event) {
      if (event.target === overlay) { toggleHelp(false); }
    });
    document.body.appendChild(overlay);
  }

  function toggleHelp(show) {
    if (!overlay) { buildOverlay(); }
    overlay.hidden = show === undefined ? !overlay.hidden : !show;
    if (!overlay.hidden) { document.getElementById("shortcut-help-close").focus(); }
  }

  /* ------------------------------------------------------------ the queue */
  var rows = queueTable ? Array.prototype.slice.call(queueTable.querySelectorAll(".ticket-row")) : [];
  var current = -1;

  function select(index) {
    if (!rows.length) { return; }
    index = Math.max(0, Math.min(rows.length - 1, index));
    if (current >= 0 && rows[current]) { rows[current].classList.remove("is-current"); }
    current = index;
    var row = rows[current];
    row.classList.add("is-current");
    var link = row.querySelector(".ticket-link");
    if (link) { link.focus({ preventScroll: true }); }
    row.scrollIntoView({ block: "nearest" });
  }

  if (queueTable) {
    try {
      window.sessionStorage.setItem(QUEUE_KEY, JSON.stringify({
        query: window.location.search,
        refs: rows.map(function (row) { return row.getAttribute("data-reference"); })
      }));
    } catch (e) { /* storage off: "Send and next" simply stays hidden */ }
    rows.forEach(function (row, i) {
      row.addEventListener("focusin", function () {
        if (current !== i) {
          if (current >= 0 && rows[current]) { rows[current].classList.remove("is-current"); }
          current = i;
          row.classList.add("is-current");
        }
      });
    });
  }

  /* Hover preview of the last message: loaded once per row, when first wanted. */
  var popover = null, previewCache = {}, hoverTimer = null;

  function showPreview(row) {
    var url = row.getAttribute("data-preview-url");
    if (!url) { return; }
    var render = function (data) {
      if (!popover) {
        popover = document.createElement("div");
        popover.className = "queue-preview card shadow-sm small";
        popover.id = "queue-preview";
        popover.setAttribute("role", "tooltip");
        document.body.appendChild(popover);
      }
      popover.textContent = "";
      var head = document.createElement("div");
      head.className = "fw-semibold mb-1";
      head.textContent = fill(data.internal ? T.preview_head_internal : T.preview_head, { name: data.author });
      var text = document.createElement("div");
      text.className = "queue-preview-text";
      text.textContent = data.excerpt;
      popover.appendChild(head);
      popover.appendChild(text);
      var rect = row.getBoundingClientRect();
      popover.style.top = (window.scrollY + rect.bottom + 4) + "px";
      popover.style.left = (window.scrollX + rect.left + 40) + "px";
      popover.hidden = false;
      var subject = row.querySelector(".subject-link");
      if (subject) { subject.title = fill(T.preview_title, { name: data.author, excerpt: data.excerpt }); }
    };
    if (previewCache[url]) { render(previewCache[url]); return; }
    getJSON(url).then(function (data) {
      previewCache[url] = data;
      if (row.matches(":hover") || row.classList.contains("is-current")) { render(data); }
    }).catch(function () { /* no preview: the row still opens the ticket */ });
  }

  function hidePreview() {
    window.clearTimeout(hoverTimer);
    if (popover) { popover.hidden = true; }
  }

  rows.forEach(function (row) {
    row.addEventListener("mouseenter", function () {
      window.clearTimeout(hoverTimer);
      hoverTimer = window.setTimeout(function () { showPreview(row); }, 350);
    });
    row.addEventListener("mouseleave", hidePreview);
  });

  /* Bulk pickers: show the one the chosen action needs. */
  var bulkAction = document.getElementById("bulk-action");
  if (bulkAction) {
    var pickers = document.querySelectorAll(".bulk-picker");
    var showPicker = function () {
      pickers.forEach(function (picker) {
        picker.classList.toggle("d-none", picker.getAttribute("data-for") !== bulkAction.value);
      });
    };
    bulkAction.addEventListener("change", showPicker);
    showPicker();
  }

  /* The merge target: a typeahead of tickets the agent may see. */
  var target = document.getElementById("bulk-target");
  var targets = document.getElementById("bulk-targets");
  if (target && targets) {
    var lookupTimer = null;
    target.addEventListener("input", function () {
      window.clearTimeout(lookupTimer);
      var q = target.value.trim();
      if (q.length < 2 || q.indexOf(" · ") !== -1) { return; }
      lookupTimer = window.setTimeout(function () {
        getJSON(target.getAttribute("data-lookup-url") + "?q=" + encodeURIComponent(q)).then(function (data) {
          targets.textContent = "";
          (data.tickets || []).forEach(function (t) {
            var option = document.createElement("option");
            option.value = t.label;
            targets.appendChild(option);
          });
        }).catch(function () { /* keep the page's own suggestions */ });
      }, 200);
    });
  }

  /* ------------------------------------------------------------ the ticket page */
  var body = document.getElementById("reply-body");
  var internal = document.getElementById("reply-internal");

  if (ticketHeader) {
    /* Read mark: up to the last message this page showed. */
    var seenUrl = ticketHeader.getAttribute("data-seen-url");
    var lastId = ticketHeader.getAttribute("data-last-message-id");
    if (seenUrl && lastId && lastId !== "0") {
      var data = new FormData();
      data.append("message_id", lastId);
      fetch(seenUrl, { method: "POST", credentials: "same-origin", body: data,
                       headers: { "X-CSRFToken": csrfToken() } })
        .then(function (response) { return response.text(); }) /* 204: read to the end, so the page goes idle */
        .catch(function () { /* stays unread; harmless */ });
    }

    /* "Send and next": the next ticket of the queue page the agent came from. */
    var sendNext = document.getElementById("reply-send-next");
    var context = null;
    try { context = JSON.parse(window.sessionStorage.getItem(QUEUE_KEY) || "null"); } catch (e) { context = null; }
    if (sendNext && context && context.refs) {
      var here = context.refs.indexOf(ticketHeader.getAttribute("data-reference"));
      if (here !== -1) {
        document.getElementById("reply-next-ticket").value = context.refs[here + 1] || "";
        document.getElementById("reply-next-queue").value = context.query || "";
        sendNext.classList.remove("d-none");
      }
    }
  }

  function focusComposer(asNote) {
    if (!body) { return; }
    if (internal && internal.checked !== asNote) { internal.click(); }
    body.focus();
  }

  function resolve() {
    var form = document.getElementById("fields-form");
    var status = form && form.querySelector('select[name="status"]');
    if (!status) { return; }
    status.value = "resolved";
    if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
  }

  /* Enter opens the selected ticket only from the list itself: on a button it presses the button. */
  function onRowOrPage(event) {
    var el = event.target;
    return el === document.body || el === document.documentElement || !!(el.closest && el.closest(".ticket-row"));
  }

  /* ------------------------------------------------------------ the keys */
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && overlay && !overlay.hidden) {
      toggleHelp(false);
      event.preventDefault();
      return;
    }
    if (typing(event)) { return; }
    var key = event.key;
    if (key === "?") { toggleHelp(); event.preventDefault(); return; }
    if (overlay && !overlay.hidden) { return; }
    if (queueTable) {
      if (key === "j") { select(current + 1); event.preventDefault(); }
      else if (key === "k") { select(current < 0 ? 0 : current - 1); event.preventDefault(); }
      else if ((key === "o" || (key === "Enter" && onRowOrPage(event))) && current >= 0) {
        var link = rows[current].querySelector(".ticket-link");
        if (link) { event.preventDefault(); window.location.href = link.href; }
      } else if (key === "x" && current >= 0) {
        var box = rows[current].querySelector(".ticket-check");
        if (box) { box.click(); event.preventDefault(); }
      }
    } else if (ticketHeader) {
      if (key === "r") { focusComposer(false); event.preventDefault(); }
      else if (key === "n" && internal) { focusComposer(true); event.preventDefault(); }
      else if (key === "e") { resolve(); event.preventDefault(); }
    }
  });
})();
