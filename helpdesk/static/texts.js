/* Words for the page's scripts, in the reader's language. base.html renders them into
 * #helpdesk-texts (helpdesk/web/js_texts.py), a section per script; this file, loaded in the
 * head before every other script, reads them and fills their "{name}" placeholders.
 *   var words = window.HelpdeskTexts, T = words.section("app");
 *   words.fill(T.saved, { name: "Lea" });  words.plural(T.bell, 3)  // by the language's plural rule
 */
(function () {
  "use strict";
  var all = null;
  /* One script's words; {} while the page has no texts element yet (a script in the page's
   * content runs before it: call this when the words are needed, not at once). */
  function section(name) {
    if (all === null) {
      var element = document.getElementById("helpdesk-texts");
      if (!element) { return {}; }
      try { all = JSON.parse(element.getAttribute("data-texts")) || {}; } catch (err) { all = {}; }
    }
    return all[name] || {};
  }
  function fill(text, values) {
    values = values || {};
    return String(text || "").replace(/\{(\w+)\}/g, function (whole, key) {
      return values[key] === undefined ? whole : String(values[key]);
    });
  }
  var rules = window.Intl && Intl.PluralRules ? new Intl.PluralRules(document.documentElement.lang || "en") : null;
  /* forms: {one: "...", other: "..."} (and "few", "many" where the language has them). */
  function plural(forms, n, values) {
    forms = forms || {};
    values = values || {};
    var form = rules ? rules.select(n) : (n === 1 ? "one" : "other");
    values.num = n;
    return fill(forms[form] || forms.other, values);
  }
  window.HelpdeskTexts = { section: section, fill: fill, plural: plural };
})();
