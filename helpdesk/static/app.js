/* Helpdesk: small progressive enhancements. Every page works without this file. */
(function () {
  "use strict";
  /* Words from the page, in the reader's language (texts.js). */
  var T = window.HelpdeskTexts.section("app"), fill = window.HelpdeskTexts.fill;

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), "Accept": "application/json" },
      body: body || new FormData()
    }).then(function (response) {
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.json();
    });
  }

  /* Elements only useful with JavaScript are hidden until now. */
  document.querySelectorAll(".js-only.d-none").forEach(function (el) {
    el.classList.remove("d-none");
  });

  /* Ask before destructive actions: <button data-confirm="Really?">. */
  document.addEventListener("click", function (event) {
    var el = event.target.closest("[data-confirm]");
    if (el && !window.confirm(el.getAttribute("data-confirm"))) {
      event.preventDefault();
      event.stopPropagation();
    }
  }, true);

  /* Queue: select all checkboxes on the page. */
  var selectAll = document.getElementById("select-all");
  if (selectAll) {
    var boxes = function () { return document.querySelectorAll('input[name="ticket_ids"]'); };
    var sync = function () {
      var all = boxes(), checked = 0;
      all.forEach(function (box) { if (box.checked) { checked += 1; } });
      selectAll.checked = all.length > 0 && checked === all.length;
      selectAll.indeterminate = checked > 0 && checked < all.length;
    };
    selectAll.addEventListener("change", function () {
      boxes().forEach(function (box) { box.checked = selectAll.checked; });
      sync();
    });
    boxes().forEach(function (box) { box.addEventListener("change", sync); });
    sync();
  }

  /* Queue: suggest values that fit the chosen bulk action. */
  var bulkAction = document.getElementById("bulk-action");
  var bulkValue = document.getElementById("bulk-value");
  if (bulkAction && bulkValue) {
    var pickList = function () {
      var id = "bulk-values-" + bulkAction.value;
      if (document.getElementById(id)) {
        bulkValue.setAttribute("list", id);
      } else {
        bulkValue.removeAttribute("list");
      }
    };
    bulkAction.addEventListener("change", pickList);
    pickList();
  }

  /* Ticket: the composer. */
  var body = document.getElementById("reply-body");
  var result = document.getElementById("reply-check-result");

  function showWarnings(warnings, error, blocking) {
    if (!result) { return; }
    result.textContent = "";
    var box = document.createElement("div");
    if (error) {
      box.className = "alert alert-danger py-2 small";
      box.textContent = error;
    } else if (!warnings.length) {
      box.className = "alert alert-success py-2 small";
      box.textContent = T.no_problems;
    } else {
      box.className = "alert alert-warning py-2 small";
      var heading = document.createElement("strong");
      heading.textContent = T.before_send;
      var list = document.createElement("ul");
      list.className = "mb-0 reply-check-warnings";
      warnings.forEach(function (text) {
        var item = document.createElement("li");
        item.textContent = text;
        if (blocking && blocking.indexOf(text) >= 0) {
          item.textContent = fill(T.blocking, { warning: text });
          item.className = "reply-check-blocking";
        }
        list.appendChild(item);
      });
      box.appendChild(heading);
      box.appendChild(list);
    }
    result.appendChild(box);
  }

  /* Canned replies: insert at the cursor instead of reloading the page. */
  var cursor = null;
  if (body) {
    body.addEventListener("blur", function () {
      cursor = [body.selectionStart, body.selectionEnd];
    });
  }
  document.querySelectorAll("[data-canned-url]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      if (!body) { return; }
      event.preventDefault();
      post(link.getAttribute("data-canned-url")).then(function (data) {
        var text = data.body || "";
        if (cursor && body.value && typeof cursor[0] === "number") {
          body.value = body.value.slice(0, cursor[0]) + text + body.value.slice(cursor[1]);
          cursor = [cursor[0] + text.length, cursor[0] + text.length];
        } else {
          body.value = body.value ? body.value.replace(/\s*$/, "") + "\n\n" + text : text;
        }
        var details = link.closest("details");
        if (details) { details.open = false; }
        body.focus();
        body.dispatchEvent(new Event("input", { bubbles: true }));
      }).catch(function () {
        window.location.href = link.href; /* fall back to the page without JavaScript */
      });
    });
  });

  /* "Check reply": ask the server (and plugins) for warnings before sending. */
  var checkButton = document.getElementById("check-reply");
  if (checkButton && body) {
    checkButton.addEventListener("click", function () {
      var data = new FormData();
      data.append("body", body.value);
      checkButton.disabled = true;
      post(checkButton.getAttribute("data-check-url"), data).then(function (answer) {
        showWarnings(answer.warnings || [], null, answer.blocking || []);
      }).catch(function () {
        showWarnings([], T.check_failed);
      }).finally(function () {
        checkButton.disabled = false;
      });
    });
    body.addEventListener("input", function () {
      if (result && result.firstChild) { result.textContent = ""; }
    });
  }

  /* Internal note: make it obvious the customer will not see it. */
  var internal = document.getElementById("reply-internal");
  var submit = document.getElementById("reply-submit");
  if (internal && submit && body) {
    var update = function () {
      submit.textContent = internal.checked ? submit.getAttribute("data-label-note")
                                            : submit.getAttribute("data-label-reply");
      submit.classList.toggle("btn-warning", internal.checked);
      submit.classList.toggle("btn-primary", !internal.checked);
      body.classList.toggle("reply-body-internal", internal.checked);
    };
    internal.addEventListener("change", update);
    update();
  }
})();

