/* Helpdesk: the reply composer on the ticket page. The form works without this file.
 *
 * - Write / Preview tabs: the preview is rendered (and sanitised) by the server.
 * - Files dropped on or pasted into the composer are attached to the reply; pasted and dropped
 *   images are also written into the text as ![image](attachment:NAME), shown inline.
 * - The size and count limits are checked before anything is sent, with a clear message.
 * - A draft per ticket and user is kept in localStorage: restored on reload, cleared once
 *   the reply was sent.
 */
(function () {
  "use strict";
  /* Words from the page, in the reader's language (texts.js). */
  var T = window.HelpdeskTexts.section("composer"), fill = window.HelpdeskTexts.fill, plural = window.HelpdeskTexts.plural;

  var form = document.getElementById("reply-form");
  var body = document.getElementById("reply-body");
  var input = document.getElementById("reply-attachments");
  if (!form || !body) { return; }

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    var field = form.querySelector('input[name="csrf_token"]');
    return meta ? meta.getAttribute("content") : (field ? field.value : "");
  }

  function humanSize(bytes) {
    if (bytes >= 1048576) { return fill(T.megabytes, { size: Math.round(bytes / 104857.6) / 10 }); }
    if (bytes >= 1024) { return fill(T.kilobytes, { size: Math.round(bytes / 102.4) / 10 }); }
    return plural(T.bytes, bytes, {});
  }

  /* ------------------------------------------------------------ files */
  var files = [];
  var list = document.getElementById("composer-files");
  var errorBox = document.getElementById("composer-file-error");
  var maxBytes = input ? parseInt(input.getAttribute("data-max-bytes"), 10) || 0 : 0;
  var maxCount = input ? parseInt(input.getAttribute("data-max-count"), 10) || 0 : 0;
  var maxTotal = input ? parseInt(input.getAttribute("data-max-total"), 10) || 0 : 0;
  var pasted = 0;

  function showError(text) {
    if (errorBox) { errorBox.textContent = text || ""; }
  }

  function sync() {
    if (!input) { return; }
    try {
      var transfer = new DataTransfer();
      files.forEach(function (file) { transfer.items.add(file); });
      input.files = transfer.files;
    } catch (e) { /* an old browser: the file input keeps what the person chose */ }
    if (!list) { return; }
    list.textContent = "";
    files.forEach(function (file, index) {
      var item = document.createElement("li");
      item.className = "composer-file d-flex align-items-center gap-2";
      var name = document.createElement("span");
      name.textContent = fill(T.file_label, { name: file.name, size: humanSize(file.size) });
      var remove = document.createElement("button");
      remove.type = "button";
      remove.className = "btn btn-link btn-sm p-0 composer-file-remove";
      remove.textContent = T.remove;
      remove.setAttribute("aria-label", fill(T.remove_file, { name: file.name }));
      remove.addEventListener("click", function () {
        files.splice(index, 1);
        showError("");
        sync();
      });
      item.appendChild(name);
      item.appendChild(remove);
      list.appendChild(item);
    });
  }

  function totalSize() {
    return files.reduce(function (sum, file) { return sum + file.size; }, 0);
  }

  /* Add files if the limits allow; returns the files added. */
  function addFiles(incoming) {
    var added = [], refused = [];
    Array.prototype.forEach.call(incoming, function (file) {
      if (maxBytes && file.size > maxBytes) {
        refused.push(fill(T.too_big, { name: file.name, size: humanSize(file.size), limit: humanSize(maxBytes) }));
      } else if (maxCount && files.length >= maxCount) {
        refused.push(plural(T.too_many, maxCount, { name: file.name }));
      } else if (maxTotal && totalSize() + file.size > maxTotal - 65536) {
        refused.push(fill(T.too_much, { name: file.name, limit: humanSize(maxTotal) }));
      } else {
        files.push(file);
        added.push(file);
      }
    });
    showError(refused.join(" "));
    sync();
    return added;
  }

  function uniqueName(file) {
    var taken = files.map(function (f) { return f.name; });
    var name = file.name && file.name !== "image.png" ? file.name : "";
    if (!name || taken.indexOf(name) !== -1) {
      var extension = (file.type.split("/")[1] || "bin").replace(/[^a-z0-9]/gi, "").slice(0, 5);
      do { pasted += 1; name = "pasted-image-" + pasted + "." + extension; } while (taken.indexOf(name) !== -1);
      return new File([file], name, { type: file.type });
    }
    return file;
  }

  function insertAtCursor(text) {
    var start = body.selectionStart, end = body.selectionEnd;
    if (typeof start !== "number") { start = end = body.value.length; }
    body.value = body.value.slice(0, start) + text + body.value.slice(end);
    body.selectionStart = body.selectionEnd = start + text.length;
    body.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function takeFiles(incoming) {
    var named = Array.prototype.map.call(incoming, function (file) {
      return /^image\//.test(file.type) ? uniqueName(file) : file;
    });
    addFiles(named).forEach(function (file) {
      if (/^image\/(png|jpe?g|gif|webp)$/.test(file.type)) {
        insertAtCursor("![" + file.name + "](<attachment:" + file.name + ">)\n");
      }
    });
  }

  if (input) {
    input.addEventListener("change", function () {
      var chosen = Array.prototype.slice.call(input.files || []);
      var before = files.slice();
      files = before;
      addFiles(chosen.filter(function (file) { return before.indexOf(file) === -1; }));
    });
  }

  body.addEventListener("paste", function (event) {
    var data = event.clipboardData;
    if (data && data.files && data.files.length) {
      event.preventDefault();
      takeFiles(data.files);
    }
  });

  var dropZone = document.getElementById("composer") || form;
  dropZone.addEventListener("dragover", function (event) {
    if (event.dataTransfer && Array.prototype.indexOf.call(event.dataTransfer.types, "Files") !== -1) {
      event.preventDefault();
      dropZone.classList.add("composer-dragover");
    }
  });
  dropZone.addEventListener("dragleave", function () { dropZone.classList.remove("composer-dragover"); });
  dropZone.addEventListener("drop", function (event) {
    dropZone.classList.remove("composer-dragover");
    if (event.dataTransfer && event.dataTransfer.files && event.dataTransfer.files.length) {
      event.preventDefault();
      body.focus();
      takeFiles(event.dataTransfer.files);
    }
  });

  /* ------------------------------------------------------------ preview */
  var writeTab = document.getElementById("composer-write-tab");
  var previewTab = document.getElementById("composer-preview-tab");
  var preview = document.getElementById("composer-preview");

  function showTab(previewing) {
    writeTab.classList.toggle("active", !previewing);
    previewTab.classList.toggle("active", previewing);
    writeTab.setAttribute("aria-pressed", previewing ? "false" : "true");
    previewTab.setAttribute("aria-pressed", previewing ? "true" : "false");
    preview.classList.toggle("d-none", !previewing);
    body.classList.toggle("d-none", previewing);
  }

  function showLocalImages() {
    preview.querySelectorAll("img").forEach(function (img) {
      var match = /\/attachments\/pending\/(\d+)$/.exec(img.getAttribute("src") || "");
      var file = match ? files[parseInt(match[1], 10)] : null;
      if (!file) { return; }
      var reader = new FileReader();
      reader.onload = function () { img.src = reader.result; };
      reader.readAsDataURL(file);
    });
  }

  if (writeTab && previewTab && preview) {
    writeTab.addEventListener("click", function () { showTab(false); body.focus(); });
    previewTab.addEventListener("click", function () {
      var data = new FormData();
      data.append("csrf_token", csrfToken());
      data.append("body", body.value);
      files.forEach(function (file) { data.append("attachment_names", file.name); });
      preview.textContent = T.rendering;
      showTab(true);
      fetch(previewTab.getAttribute("data-preview-url"), {
        method: "POST", credentials: "same-origin", body: data,
        headers: { "X-CSRFToken": csrfToken(), "Accept": "application/json" }
      }).then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      }).then(function (answer) {
        /* Sanitised by the server (nh3): the same HTML the customer will get. */
        if (answer.html) { preview.innerHTML = answer.html; } else {
          var nothing = document.createElement("p");
          nothing.className = "text-body-secondary";
          nothing.textContent = T.nothing_to_preview;
          preview.textContent = "";
          preview.appendChild(nothing);
        }
        showLocalImages();
      }).catch(function () {
        preview.textContent = T.preview_failed;
      });
    });
  }

  /* ------------------------------------------------------------ draft */
  var key = body.getAttribute("data-draft-key");
  var storage = null;
  try { storage = window.localStorage; } catch (e) { storage = null; }

  function readDraft() {
    try { return JSON.parse(storage.getItem(key) || "null"); } catch (e) { return null; }
  }

  function messageCount() {
    return document.querySelectorAll("#conversation article.message").length;
  }

  function writeDraft(submitted) {
    try {
      if (body.value.trim()) {
        storage.setItem(key, JSON.stringify({ body: body.value, savedAt: Date.now(), submitted: !!submitted,
                                              messages: messageCount() }));
      } else {
        storage.removeItem(key);
      }
    } catch (e) { /* storage full or blocked: the text is still in the page */ }
  }

  if (storage && key) {
    var draft = readDraft();
    var sent = document.querySelector("#flash-messages .alert-success");
    if (body.value.trim()) {
      writeDraft(false); /* the server gave the text back (an error to fix): that is the draft */
    } else if (draft && draft.submitted && (sent || messageCount() > (draft.messages || 0))) {
      /* the reply landed (here, or while "send and next" went on to another ticket) */
      storage.removeItem(key);
    } else if (draft && draft.body) {
      body.value = draft.body;
      var note = document.createElement("div");
      note.className = "form-text composer-draft-note";
      note.id = "composer-draft-note";
      note.textContent = T.draft_restored + " ";
      var discard = document.createElement("button");
      discard.type = "button";
      discard.className = "btn btn-link btn-sm p-0 align-baseline";
      discard.textContent = T.discard_draft;
      discard.addEventListener("click", function () {
        body.value = "";
        storage.removeItem(key);
        note.remove();
        body.focus();
      });
      note.appendChild(discard);
      body.parentNode.insertBefore(note, body.nextSibling);
    }
    var timer = null;
    body.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () { writeDraft(false); }, 250);
    });
    var submitting = false;
    window.addEventListener("pagehide", function () { writeDraft(submitting); });
    form.addEventListener("submit", function () {
      clearTimeout(timer);
      submitting = true;
      writeDraft(true);
    });
  }
})();
