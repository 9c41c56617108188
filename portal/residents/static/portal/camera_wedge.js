// A camera's view drawn on a Leaflet map: a wedge from the site, 60 degrees wide, centred on
// the camera's compass direction (0 north, 90 east). Its length is a number of screen pixels,
// so that it reads the same at every zoom. Used by the site form's dials (direction_dial.js)
// and by the small maps of "My cameras" (site_maps.js).
"use strict";

window.canvassWedge = (function () {
  const HALF_ANGLE = 30;
  const METRES_PER_DEGREE = 111320;

  function points(map, lat, lng, degrees, pixels) {
    const latRad = lat * Math.PI / 180;
    const metresPerPixel = 156543.03392 * Math.cos(latRad) / Math.pow(2, map.getZoom());
    const radius = pixels * metresPerPixel;
    const result = [[lat, lng]];
    for (let angle = degrees - HALF_ANGLE; angle <= degrees + HALF_ANGLE; angle += 5) {
      const rad = angle * Math.PI / 180;
      result.push([
        lat + radius * Math.cos(rad) / METRES_PER_DEGREE,
        lng + radius * Math.sin(rad) / (METRES_PER_DEGREE * Math.cos(latRad)),
      ]);
    }
    return result;
  }

  function draw(map, lat, lng, degrees, pixels) {
    return L.polygon(points(map, lat, lng, degrees, pixels), {
      className: "camera-wedge",
      interactive: false,
      color: "#1d4ed8",
      weight: 2,
      fillColor: "#3b82f6",
      fillOpacity: 0.35,
    }).addTo(map);
  }

  return { points: points, draw: draw };
})();
