// The program request form: tells whether the portal address typed is free, while typing
// (GET onboarding:subdomain_check, debounced), in the live region next to the field; and
// moves focus to the error summary after a refused submission.
(function () {
  "use strict";

  function start() {
    var summary = document.getElementById("error-summary");
    if (summary) {
      summary.focus();
    }
    var wrapper = document.querySelector("[data-check-url]");
    var input = document.getElementById("id_subdomain");
    var status = document.getElementById("subdomain-status");
    if (!wrapper || !input || !status) {
      return;
    }
    var preview = wrapper.querySelector("[data-subdomain-preview]");
    var url = wrapper.getAttribute("data-check-url");
    var timer = null;
    var latest = 0;

    function show(ok, message) {
      status.textContent = message;
      status.classList.toggle("request-subdomain-status--ok", ok);
      status.classList.toggle("request-subdomain-status--error", !ok);
    }

    function check() {
      var name = input.value.trim().toLowerCase();
      if (!name) {
        show(true, "");
        return;
      }
      var ticket = ++latest;
      fetch(url + "?name=" + encodeURIComponent(name), {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      })
        .then(function (response) {
          return response.json();
        })
        .then(function (answer) {
          if (ticket === latest) {
            show(Boolean(answer.ok), String(answer.message || ""));
          }
        })
        .catch(function () {
          // Offline or refused: the address is checked again when the form is sent.
        });
    }

    input.addEventListener("input", function () {
      if (preview) {
        preview.textContent = input.value.trim().toLowerCase();
      }
      window.clearTimeout(timer);
      timer = window.setTimeout(check, 400);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
