// Site form enhancements: the Leaflet map that places the pin (synced with the coordinate
// fields, which stay usable by keyboard and screen reader), "add another camera", and the
// optional address search. Without JavaScript the form works with typed coordinates.
"use strict";

(function () {
  const latInput = document.getElementById("id_latitude");
  const lngInput = document.getElementById("id_longitude");
  const mapElement = document.getElementById("site-map");

  function setupMap() {
    if (!mapElement || !window.L || !latInput || !lngInput) return;
    mapElement.hidden = false;
    document.getElementById("map-hint").hidden = false;
    const center = [parseFloat(mapElement.dataset.centerLat), parseFloat(mapElement.dataset.centerLng)];
    const map = L.map(mapElement, { keyboard: true }).setView(center, 13);
    L.tileLayer(mapElement.dataset.tiles, { maxZoom: 19, attribution: mapElement.dataset.attribution }).addTo(map);
    L.circle(center, { radius: parseFloat(mapElement.dataset.radius), fill: false, weight: 2, dashArray: "6 6" }).addTo(map);
    let marker = null;

    function place(lat, lng, pan) {
      if (marker) {
        marker.setLatLng([lat, lng]);
      } else {
        marker = L.marker([lat, lng], { draggable: true, title: mapElement.dataset.label, alt: mapElement.dataset.label }).addTo(map);
        marker.on("dragend", function () {
          const position = marker.getLatLng();
          write(position.lat, position.lng);
        });
      }
      if (pan) map.setView([lat, lng], Math.max(map.getZoom(), 16));
    }

    function write(lat, lng) {
      latInput.value = lat.toFixed(6);
      lngInput.value = lng.toFixed(6);
    }

    function readInputs() {
      const lat = parseFloat(latInput.value);
      const lng = parseFloat(lngInput.value);
      if (Number.isFinite(lat) && Number.isFinite(lng) && Math.abs(lat) <= 90 && Math.abs(lng) <= 180) {
        place(lat, lng, true);
      }
    }

    map.on("click", function (event) {
      write(event.latlng.lat, event.latlng.lng);
      place(event.latlng.lat, event.latlng.lng, false);
    });
    latInput.addEventListener("change", readInputs);
    lngInput.addEventListener("change", readInputs);
    readInputs();
    window.canvassSiteMap = { map: map, place: function (lat, lng) { write(lat, lng); place(lat, lng, true); } };
    // Other scripts (the cameras' direction dials) draw on this map once it exists.
    mapElement.dispatchEvent(new CustomEvent("canvass:site-map-ready", { detail: window.canvassSiteMap }));
  }

  function setupCameras() {
    const button = document.getElementById("add-camera");
    const template = document.getElementById("camera-template");
    const container = document.getElementById("camera-forms");
    const total = document.getElementById("id_cameras-TOTAL_FORMS");
    const max = document.getElementById("id_cameras-MAX_NUM_FORMS");
    if (!button || !template || !container || !total) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      const index = parseInt(total.value, 10);
      if (max && index >= parseInt(max.value, 10)) return;
      const html = template.innerHTML.replace(/__prefix__/g, String(index)).replace(/__number__/g, String(index + 1));
      container.insertAdjacentHTML("beforeend", html);
      total.value = String(index + 1);
      const added = container.lastElementChild;
      const first = added.querySelector("input, select, textarea");
      if (first) first.focus();
    });
  }

  function setupGeocoder() {
    const button = document.getElementById("geocode");
    const status = document.getElementById("geocode-status");
    const address = document.getElementById("id_address");
    if (!button || !address) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      status.textContent = "";
      fetch(button.dataset.url + "?q=" + encodeURIComponent(address.value), { credentials: "same-origin" })
        .then(function (response) { return response.json(); })
        .then(function (data) {
          if (data.error) {
            status.textContent = data.error;
          } else if (window.canvassSiteMap) {
            window.canvassSiteMap.place(data.latitude, data.longitude);
          } else {
            latInput.value = data.latitude.toFixed(6);
            lngInput.value = data.longitude.toFixed(6);
          }
        })
        .catch(function () { status.textContent = button.dataset.failed || ""; });
    });
  }

  setupMap();
  setupCameras();
  setupGeocoder();
})();
