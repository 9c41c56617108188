// Site form enhancements: the Leaflet map that places the pin (synced with the coordinate
// fields, which stay usable by keyboard and screen reader), "add another camera", and the
// address search: a suggestion chosen in the address field (address_search.js fires
// canvass:place-chosen) places the pin, and a click on the map fills an empty address (or one
// a previous click filled) with the address found there. Without JavaScript the form works
// with the address alone (the server looks it up) or typed coordinates.
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
      addressFromMap(event.latlng.lat, event.latlng.lng);
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

  // The address at a clicked point fills the address field, unless the owner typed or chose
  // one: only an empty field, or one an earlier click filled, is overwritten.
  function addressFromMap(lat, lng) {
    const where = document.getElementById("site-where");
    const address = document.getElementById("id_address");
    if (!where || !address || !where.dataset.reverseUrl) return;
    if (address.value.trim() && address.dataset.filledFrom !== "map") return;
    const status = where.querySelector(".address-search__status");
    const query = "?lat=" + encodeURIComponent(lat.toFixed(6)) + "&lon=" + encodeURIComponent(lng.toFixed(6));
    fetch(where.dataset.reverseUrl + query, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (answer) {
        if (address.value.trim() && address.dataset.filledFrom !== "map") return; // typed meanwhile
        if (answer.place) {
          address.value = answer.place.label;
          address.dataset.filledFrom = "map";
          if (status) status.textContent = (mapElement.dataset.addressFilled || "").replace("{label}", answer.place.label);
        } else if (status && answer.error) {
          status.textContent = answer.error;
        }
      })
      .catch(function () { /* the pin is placed; the owner types the address */ });
  }

  function setupGeocoder() {
    const address = document.getElementById("id_address");
    if (!address) return;
    address.addEventListener("input", function () { delete address.dataset.filledFrom; });
    address.addEventListener("canvass:place-chosen", function (event) {
      delete address.dataset.filledFrom;
      if (window.canvassSiteMap) {
        window.canvassSiteMap.place(event.detail.latitude, event.detail.longitude);
      } else {
        latInput.value = Number(event.detail.latitude).toFixed(6);
        lngInput.value = Number(event.detail.longitude).toFixed(6);
      }
    });
  }

  setupMap();
  setupCameras();
  setupGeocoder();
})();
