// Maps that cannot draw say so in words. Every map element carries data-tiles; this script is
// included after leaflet.js and before the page's own map script, with its messages on its own
// <script> tag (data-tiles-failed, data-no-map) in the visitor's language. When a tile layer
// reports a tile it could not load (Leaflet's tileerror), a status line under that map says the
// streets are missing and what still works; when Leaflet itself did not load, each map's empty
// box is hidden and the same kind of line replaces it. The page's form fields never depend on
// the map, so the page stays usable either way.
"use strict";

(function () {
  const script = document.currentScript;
  const messages = {
    tilesFailed: (script && script.dataset.tilesFailed) || "The map's streets could not be loaded.",
    noMap: (script && script.dataset.noMap) || "The map could not be loaded.",
  };

  function say(element, text) {
    let line = element.nextElementSibling;
    if (!line || !line.classList.contains("map-status")) {
      line = document.createElement("p");
      line.className = "map-status";
      line.setAttribute("role", "status");
      element.insertAdjacentElement("afterend", line);
    }
    // Written after the live region exists, so that screen readers announce it.
    window.setTimeout(function () { line.textContent = text; }, 0);
    element.classList.add("map--degraded");
    element.dataset.mapStatus = text;
  }

  if (window.L && window.L.TileLayer) {
    window.L.TileLayer.addInitHook(function () {
      this.on("tileerror", function () {
        const map = this._map;
        if (!map) return;
        const element = map.getContainer();
        if (element.dataset.mapStatus) return; // said once per map
        say(element, messages.tilesFailed);
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (window.L) return;
    document.querySelectorAll("[data-tiles]").forEach(function (element) {
      element.hidden = true;
      say(element, messages.noMap);
    });
  });
})();
