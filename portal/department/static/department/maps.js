// Department console maps (Leaflet): the clustered registry map, the incident's nearby sites,
// the coverage gaps, and the pin that places a new incident. Data arrives from the server as
// JSON (a fetch, or a <script type="application/json"> block); no inline script is needed.
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
            }).addTo(layer);
          });
          (payload.sites || []).forEach(function (site) {
            const colour = COLOURS[site.participation] || COLOURS.registered;
            L.circleMarker([site.latitude, site.longitude], { radius: 6, color: colour, fillOpacity: 0.8 }).addTo(layer);
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

  function pinMap(element) {
    const { map } = base(element, 13);
    const latitude = document.getElementById("id_latitude");
    const longitude = document.getElementById("id_longitude");
    let marker = null;
    map.on("click", function (event) {
      latitude.value = event.latlng.lat.toFixed(6);
      longitude.value = event.latlng.lng.toFixed(6);
      if (marker) { marker.setLatLng(event.latlng); } else { marker = L.marker(event.latlng).addTo(map); }
    });
  }

  if (!window.L) return;
  const maps = { "registry-map": registryMap, "incident-map": incidentMap, "coverage-map": coverageMap, "pin-map": pinMap };
  Object.keys(maps).forEach(function (id) {
    const element = document.getElementById(id);
    if (element) maps[id](element);
  });
})();