/* Upload limits, said before uploading: a file input with data-max-bytes (each file) and
   data-max-total (everything sent) shows what is too large, and its form is not sent until
   the files fit. The server checks again and keeps what was typed if a request is too large. */
(function () {
  "use strict";
  /* Words from the page, in the reader's language (texts.js). */
  var T = window.HelpdeskTexts.section("app"), fill = window.HelpdeskTexts.fill, plural = window.HelpdeskTexts.plural;
  function size(n) {
    return n >= 1e6 ? fill(T.megabytes, { size: (n / 1e6).toFixed(1).replace(/\.0$/, "") })
                    : fill(T.kilobytes, { size: Math.ceil(n / 1e3) });
  }
  function problem(input) {
    var each = parseInt(input.getAttribute("data-max-bytes") || "0", 10);
    var total = parseInt(input.getAttribute("data-max-total") || "0", 10);
    var files = Array.prototype.slice.call(input.files || []);
    var big = files.filter(function (f) { return each && f.size > each; });
    if (big.length) {
      var names = big.map(function (f) { return fill(T.file_size, { name: f.name, size: size(f.size) }); });
      return plural(T.too_large_each, big.length, { files: names.join(T.list_separator), limit: size(each) });
    }
    var sum = files.reduce(function (acc, f) { return acc + f.size; }, 0);
    if (total && sum > total * 0.98) {
      return fill(T.too_large_total, { size: size(sum), limit: size(total * 0.98) });
    }
    return "";
  }
  function show(input) {
    var message = problem(input);
    var box = input.parentNode.querySelector(".upload-limit-error");
    if (!box) {
      box = document.createElement("div");
      box.className = "invalid-feedback d-block upload-limit-error";
      box.setAttribute("role", "alert");
      input.parentNode.appendChild(box);
    }
    box.textContent = message;
    input.classList.toggle("is-invalid", !!message);
    input.setCustomValidity(message);
    return message;
  }
  document.querySelectorAll("input[type=file][data-max-bytes]").forEach(function (input) {
    input.addEventListener("change", function () { show(input); });
    if (input.form) {
      input.form.addEventListener("submit", function (event) {
        if (show(input)) {
          event.preventDefault();
          input.focus();
        }
      });
    }
  });
})();
