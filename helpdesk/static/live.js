/* The live channel (docs/operations.md, helpdesk/web/live.py): presence and live updates on
 * the ticket page, live rows in the queue, the bell's count on every staff page. Everything
 * here is an extra: when the stream is down the pages work as before, and this script
 * retries quietly.
 *
 * Texts from events (names, references) are only ever set with textContent; new messages and
 * queue rows are the server's own rendering of the page, fetched with the agent's session
 * (so the scoping function and the templates' escaping apply), never HTML from an event.
 */
(function () {
  "use strict";
  var root = document.getElementById("live-channel");
  if (!root || !window.EventSource || !window.fetch) { return; }
  var me = parseInt(root.getAttribute("data-me"), 10);
  var ticketId = parseInt(root.getAttribute("data-ticket-id") || "0", 10);
  var topics = root.getAttribute("data-topics") || "";
  var streamUrl = root.getAttribute("data-stream-url") + "?topics=" + encodeURIComponent(topics);

  /* Words from the page, in the reader's language (texts.js). */
  var T = window.HelpdeskTexts.section("live"), fill = window.HelpdeskTexts.fill, plural = window.HelpdeskTexts.plural;

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function fetchPage() {
    return fetch(window.location.pathname + window.location.search, {
      credentials: "same-origin", headers: { "Accept": "text/html" }
    }).then(function (r) {
      if (!r.ok) { throw new Error("page " + r.status); }
      return r.text();
    }).then(function (html) { return new DOMParser().parseFromString(html, "text/html"); });
  }

  /* ------------------------------------------------------------ the stream */
  var source = null, failures = 0;
  var handlers = [];
  function connect() {
    source = new EventSource(streamUrl);
    source.onopen = function () { failures = 0; root.setAttribute("data-state", "connected"); };
    source.onmessage = function (e) {
      var event;
      try { event = JSON.parse(e.data); } catch (err) { return; }
      handlers.forEach(function (h) { h(event); });
    };
    source.onerror = function () {
      // The browser reconnects by itself (the stream ends every minute on purpose). If it
      // gave up (the server answered an error), try again later, more slowly each time.
      root.setAttribute("data-state", "reconnecting");
      if (source.readyState === EventSource.CLOSED) {
        failures += 1;
        window.setTimeout(connect, Math.min(60000, 2000 * failures));
      }
    };
  }
  window.addEventListener("pagehide", function () { if (source) { source.close(); } });

  /* ------------------------------------------------------------ ticket page */
  function ticketPage() {
    var presenceUrl = root.getAttribute("data-presence-url");
    var header = document.getElementById("ticket-header");
    var body = document.getElementById("reply-body");
    var presenceBox = document.createElement("div");
    presenceBox.id = "live-presence";
    presenceBox.className = "live-presence small text-body-secondary mb-3";
    presenceBox.setAttribute("aria-live", "polite");
    header.parentNode.insertBefore(presenceBox, header.nextSibling);

    var banner = document.createElement("div");
    banner.id = "live-banner";
    banner.className = "alert alert-info small live-banner d-none";
    banner.setAttribute("role", "status");
    var bannerTitle = document.createElement("strong");
    bannerTitle.textContent = (T.banner_title || "") + " ";
    var bannerList = document.createElement("span");
    bannerList.id = "live-banner-items";
    var bannerNote = document.createElement("span");
    bannerNote.textContent = " " + (T.banner_note || "");
    banner.appendChild(bannerTitle);
    banner.appendChild(bannerList);
    banner.appendChild(bannerNote);
    var composer = document.getElementById("composer");
    if (composer) { composer.parentNode.insertBefore(banner, composer); }

    function showPresence(list) {
      presenceBox.textContent = "";
      (list || []).forEach(function (p) {
        if (p.user_id === me) { return; }
        var item = document.createElement("span");
        item.className = "live-presence-item me-3" + (p.state === "typing" ? " live-typing" : "");
        item.setAttribute("data-user-id", String(p.user_id));
        item.textContent = fill(p.state === "typing" ? T.typing : T.viewing, { name: p.name });
        presenceBox.appendChild(item);
      });
    }

    var state = "viewing", lastTyped = 0;
    function announce(newState) {
      state = newState;
      var data = new FormData();
      data.append("state", newState);
      data.append("csrf_token", csrfToken());
      return fetch(presenceUrl, { method: "POST", body: data, credentials: "same-origin",
                                  headers: { "X-CSRFToken": csrfToken(), "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (answer) { if (answer) { showPresence(answer.present); } })
        .catch(function () { /* the live channel is optional */ });
    }
    function heartbeat() {
      var typing = Date.now() - lastTyped < 4000;
      announce(typing ? "typing" : "viewing");
    }
    if (body) {
      body.addEventListener("input", function () {
        lastTyped = Date.now();
        if (state !== "typing") { announce("typing"); }
      });
    }
    heartbeat();
    window.setInterval(heartbeat, 5000);
    window.addEventListener("pagehide", function () {
      var data = new FormData();
      data.append("state", "left");
      data.append("csrf_token", csrfToken());
      if (navigator.sendBeacon) { navigator.sendBeacon(presenceUrl, data); }
    });

    function ago(since) {
      // As the server words it (helpdesk/web/collisions.py, ago): "20 s ago", "3 min ago".
      var seconds = Math.max(0, Math.floor((Date.now() - since) / 1000));
      if (seconds < 5) { return T.just_now; }
      if (seconds < 60) { return fill(T.seconds_ago, { seconds: seconds }); }
      if (seconds < 3600) { return fill(T.minutes_ago, { minutes: Math.floor(seconds / 60) }); }
      return fill(T.hours_ago, { hours: Math.floor(seconds / 3600) });
    }
    function ageBanner() {
      bannerList.querySelectorAll(".live-banner-item").forEach(function (item) {
        var age = item.querySelector(".live-banner-age");
        age.textContent = ago(parseInt(item.getAttribute("data-at"), 10));
      });
    }
    function addToBanner(sentence, values) {
      // "Lea Lang replied 20 s ago." — the age counts on while the page stays open: the
      // sentence is split at its "{ago}" and the age lives in a span of its own.
      var item = document.createElement("span");
      item.className = "live-banner-item me-2";
      item.setAttribute("data-at", String(Date.now()));
      var age = document.createElement("span");
      age.className = "live-banner-age";
      var parts = String(sentence || "").split("{ago}");
      item.appendChild(document.createTextNode(fill(parts[0], values)));
      item.appendChild(age);
      item.appendChild(document.createTextNode(fill(parts.slice(1).join(""), values)));
      bannerList.appendChild(item);
      banner.classList.remove("d-none");
      ageBanner();
    }
    window.setInterval(ageBanner, 5000);

    var refreshing = null;
    function refresh() {
      // The page as the server renders it now: new messages, status, history.
      if (refreshing) { return refreshing; }
      refreshing = fetchPage().then(function (doc) {
        var conversation = document.getElementById("conversation");
        doc.querySelectorAll("#conversation article.message").forEach(function (article) {
          if (!document.getElementById(article.id)) {
            var empty = conversation.querySelector(".empty-state");
            if (empty) { empty.remove(); }
            var copy = document.importNode(article, true);
            copy.classList.add("live-new");
            conversation.appendChild(copy);
          }
        });
        ["ticket-status", "ticket-priority", "audit-trail"].forEach(function (id) {
          var fresh = doc.getElementById(id), here = document.getElementById(id);
          if (fresh && here) { here.replaceWith(document.importNode(fresh, true)); }
        });
      }).catch(function () { /* shown on the next reload */ }).then(function () { refreshing = null; });
      return refreshing;
    }

    function shownValue(field, value) {
      // Stored values (status, priority) in the reader's words; an empty one as "nobody" etc.
      if (field === "status") { return (T.statuses || {})[value] || value; }
      if (field === "priority") { return (T.priorities || {})[value] || value; }
      if (value) { return value; }
      return field === "assignee" ? T.nobody : field === "team" ? T.no_team : T.nothing;
    }
    handlers.push(function (event) {
      if (event.ticket_id !== ticketId) { return; }
      if (event.type === "presence") { showPresence(event.present); return; }
      if (event.type === "message") {
        if (event.author_id !== me) {
          addToBanner(event.internal ? T.noted : T.replied, { name: event.author_name || T.system });
        }
        refresh();
      } else if (event.type === "changed") {
        if (event.actor_id !== me) {
          Object.keys(event.changes || {}).forEach(function (field) {
            addToBanner(T.changed, { field: (T.fields || {})[field] || field, value: shownValue(field, event.changes[field]),
                                     name: event.actor_id ? event.actor_name : T.system });
          });
        }
        refresh();
      }
    });
  }

  /* ------------------------------------------------------------ queue */
  function queuePage() {
    var changed = {};
    var bar = document.createElement("div");
    bar.id = "live-queue-bar";
    bar.className = "alert alert-info py-2 small d-none live-queue-bar";
    bar.setAttribute("role", "status");
    var text = document.createElement("span");
    var show = document.createElement("button");
    show.type = "button";
    show.className = "btn btn-sm btn-link py-0";
    show.id = "live-queue-show";
    show.textContent = T.show;
    bar.appendChild(text);
    bar.appendChild(show);
    var form = document.getElementById("bulk-form");
    if (!form) { return; }
    form.parentNode.insertBefore(bar, form);

    function busy() {
      // Never pull the list from under an agent who is selecting tickets.
      return document.querySelector("#bulk-form input.ticket-check:checked") !== null;
    }
    function listNode(doc) {
      var table = doc.getElementById("queue-table");
      return table ? table.closest(".table-responsive") : doc.getElementById("queue-empty");
    }
    function reload() {
      var marked = Object.keys(changed);
      changed = {};
      bar.classList.add("d-none");
      fetchPage().then(function (doc) {
        var fresh = listNode(doc), here = listNode(document);
        if (!fresh || !here) { return; }
        var copy = document.importNode(fresh, true);
        marked.forEach(function (ref) {
          copy.querySelectorAll("tr.ticket-row").forEach(function (row) {
            if (row.getAttribute("data-reference") === ref) { row.classList.add("live-updated"); }
          });
        });
        here.replaceWith(copy);
        document.dispatchEvent(new CustomEvent("helpdesk:queue-refreshed"));
      }).catch(function () { /* shown on the next reload */ });
    }
    show.addEventListener("click", reload);
    var timer = null;
    handlers.push(function (event) {
      if (event.type !== "ticket_created" && event.type !== "ticket_updated") { return; }
      changed[event.reference] = true;
      if (busy()) {
        var n = Object.keys(changed).length;
        text.textContent = plural(T.queue_changed, n);
        bar.classList.remove("d-none");
        return;
      }
      window.clearTimeout(timer);
      timer = window.setTimeout(reload, 300);
    });
  }

  /* ------------------------------------------------------------ the bell (every staff page) */
  handlers.push(function (event) {
    if (event.type !== "notifications") { return; }
    var count = document.getElementById("notification-count");
    if (!count) { return; }
    var unread = parseInt(event.unread, 10) || 0;
    count.textContent = unread < 100 ? String(unread) : "99+";  // as base.html renders it
    count.hidden = unread === 0;
    var bell = document.getElementById("notification-bell");
    if (bell) { bell.setAttribute("aria-label", plural(T.bell, unread)); }
  });

  if (ticketId) { ticketPage(); } else if (topics.split(",").indexOf("queue") >= 0) { queuePage(); }
  connect();
}());
