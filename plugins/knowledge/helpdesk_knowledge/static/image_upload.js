// The article editor's image upload: sends the file without leaving the page (the text being
// written stays), then puts ![name](attachment:name) into the text at the cursor.
(function () {
  "use strict";
  // Its words are rendered into the status line's data-* attributes (edit.html).
  var form = document.getElementById("knowledge-image-form");
  var area = document.getElementById("k-body");
  var status = document.getElementById("knowledge-image-status");
  if (!form || !area) { return; }
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var input = document.getElementById("k-image");
    if (!input.files || !input.files[0]) { status.textContent = status.dataset.choose; return; }
    status.textContent = status.dataset.uploading;
    fetch(form.action, { method: "POST", body: new FormData(form), credentials: "same-origin",
                         headers: { "Accept": "application/json" } }).then(function (response) {
      return response.json().catch(function () { return { error: status.dataset.failedStatus.replace("{status}", String(response.status)) }; })
        .then(function (body) { if (!response.ok) { throw new Error(body.error || status.dataset.failed); } return body; });
    }).then(function (body) {
      var start = area.selectionStart, end = area.selectionEnd, value = area.value;
      area.value = value.slice(0, start) + body.markdown + value.slice(end);
      area.selectionStart = area.selectionEnd = start + body.markdown.length;
      status.textContent = status.dataset.uploaded.replace("{name}", body.name);
      input.value = "";
    }).catch(function (error) { status.textContent = error.message; });
  });
})();
