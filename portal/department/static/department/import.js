// A registry import's page while its job runs: poll the job's status (JSON, counts only),
// move the progress bar, and reload the page once the job has finished. Without JavaScript a
// <noscript> refresh does the same, more coarsely.
(function () {
  "use strict";
  var box = document.querySelector("[data-import-status]");
  if (!box) return;
  var url = box.getAttribute("data-import-status");
  var bar = box.querySelector("progress");
  var text = box.querySelector("[data-import-text]");
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (job) {
        if (!job) return setTimeout(poll, 5000);
        if (!job.running) return window.location.reload();
        if (bar && job.rows) {
          bar.max = job.rows;
          bar.value = job.rows_checked;
          if (text) {
            text.textContent = text.getAttribute("data-import-text")
              .replace("{checked}", job.rows_checked).replace("{rows}", job.rows);
          }
        }
        setTimeout(poll, 1500);
      })
      .catch(function () { setTimeout(poll, 5000); });
  }
  setTimeout(poll, 1000);
})();
