// Renders the OpenAPI spec of /api/v1 as a readable list (no third-party code, no CDN).
(function () {
  "use strict";
  /* Words from the page, in the reader's language (texts.js). This script sits in the page's
   * content, before base.html's texts element: read them when the spec has arrived. */
  function texts() { return window.HelpdeskTexts.section("api_docs"); }
  var fill = window.HelpdeskTexts.fill;
  var root = document.getElementById("api-reference");
  if (!root) { return; }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }

  function refName(ref) { return ref.split("/").pop(); }

  function describe(schema, spec, depth) {
    if (!schema) { return "any"; }
    if (schema.$ref) {
      var name = refName(schema.$ref);
      var target = spec.components && spec.components.schemas && spec.components.schemas[name];
      if (depth > 2 || !target) { return name; }
      return name + " " + describe(target, spec, depth + 1);
    }
    if (schema.type === "array") { return "[" + describe(schema.items, spec, depth + 1) + "]"; }
    if (schema.properties) {
      var parts = Object.keys(schema.properties).map(function (key) {
        var required = (schema.required || []).indexOf(key) >= 0 ? "" : "?";
        return key + required + ": " + describe(schema.properties[key], spec, depth + 1);
      });
      return "{ " + parts.join(", ") + " }";
    }
    return (schema.type || "object") + (schema.enum ? " (" + schema.enum.join(" | ") + ")" : "");
  }

  function render(spec) {
    root.textContent = "";
    var byTag = {};
    Object.keys(spec.paths).sort().forEach(function (path) {
      Object.keys(spec.paths[path]).forEach(function (method) {
        if (method === "parameters") { return; }
        var op = spec.paths[path][method];
        var tag = (op.tags && op.tags[0]) || "other";
        (byTag[tag] = byTag[tag] || []).push({ path: path, method: method, op: op });
      });
    });
    (spec.tags || []).forEach(function (t) { byTag[t.name] = byTag[t.name] || []; });
    Object.keys(byTag).sort().forEach(function (tag) {
      if (!byTag[tag].length) { return; }
      var section = el("section", "card shadow-sm mb-4 api-tag");
      var body = el("div", "card-body");
      body.appendChild(el("h2", "h5", tag));
      var info = (spec.tags || []).filter(function (t) { return t.name === tag; })[0];
      if (info && info.description) { body.appendChild(el("p", "text-body-secondary small", info.description)); }
      byTag[tag].forEach(function (entry) {
        var block = el("div", "border-top pt-2 mt-2 api-operation");
        var head = el("div", "fw-semibold");
        head.appendChild(el("span", "badge text-bg-secondary me-2", entry.method.toUpperCase()));
        head.appendChild(el("code", "", entry.path));
        block.appendChild(head);
        if (entry.op.summary) { block.appendChild(el("div", "", entry.op.summary)); }
        if (entry.op.description) { block.appendChild(el("div", "small text-body-secondary", entry.op.description)); }
        var params = (entry.op.parameters || []).map(function (p) {
          return fill(p.required ? texts().required : texts().optional, { name: p.name, place: p.in });
        });
        if (params.length) { block.appendChild(el("div", "small", fill(texts().parameters, { list: params.join(", ") }))); }
        var request = entry.op.requestBody && entry.op.requestBody.content &&
          entry.op.requestBody.content["application/json"];
        if (request) { block.appendChild(el("div", "small font-monospace text-break", fill(texts().body, { schema: describe(request.schema, spec, 0) }))); }
        Object.keys(entry.op.responses || {}).forEach(function (code) {
          var response = entry.op.responses[code];
          var content = response.content && response.content["application/json"];
          var text = code + ": " + (response.description || "") + (content ? " " + describe(content.schema, spec, 1) : "");
          block.appendChild(el("div", "small font-monospace text-break", text));
        });
        body.appendChild(block);
      });
      section.appendChild(body);
      root.appendChild(section);
    });
  }

  fetch(root.getAttribute("data-spec"), { credentials: "same-origin" })
    .then(function (response) {
      if (!response.ok) { throw new Error("the spec answered " + response.status); }
      return response.json();
    })
    .then(render)
    .catch(function (error) {
      root.textContent = "";
      root.appendChild(el("p", "text-danger", fill(texts().failed, { error: error.message })));
    });
}());
