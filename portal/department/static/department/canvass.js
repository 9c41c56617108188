// The canvass page's "more" link: the next hundred rows are fetched (rows.json: their HTML,
// rendered by the page's own row template, and their map points) and added below the others.
// Without this script the link reloads the page with more rows, or leads to the export.
"use strict";

(function () {
  document.addEventListener("click", function (event) {
    const link = event.target.closest("a[data-canvass-rows]");
    if (!link) return;
    event.preventDefault();
    if (link.getAttribute("aria-busy") === "true") return;
    link.setAttribute("aria-busy", "true");
    fetch(link.dataset.canvassRows, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      })
      .then(function (payload) {
        const body = document.getElementById("canvass-rows");
        body.insertAdjacentHTML("beforeend", payload.rows);
        // The new rows' buttons update their rows like the first ones (htmx, when loaded).
        if (window.htmx) window.htmx.process(body);
        document.dispatchEvent(new CustomEvent("canvass:sites", { detail: payload.sites }));
        if (payload.more) {
          link.dataset.canvassRows = payload.more.rows_url;
          link.href = payload.more.page_url;
          link.textContent = payload.more.label;
          link.removeAttribute("aria-busy");
        } else {
          link.parentElement.remove();
        }
      })
      .catch(function () { window.location.href = link.href; });
  });
})();

// Row updates with htmx (htmx.min.js, loaded before this file): a row's "Save" and "Request
// footage" buttons post to the same URLs as without script, and the answer is that row alone,
// swapped in place (hx-target and hx-include on the table's body). The buttons belong to the
// page's one shared form, which htmx sends whole, CSRF token included: only the token and the
// row's own fields are kept. The server's word on what happened arrives as the
// `canvass:message` event (HX-Trigger) and is read out in the page's live region.
(function () {
  document.addEventListener("htmx:configRequest", function (event) {
    const row = event.detail.elt.closest("tr[id^='site-row-']");
    if (!row) return;
    const prefix = "site" + row.id.slice("site-row-".length) + "-";
    const parameters = event.detail.parameters;
    Array.from(parameters.keys()).forEach(function (name) {
      if (name !== "csrfmiddlewaretoken" && name.indexOf(prefix) !== 0) parameters.delete(name);
    });
  });
  document.addEventListener("canvass:message", function (event) {
    const status = document.getElementById("canvass-status");
    if (!status) return;
    status.textContent = event.detail.message;
    status.classList.toggle("canvass-status--failed", Boolean(event.detail.failed));
  });
  // A row whose update failed on the way (network, server error): the button falls back to
  // the plain form submission, which reloads the page with the outcome.
  document.addEventListener("htmx:sendError", fallback);
  document.addEventListener("htmx:responseError", fallback);
  function fallback(event) {
    const button = event.detail.elt;
    if (button && button.form && button.formAction) {
      button.form.requestSubmit(button);
    }
  }
})();
