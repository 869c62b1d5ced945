// Suggests help-centre articles while a customer writes a new ticket (the portal.new_ticket slot).
// Text from the server is set with textContent only: nothing it says becomes markup. The words
// this script writes come translated from the box's data-* attributes (_portal_suggest.html).
(function () {
  "use strict";
  var box = document.getElementById("knowledge-suggest");
  var form = document.getElementById("new-ticket-form");
  if (!box || !form) { return; }
  var list = document.getElementById("knowledge-suggest-list");
  var note = document.getElementById("knowledge-solved-note");
  var subject = document.getElementById("subject");
  var body = document.getElementById("body");
  var token = document.querySelector('meta[name="csrf-token"]');
  var timer = null;
  var last = "";
  var seq = 0;

  function text() {
    return ((subject ? subject.value : "") + " " + (body ? body.value : "")).trim();
  }

  function render(articles) {
    list.textContent = "";
    articles.forEach(function (a) {
      var li = document.createElement("li");
      li.className = "knowledge-suggestion";
      var link = document.createElement("a");
      link.href = a.url;
      link.target = "_blank";
      link.rel = "noopener";
      link.className = "fw-semibold";
      link.textContent = a.title;
      var excerpt = document.createElement("div");
      excerpt.className = "small text-body-secondary";
      excerpt.textContent = a.excerpt;
      var solved = document.createElement("button");
      solved.type = "button";
      solved.className = "btn btn-sm btn-outline-success mt-1 knowledge-solved";
      solved.textContent = box.dataset.solvedLabel;
      solved.addEventListener("click", function () { deflect(a, solved); });
      li.appendChild(link);
      li.appendChild(excerpt);
      li.appendChild(solved);
      list.appendChild(li);
    });
    box.classList.toggle("d-none", articles.length === 0);
  }

  function lookup() {
    var q = text();
    if (q === last) { return; }
    last = q;
    if (q.length < 4) { render([]); return; }
    var mine = ++seq;
    fetch(box.dataset.suggestUrl + "?q=" + encodeURIComponent(q.slice(0, 2000)),
          {headers: {"Accept": "application/json"}, credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.json() : {articles: []}; })
      .then(function (data) { if (mine === seq) { render(data.articles || []); } })
      .catch(function () { /* suggestions are a help, never a hurdle */ });
  }

  function deflect(article, button) {
    button.disabled = true;
    var data = new FormData();
    data.append("attempt", box.dataset.attempt);
    data.append("article_id", article.id);
    data.append("query", text().slice(0, 500));
    fetch(box.dataset.deflectUrl, {method: "POST", body: data, credentials: "same-origin",
                                   headers: {"Accept": "application/json", "X-Requested-With": "fetch",
                                             "X-CSRFToken": token ? token.content : ""}})
      .then(function (r) {
        if (!r.ok) { throw new Error("status " + r.status); }
        return r.json();
      })
      .then(function () {
        form.closest(".card").classList.add("d-none");
        list.textContent = "";
        note.textContent = box.dataset.solvedNote;
        var again = document.createElement("a");
        again.href = article.url;
        again.textContent = box.dataset.readAgain.replace("{title}", article.title);
        note.appendChild(again);
        note.classList.remove("d-none");
        note.id = "knowledge-solved-note";
      })
      .catch(function () {
        button.disabled = false;
        note.textContent = box.dataset.failed;
        note.classList.remove("d-none");
      });
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(lookup, 350);
  }
  [subject, body].forEach(function (el) { if (el) { el.addEventListener("input", schedule); } });
  if (text()) { schedule(); }
})();
