/* Surveys: the answer page presses "Send" itself when a person's browser shows it.
   Mail security scanners that fetch the link (without running this, or in the background)
   record nothing: a GET never does. Also fills in the browser's time zone for quiet hours. */
(function () {
  "use strict";
  var tz = document.getElementById("survey-tz");
  if (tz && window.Intl && Intl.DateTimeFormat) {
    try { tz.value = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { tz.value = ""; }
  }
  var form = document.getElementById("survey-answer-form");
  if (!form || form.getAttribute("data-autosubmit") !== "1") { return; }
  var sent = false;
  function send() {
    if (sent || document.visibilityState !== "visible") { return; }
    sent = true;
    form.classList.add("survey-sending");
    form.submit();
  }
  if (document.visibilityState === "visible") {
    send();
  } else {
    document.addEventListener("visibilitychange", send);
  }
}());
