// vertex-proxy's page for people: the copy-token button. Served from /_proxy/static/page.js under a CSP that allows
// only this origin's scripts; the page has no inline script or event handler.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var button = document.getElementById("copy-token");
  var field = document.getElementById("token");
  var status = document.getElementById("copy-status");
  if (!button || !field || !status) {
    return;
  }
  function say(message) {
    status.textContent = message;
  }
  button.addEventListener("click", function () {
    // the token stays selected whatever happens next, so Ctrl-C works where the browser refuses a scripted copy
    field.focus();
    field.select();
    var copied = false;
    try {
      copied = document.execCommand("copy");
    } catch (e) {
      copied = false;
    }
    if (copied) {
      say("Copied.");
    } else if (navigator.clipboard && window.isSecureContext) {
      say("Copying…");
      navigator.clipboard.writeText(field.value).then(function () {
        say("Copied.");
      }, function () {
        say("Selected: press Ctrl-C (⌘-C) to copy.");
      });
    } else {
      say("Selected: press Ctrl-C (⌘-C) to copy.");
    }
  });
});
