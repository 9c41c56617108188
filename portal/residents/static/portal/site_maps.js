// The small map on each site's card in "My cameras": the site and a wedge for each active
// camera's view direction. Not interactive (the card's sentences say everything in words);
// without Leaflet the map stays hidden, and when the tiles cannot load the caption says so.
"use strict";

(function () {
  if (!window.L || !window.canvassWedge) return;
  document.querySelectorAll("[data-site-map]").forEach(function (element) {
    const figure = element.closest("figure");
    const lat = parseFloat(element.dataset.lat);
    const lng = parseFloat(element.dataset.lng);
    if (!Number.isFinite(lat) || !Number.isFinite(lng)) return;
    if (figure) figure.hidden = false;
    const map = L.map(element, {
      dragging: false,
      touchZoom: false,
      scrollWheelZoom: false,
      doubleClickZoom: false,
      boxZoom: false,
      keyboard: false,
      zoomControl: false,
    }).setView([lat, lng], 18);
    const tiles = L.tileLayer(element.dataset.tiles, { maxZoom: 19, attribution: element.dataset.attribution });
    tiles.once("tileerror", function () {
      const failed = figure ? figure.querySelector("[data-tiles-failed]") : null;
      if (failed) failed.hidden = false;
    });
    tiles.addTo(map);
    (element.dataset.directions || "").split(",").forEach(function (text) {
      if (!/^\d{1,3}$/.test(text)) return;
      const wedge = window.canvassWedge.draw(map, lat, lng, parseInt(text, 10), 60);
      const path = wedge.getElement();
      if (path) path.setAttribute("data-direction", text);
    });
    L.circleMarker([lat, lng], { radius: 6, interactive: false, color: "#111827", weight: 2, fillColor: "#ffffff", fillOpacity: 1 }).addTo(map);
  });
})();
