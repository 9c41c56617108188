// The directory's map (Leaflet): one marker per listed city at its program's centre, its popup
// the program's name and a link to its portal. The data comes from map.json; the list on the
// page works without this script, which only adds the map once Leaflet has loaded. Names are
// set as text, never as HTML. When the tiles cannot load, the markers still show on a blank map.
"use strict";

(function () {
  const US_CENTRE = [39.5, -98.35];

  function popup(city, openLabel) {
    const box = document.createElement("div");
    const name = document.createElement("strong");
    name.textContent = city.name;
    const place = document.createElement("span");
    place.textContent = city.city + ", " + city.state;
    const link = document.createElement("a");
    link.href = city.url;
    link.textContent = openLabel;
    box.appendChild(name);
    box.appendChild(document.createElement("br"));
    box.appendChild(place);
    box.appendChild(document.createElement("br"));
    box.appendChild(link);
    return box;
  }

  function show(element) {
    if (typeof L === "undefined") { return; }
    element.hidden = false;
    const map = L.map(element).setView(US_CENTRE, 4);
    L.tileLayer(element.dataset.tiles, { maxZoom: 18, attribution: element.dataset.attribution }).addTo(map);
    const zipLat = parseFloat(element.dataset.centerLat);
    const zipLng = parseFloat(element.dataset.centerLng);
    fetch(element.dataset.mapUrl, { credentials: "omit" })
      .then(function (response) { return response.ok ? response.json() : []; })
      .then(function (cities) {
        const points = [];
        cities.forEach(function (city) {
          points.push([city.lat, city.lng]);
          // A marker of the page's own style (no image to fetch), reachable by keyboard: Tab
          // to it, Enter opens its popup.
          L.marker([city.lat, city.lng], {
            icon: L.divIcon({ className: "directory-marker", iconSize: [16, 16] }),
            title: city.name + " (" + city.city + ", " + city.state + ")",
            alt: city.name,
          })
            .bindPopup(popup(city, element.dataset.openLabel))
            .addTo(map);
        });
        if (!isNaN(zipLat) && !isNaN(zipLng)) {
          map.setView([zipLat, zipLng], 9);
        } else if (points.length) {
          map.fitBounds(points, { padding: [24, 24], maxZoom: 9 });
        }
      })
      .catch(function () { /* the list on the page still has every city */ });
  }

  document.addEventListener("DOMContentLoaded", function () {
    const element = document.getElementById("directory-map");
    if (element) { show(element); }
  });
})();
