// vertex-proxy's page for people: the copy-token button. Served from /_proxy/static/page.js under a CSP that allows
// only this origin's scripts; the page has no inline script or event handler.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var button = document.getElementById("copy-token");
  var field = document.getElementById("token");
  var status = document.getElementById("copy-status");
  if (!button || !field) {
    return;
  }
  function done(message) {
    if (status) {
      status.textContent = message;
    }
    button.dataset.copied = message === "Copied." ? "true" : "false";
  }
  function fallback() {
    field.focus();
    field.select();
    try {
      done(document.execCommand("copy") ? "Copied." : "Select the token and copy it.");
    } catch (e) {
      done("Select the token and copy it.");
    }
  }
  button.addEventListener("click", function () {
    field.select();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(function () { done("Copied."); }, fallback);
    } else {
      fallback();
    }
  });
});
