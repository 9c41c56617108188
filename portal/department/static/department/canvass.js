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
        document.getElementById("canvass-rows").insertAdjacentHTML("beforeend", payload.rows);
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
