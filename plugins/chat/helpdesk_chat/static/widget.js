/* Helpdesk chat widget. Embed with one tag:
 *   <script src="https://support.example.com/chat/widget.js" data-team="Sales" async></script>
 * Optional: data-color, data-greeting, and for signed-in users data-user-id, data-user-name and
 * data-user-hash (HMAC-SHA256 of the user id with the identity secret, computed on your server).
 * Everything shown is set with textContent (never as markup), inside a shadow root (styles kept apart). */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.__helpdeskChat) { return; }
  window.__helpdeskChat = true;
  var base = script.src.replace(/\/chat\/widget\.js(\?.*)?$/, "");
  var data = script.dataset || {};
  var storeKey = "helpdesk-chat:" + base;
  var state = { token: null, seen: {}, stream: null, config: null, status: null, rated: false,
                typingTimer: null, typingSent: 0, email: "", name: "", hasMessages: false,
                suggestTimer: null, pending: null, attempt: randomId(),
                language: (navigator.language || "en").slice(0, 12) };

  function randomId() {
    var bytes = new Uint8Array(12);
    (window.crypto || window.msCrypto).getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function api(path, options) {
    options = options || {};
    var headers = options.headers || {};
    if (state.token) { headers["X-Chat-Token"] = state.token; }
    if (options.json !== undefined) {
      headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(options.json);
    }
    return fetch(base + "/chat/api/" + path, { method: options.method || "GET", headers: headers,
      body: options.body, credentials: "omit", mode: "cors" }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        if (!response.ok) { var e = new Error(body.error || ("HTTP " + response.status)); e.body = body; throw e; }
        return body;
      });
    });
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text) { node.textContent = text; }
    return node;
  }

  api("config").then(build).catch(function (err) {
    if (window.console) { console.info("Helpdesk chat is not available on this page:", err.message); }
  });

  // The words come with the config, in the visitor's language (their browser's
  // Accept-Language, else the site's): "{name}" placeholders are filled here.
  function fill(text, values) {
    return String(text || "").replace(/\{(\w+)\}/g, function (all, key) {
      return values[key] === undefined ? all : String(values[key]);
    });
  }

  function build(config) {
    state.config = config;
    var T = config.texts || {};
    var color = /^#[0-9a-fA-F]{6}$/.test(data.color || "") ? data.color : config.color;
    var host = el("div", { "id": "helpdesk-chat" });
    document.body.appendChild(host);
    var root = host.attachShadow({ mode: "open" });
    var style = el("style");
    style.textContent = [
      ":host{all:initial}",
      ".launch,.send,.rate button,.save{background:" + color + ";color:#fff;border:0;border-radius:6px;padding:8px 12px;font:14px system-ui,sans-serif;cursor:pointer}",
      ".launch{position:fixed;right:20px;bottom:20px;z-index:2147483000;border-radius:24px;padding:12px 18px}",
      ".panel{position:fixed;right:20px;bottom:76px;width:340px;max-height:70vh;display:none;flex-direction:column;background:#fff;color:#222;border:1px solid #ccc;border-radius:10px;box-shadow:0 6px 24px rgba(0,0,0,.2);font:14px system-ui,sans-serif;z-index:2147483000}",
      ".panel.open{display:flex}", ".head{background:" + color + ";color:#fff;padding:10px 12px;border-radius:10px 10px 0 0}",
      ".log{flex:1;overflow:auto;padding:8px 12px;min-height:120px}", ".msg{margin:6px 0;padding:6px 9px;border-radius:8px;white-space:pre-wrap;word-wrap:break-word;max-width:85%}",
      ".visitor{background:#eef;margin-left:auto}", ".agent{background:#f1f1f1}", ".who{font-size:12px;color:#555}",
      ".note{color:#555;font-size:13px;padding:4px 12px}", ".error{color:#b00020;font-size:13px;padding:4px 12px}",
      "form{display:flex;flex-direction:column;gap:6px;padding:8px 12px;border-top:1px solid #eee}",
      "input,textarea{font:14px system-ui,sans-serif;padding:6px;border:1px solid #bbb;border-radius:6px}",
      ".row{display:flex;gap:6px;align-items:center}", ".row input[type=file]{flex:1;min-width:0}", ".rate{padding:8px 12px}", ".rate button{margin-right:4px}",
      ".answers{padding:4px 12px;border-top:1px solid #eee;max-height:30vh;overflow:auto;flex-shrink:0}", ".panel .log{min-height:60px}", ".answer{margin:6px 0}", ".answer a{color:" + color + ";font-weight:600}",
      ".answer .excerpt{color:#555;font-size:12px}", ".answers button{font:13px system-ui,sans-serif;margin:4px 4px 0 0;padding:4px 8px;border:1px solid #bbb;border-radius:6px;background:#fff;cursor:pointer}"
    ].join("\n");
    root.appendChild(style);
    var launch = el("button", { "class": "launch", "type": "button", "aria-expanded": "false" }, T.launch);
    var panel = el("div", { "class": "panel", "role": "dialog", "aria-label": T.dialog });
    var head = el("div", { "class": "head" }, data.greeting || config.greeting);
    var offline = el("div", { "class": "note" }, config.open ? "" : config.offline_message);
    var log = el("div", { "class": "log", "aria-live": "polite" });
    var typing = el("div", { "class": "note typing" }, "");
    var errors = el("div", { "class": "error", "role": "alert" }, "");
    var prechat = el("form", { "class": "prechat" });
    var nameInput = el("input", { "name": "name", "placeholder": T.name, "maxlength": "200", "aria-label": T.name });
    var emailInput = el("input", { "name": "email", "type": "email", "placeholder": T.email, "maxlength": "320", "aria-label": T.email });
    prechat.appendChild(nameInput); prechat.appendChild(emailInput);
    var form = el("form", { "class": "compose" });
    var text = el("textarea", { "name": "body", "rows": "2", "maxlength": String(config.max_chars), "placeholder": T.placeholder, "aria-label": T.message });
    var row = el("div", { "class": "row" });
    var file = el("input", { "type": "file", "aria-label": T.attach });
    var send = el("button", { "class": "send", "type": "submit" }, T.send);
    row.appendChild(file); row.appendChild(send);
    form.appendChild(text); form.appendChild(row);
    var askEmail = el("form", { "class": "ask-email" });
    var askInput = el("input", { "type": "email", "placeholder": T.ask_email, "aria-label": T.your_email });
    var askSave = el("button", { "class": "save", "type": "submit" }, T.save);
    askEmail.appendChild(askInput); askEmail.appendChild(askSave);
    askEmail.style.display = "none";
    var answers = el("div", { "class": "answers", "aria-live": "polite" });
    answers.style.display = "none";
    var rate = el("div", { "class": "rate" });
    rate.style.display = "none";
    panel.appendChild(head); panel.appendChild(offline); panel.appendChild(log); panel.appendChild(typing);
    panel.appendChild(errors); panel.appendChild(answers); panel.appendChild(rate); panel.appendChild(askEmail); panel.appendChild(prechat);
    panel.appendChild(form);
    root.appendChild(launch); root.appendChild(panel);

    function showError(message) { errors.textContent = message || ""; }

    function add(message) {
      if (state.seen[message.id]) { return; }
      state.seen[message.id] = true;
      var box = el("div", { "class": "msg " + message.from });
      if (message.from === "agent") { box.appendChild(el("div", { "class": "who" }, message.author || T.support)); }
      box.appendChild(document.createTextNode(message.body));
      (message.files || []).forEach(function (f) { box.appendChild(el("div", { "class": "who" }, "📎 " + f.name)); });
      log.appendChild(box);
      log.scrollTop = log.scrollHeight;
    }

    function showStatus(status) {
      state.status = status;
      if ((status === "resolved" || status === "closed") && !state.rated) {
        rate.textContent = "";
        rate.appendChild(el("div", { "class": "note" }, T.how));
        [1, 2, 3, 4, 5].forEach(function (score) {
          var b = el("button", { "type": "button", "aria-label": fill(T.rate, { score: score }) }, String(score));
          b.addEventListener("click", function () {
            api("rate", { method: "POST", json: { score: score } }).then(function () {
              state.rated = true; rate.textContent = ""; rate.appendChild(el("div", { "class": "note" }, T.thanks));
            }).catch(function (e) { showError(e.message); });
          });
          rate.appendChild(b);
        });
        rate.style.display = "block";
      }
    }

    function updateForms(hasMessages) {
      var pre = config.prechat;
      prechat.style.display = (!hasMessages && (pre !== "off" || !config.open) && !state.email) ? "flex" : "none";
      if (pre === "required" || !config.open) { nameInput.required = pre === "required"; emailInput.required = true; }
      askEmail.style.display = (hasMessages && !state.email) ? "flex" : "none";
    }

    // Help-centre articles: listed while the first message is typed, and offered by the answer bot
    // before it opens a chat. Everything set with textContent; links only http(s).
    function showAnswers(list, intro, bot) {
      answers.textContent = "";
      if (!list || !list.length) { answers.style.display = "none"; return; }
      answers.appendChild(el("div", { "class": "note" }, intro));
      list.forEach(function (a) {
        var item = el("div", { "class": "answer" });
        var link = el("a", { "target": "_blank", "rel": "noopener noreferrer" }, a.title);
        if (/^https?:\/\//.test(a.url)) { link.setAttribute("href", a.url); }
        item.appendChild(link);
        if (a.excerpt) { item.appendChild(el("div", { "class": "excerpt" }, a.excerpt)); }
        var yes = el("button", { "type": "button", "class": "solved" }, T.solved);
        yes.addEventListener("click", function () { solved(a); });
        item.appendChild(yes);
        answers.appendChild(item);
      });
      if (bot) {
        var human = el("button", { "type": "button", "class": "human" }, T.human);
        human.addEventListener("click", function () { handOver(); });
        answers.appendChild(human);
      }
      answers.style.display = "block";
    }

    function solved(article) {
      var asked = state.pending || text.value.trim();
      api("solved", { method: "POST", json: { article_id: article.id, attempt: state.attempt, text: asked } }).then(function () {
        state.pending = null; text.value = ""; state.attempt = randomId();  // a next question is a new attempt
        answers.textContent = "";
        answers.appendChild(el("div", { "class": "note done" }, T.glad));
      }).catch(function (e) { showError(e.message); });
    }

    function sendMessage(body, human) {
      return api("messages", { method: "POST", json: { body: body, team: data.team || null, language: state.language,
                                                        human: !!human } });
    }

    function handOver() {
      var body = state.pending;
      if (!body) { return Promise.resolve(); }
      showError("");
      return sendMessage(body, true).then(function (result) {
        state.pending = null; answers.style.display = "none";
        if (text.value.trim() === body) { text.value = ""; }
        result.messages.forEach(add); state.hasMessages = true; updateForms(true); follow();
      }).catch(function (e) { showError(e.message); });
    }

    function suggestWhileTyping() {
      clearTimeout(state.suggestTimer);
      if (state.hasMessages || state.pending) { return; }
      var q = text.value.trim();
      state.suggestTimer = setTimeout(function () {
        if (q.length < 3) { showAnswers([], ""); return; }
        ensureSession().then(function () {
          return api("suggest?q=" + encodeURIComponent(q) + "&language=" + encodeURIComponent(state.language));
        }).then(function (r) {
          if (!state.hasMessages && !state.pending && text.value.trim() === q) { showAnswers(r.answers, T.may_help, false); }
        }).catch(function () {});
      }, 350);
    }

    function follow() {
      if (state.stream || !state.token) { return; }
      var source = new EventSource(base + "/chat/api/stream?token=" + encodeURIComponent(state.token));
      state.stream = source;
      source.onmessage = function (event) {
        var payload;
        try { payload = JSON.parse(event.data); } catch (e) { return; }
        if (payload.type === "message") { add(payload.message); typing.textContent = ""; }
        else if (payload.type === "typing") { typing.textContent = payload.on ? T.typing : ""; }
        else if (payload.type === "status") { showStatus(payload.status); }
      };
    }

    function session() {
      var body = { name: nameInput.value || null, email: emailInput.value || null };
      if (data.userId && data.userHash) { body.user_id = data.userId; body.user_hash = data.userHash; body.name = data.userName || body.name; }
      try { state.token = window.localStorage.getItem(storeKey); } catch (e) { state.token = null; }
      return api("session", { method: "POST", json: body }).then(function (s) {
        state.token = s.token; state.email = s.email; state.name = s.name; state.rated = s.rated;
        try { window.localStorage.setItem(storeKey, s.token); } catch (e) { /* private mode: this visit only */ }
        s.messages.forEach(add);
        state.hasMessages = s.messages.length > 0;
        updateForms(s.messages.length > 0);
        if (s.status) { showStatus(s.status); follow(); }
      });
    }

    var started = null;
    function ensureSession() { started = started || session(); return started; }

    launch.addEventListener("click", function () {
      var open = !panel.classList.contains("open");
      panel.classList.toggle("open", open);
      launch.setAttribute("aria-expanded", String(open));
      if (open) { ensureSession().catch(function (e) { showError(e.message); }); text.focus(); }
    });

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      showError("");
      var body = text.value.trim();
      var chosen = file.files && file.files[0];
      if (chosen && chosen.size > config.max_file_bytes) { showError(fill(T.too_large, { name: chosen.name })); return; }
      if (!body && !chosen) { return; }
      ensureSession().then(function () {
        if (prechat.style.display !== "none" && (nameInput.value || emailInput.value)) {
          return api("details", { method: "POST", json: { name: nameInput.value, email: emailInput.value } })
            .then(function (d) { state.email = d.email; });
        }
      }).then(function () {
        // A message while articles are offered says they did not help: a person takes over at once.
        if (state.pending) { var first = state.pending; return handOver().then(function () { return first === body ? null : sendMessage(body, true); }); }
        if (!body) { return null; }
        return sendMessage(body, false);
      }).then(function (result) {
        if (result && result.answers && result.answers.length) {
          state.pending = body;  // kept in the box: Send again, or "talk to a human", hands it over
          showAnswers(result.answers, T.offered, true);
          return "offered";
        }
        if (result) { result.messages.forEach(add); text.value = ""; state.hasMessages = true; answers.style.display = "none"; }
        if (!result && state.pending === null && body) { text.value = ""; }
        return null;
      }).then(function (offered) {
        if (offered) { return "offered"; }
        if (chosen) {
          var fd = new FormData(); fd.append("file", chosen);
          return api("upload", { method: "POST", body: fd }).then(function (r) { r.messages.forEach(add); file.value = ""; });
        }
      }).then(function (offered) { if (offered) { return; } updateForms(true); follow(); }).catch(function (e) { showError(e.message); });
    });

    text.addEventListener("input", function () {
      suggestWhileTyping();
      if (!state.token || !state.stream) { return; }
      var now = Date.now();
      if (now - state.typingSent > 3000) { state.typingSent = now; api("typing", { method: "POST", json: { typing: true } }).catch(function () {}); }
      clearTimeout(state.typingTimer);
      state.typingTimer = setTimeout(function () { state.typingSent = 0; api("typing", { method: "POST", json: { typing: false } }).catch(function () {}); }, 4000);
    });

    askEmail.addEventListener("submit", function (event) {
      event.preventDefault();
      api("details", { method: "POST", json: { email: askInput.value } }).then(function (d) {
        state.email = d.email; askEmail.style.display = "none";
      }).catch(function (e) { showError(e.message); });
    });

    // A returning visitor sees the conversation at once.
    var returning = false;
    try { returning = !!window.localStorage.getItem(storeKey); } catch (e) { returning = false; }
    if (returning) { ensureSession().catch(function () {}); }
  }
})();
