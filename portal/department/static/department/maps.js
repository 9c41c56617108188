// Department console maps (Leaflet): the clustered registry map, the incident's nearby sites,
// the coverage gaps, and the pin that places a new incident. Data arrives from the server as
// JSON (a fetch, or a <script type="application/json"> block); no inline script is needed.
// Address search: a place chosen in an address field (address_search.js fires
// canvass:place-chosen) moves the registry map or places the incident's pin; a click on the
// registry map offers "open an incident here" with the address found there, and a click on the
// incident's pin map fills an empty address. Popups are built as DOM text, never as HTML.
"use strict";

(function () {
  const COLOURS = { registered: "#1d4ed8", integrated: "#c2410c" };

  function base(element, zoom) {
    const centre = [parseFloat(element.dataset.centerLat), parseFloat(element.dataset.centerLng)];
    const map = L.map(element).setView(centre, zoom);
    L.tileLayer(element.dataset.tiles, { maxZoom: 19, attribution: element.dataset.attribution }).addTo(map);
    return { map: map, centre: centre };
  }

  function data(id) {
    const element = document.getElementById(id);
    return element ? JSON.parse(element.textContent) : null;
  }

  function reverseLookup(url, latlng) {
    const query = "?lat=" + encodeURIComponent(latlng.lat.toFixed(6)) + "&lon=" + encodeURIComponent(latlng.lng.toFixed(6));
    return fetch(url + query, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.json(); });
  }

  function paragraph(text, strong) {
    const line = document.createElement("p");
    if (strong) {
      const bold = document.createElement("strong");
      bold.textContent = text;
      line.appendChild(bold);
    } else {
      line.textContent = text;
    }
    return line;
  }

  // A popup for a place: its address (when known), its coordinates and a link to open an
  // incident there, the new-incident form prefilled (maps.js reads the link's query).
  function placePopup(element, latlng, address) {
    const popup = document.createElement("div");
    popup.className = "map-popup";
    if (address) popup.appendChild(paragraph(address, true));
    popup.appendChild(paragraph(element.dataset.point + ": " + latlng.lat.toFixed(6) + ", " + latlng.lng.toFixed(6)));
    const query = new URLSearchParams({ latitude: latlng.lat.toFixed(6), longitude: latlng.lng.toFixed(6) });
    if (address) query.set("address", address);
    const link = document.createElement("a");
    link.href = element.dataset.incidentUrl + "?" + query.toString() + "#pin-map";
    link.textContent = element.dataset.openIncident;
    const line = document.createElement("p");
    line.appendChild(link);
    popup.appendChild(line);
    return popup;
  }

  // The cameras their owners share right now (staff with the live-view capability): a LIVE
  // marker at each site, its popup a link to open the camera with a reason. Labels are the
  // owners' words: set as text, never as HTML.
  function liveCameras(map, element) {
    if (!element.dataset.liveUrl) { return; }
    fetch(element.dataset.liveUrl, { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : { cameras: [] }; })
      .then(function (payload) {
        (payload.cameras || []).forEach(function (camera) {
          const badge = document.createElement("span");
          badge.className = "live-marker";
          badge.textContent = "LIVE";
          const popup = document.createElement("div");
          const name = document.createElement("strong");
          name.textContent = camera.label;
          popup.appendChild(name);
          if (camera.emergency_only) {
            const note = document.createElement("p");
            note.textContent = element.dataset.liveEmergency;
            popup.appendChild(note);
          }
          const link = document.createElement("a");
          link.href = camera.open_url;
          link.textContent = element.dataset.liveOpen;
          popup.appendChild(document.createElement("br"));
          popup.appendChild(link);
          L.marker([camera.latitude, camera.longitude], {
            icon: L.divIcon({ className: "", html: badge, iconSize: [38, 18] }),
            title: camera.label,
            zIndexOffset: 1000,
          }).bindPopup(popup).addTo(map);
        });
      });
  }

  function registryMap(element) {
    const { map } = base(element, 13);
    const layer = L.layerGroup().addTo(map);
    const filters = new URLSearchParams(window.location.search);
    function load() {
      const bounds = map.getBounds();
      const query = new URLSearchParams(filters);
      query.set("bbox", [bounds.getSouth(), bounds.getWest(), bounds.getNorth(), bounds.getEast()].map(function (v) { return v.toFixed(6); }).join(","));
      query.set("zoom", String(map.getZoom()));
      fetch(element.dataset.dataUrl + "?" + query.toString(), { credentials: "same-origin" })
        .then(function (response) { return response.json(); })
        .then(function (payload) {
          layer.clearLayers();
          (payload.clusters || []).forEach(function (cluster) {
            const colour = cluster.integrated * 2 > cluster.count ? COLOURS.integrated : COLOURS.registered;
            const size = 26 + Math.min(30, Math.log2(cluster.count + 1) * 4);
            // Styles set through the DOM, not a style attribute: the CSP forbids inline styles.
            const label = document.createElement("div");
            label.className = "cluster-label";
            label.textContent = String(cluster.count);
            label.style.width = label.style.height = label.style.lineHeight = size + "px";
            label.style.borderRadius = "50%";
            label.style.background = colour;
            L.marker([cluster.latitude, cluster.longitude], {
              icon: L.divIcon({ className: "", html: label, iconSize: [size, size] }),
              title: cluster.count + " sites",
              alt: element.dataset.zoomIn,
            }).on("click", function (event) {
              // A cluster opens up: the map zooms in on it.
              map.setView(event.latlng, Math.min(map.getZoom() + 2, 19));
            }).addTo(layer);
          });
          (payload.sites || []).forEach(function (site) {
            const colour = COLOURS[site.participation] || COLOURS.registered;
            const point = L.latLng(site.latitude, site.longitude);
            const popup = placePopup(element, point, site.address);
            if (site.summary) popup.insertBefore(paragraph(site.summary), popup.children[1]);
            L.circleMarker(point, { radius: 8, color: colour, fillOpacity: 0.8 }).bindPopup(popup).addTo(layer);
            site.directions.forEach(function (degrees) {
              const radians = degrees * Math.PI / 180;
              const end = [site.latitude + 0.00025 * Math.cos(radians), site.longitude + 0.00025 * Math.sin(radians) / Math.cos(site.latitude * Math.PI / 180)];
              L.polyline([[site.latitude, site.longitude], end], { color: colour, weight: 3 }).addTo(layer);
            });
          });
        });
    }
    map.on("moveend", load);
    load();
    liveCameras(map, element);

    // A click elsewhere: the address there (when the department has address search), and
    // "open an incident here".
    map.on("click", function (event) {
      const popup = L.popup().setLatLng(event.latlng);
      if (!element.dataset.reverseUrl) {
        popup.setContent(placePopup(element, event.latlng, "")).openOn(map);
        return;
      }
      popup.setContent(paragraph(element.dataset.lookingUp)).openOn(map);
      reverseLookup(element.dataset.reverseUrl, event.latlng)
        .then(function (answer) {
          const content = placePopup(element, event.latlng, answer.place ? answer.place.label : "");
          if (!answer.place && answer.error) content.insertBefore(paragraph(answer.error), content.firstChild);
          popup.setContent(content);
        })
        .catch(function () { popup.setContent(placePopup(element, event.latlng, "")); });
    });

    // An address chosen in the map's search box: the map goes there.
    document.addEventListener("canvass:place-chosen", function (event) {
      if (event.target.id !== "map-search-input") return;
      const point = L.latLng(event.detail.latitude, event.detail.longitude);
      map.closePopup();
      // The popup opens once the map has arrived (moveend fires even when it did not move), so
      // that its link does not slide away under a click during the zoom.
      map.once("moveend", function () {
        L.popup().setLatLng(point).setContent(placePopup(element, point, event.detail.label)).openOn(map);
      });
      map.setView(point, Math.max(map.getZoom(), 17));
    });
  }

  function incidentMap(element) {
    const { map, centre } = base(element, 16);
    // The radius the canvass searched (Incident.search_radius_m), not the one typed.
    L.circle(centre, { radius: parseFloat(element.dataset.searchRadius), fill: false, weight: 2 }).addTo(map);
    L.marker(centre, { title: "Incident" }).addTo(map);
    // Compact GeoJSON: each listed site's point and its number in the list.
    function add(collection) {
      ((collection && collection.features) || []).forEach(function (feature) {
        const [longitude, latitude] = feature.geometry.coordinates;
        const label = document.createElement("span");
        label.className = "site-number";
        label.textContent = String(feature.properties.n);
        L.marker([latitude, longitude], {
          icon: L.divIcon({ className: "", html: label, iconSize: [26, 26] }),
          title: "Site " + feature.properties.n,
        }).addTo(map);
      });
    }
    add(data("incident-sites"));
    // Rows the canvass's "more" link added (canvass.js).
    document.addEventListener("canvass:sites", function (event) { add(event.detail); });
    liveCameras(map, element);
  }

  function coverageMap(element) {
    const { map, centre } = base(element, 11);
    L.circle(centre, { radius: parseFloat(element.dataset.radius), fill: false, weight: 2, dashArray: "6 6" }).addTo(map);
    (data("coverage-gaps") || []).forEach(function (cell) {
      L.rectangle([[cell[0], cell[1]], [cell[2], cell[3]]], { color: "#b91c1c", weight: 0, fillOpacity: 0.3 }).addTo(map);
    });
  }

  // The new-incident form's place: written to the coordinate fields, whether or not the map
  // could be drawn (pinPlace, set by pinMap, also moves the pin).
  let pinPlace = null;

  function incidentForm() {
    const latitude = document.getElementById("id_latitude");
    const longitude = document.getElementById("id_longitude");
    const address = document.getElementById("id_address");
    if (!latitude || !longitude || !address || !document.getElementById("pin-map")) return;
    address.addEventListener("input", function () { delete address.dataset.filledFrom; });
    address.addEventListener("canvass:place-chosen", function (event) {
      delete address.dataset.filledFrom;
      latitude.value = Number(event.detail.latitude).toFixed(6);
      longitude.value = Number(event.detail.longitude).toFixed(6);
      if (pinPlace) pinPlace(event.detail.latitude, event.detail.longitude, true);
    });
    // "Open an incident here" from the registry map: its place and address, prefilled.
    const given = new URLSearchParams(window.location.search);
    const lat = parseFloat(given.get("latitude"));
    const lng = parseFloat(given.get("longitude"));
    if (Number.isFinite(lat) && Number.isFinite(lng) && Math.abs(lat) <= 90 && Math.abs(lng) <= 180 && !latitude.value && !longitude.value) {
      latitude.value = lat.toFixed(6);
      longitude.value = lng.toFixed(6);
      if (!address.value && given.get("address")) address.value = given.get("address").slice(0, 200);
    }
  }

  function pinMap(element) {
    const { map } = base(element, 13);
    const latitude = document.getElementById("id_latitude");
    const longitude = document.getElementById("id_longitude");
    const address = document.getElementById("id_address");
    let marker = null;
    pinPlace = function (lat, lng, pan) {
      const point = L.latLng(lat, lng);
      if (marker) { marker.setLatLng(point); } else { marker = L.marker(point).addTo(map); }
      if (pan) map.setView(point, Math.max(map.getZoom(), 16));
    };
    map.on("click", function (event) {
      latitude.value = event.latlng.lat.toFixed(6);
      longitude.value = event.latlng.lng.toFixed(6);
      pinPlace(event.latlng.lat, event.latlng.lng, false);
      // An empty address (or one a click filled) takes the address found there.
      const reverseUrl = address && address.dataset.addressReverse;
      if (!reverseUrl || (address.value.trim() && address.dataset.filledFrom !== "map")) return;
      reverseLookup(reverseUrl, event.latlng).then(function (answer) {
        if (answer.place && (!address.value.trim() || address.dataset.filledFrom === "map")) {
          address.value = answer.place.label;
          address.dataset.filledFrom = "map";
        }
      }).catch(function () { /* the place is set; the investigator types the address */ });
    });
    const typedLat = parseFloat(latitude.value);
    const typedLng = parseFloat(longitude.value);
    if (Number.isFinite(typedLat) && Number.isFinite(typedLng)) pinPlace(typedLat, typedLng, true);
  }

  incidentForm();
  if (!window.L) return;
  const maps = { "registry-map": registryMap, "incident-map": incidentMap, "coverage-map": coverageMap, "pin-map": pinMap };
  Object.keys(maps).forEach(function (id) {
    const element = document.getElementById(id);
    if (element) maps[id](element);
  });
})();
