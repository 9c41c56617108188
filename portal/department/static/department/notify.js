// The notice's confirmation: once pressed, its button is disabled, so a double click sends one
// request. The server does not rely on it: the page's one-time key sends the notice once.
"use strict";

document.addEventListener("submit", function (event) {
  const form = event.target.closest("form[data-send-once]");
  if (!form) return;
  if (form.dataset.sent === "true") {
    event.preventDefault();
    return;
  }
  form.dataset.sent = "true";
  form.querySelectorAll("button[type=submit]").forEach(function (button) {
    button.setAttribute("aria-disabled", "true");
  });
});
