// Compass dials for the cameras' view directions on the site form. Each dial sets the number
// field it stands beside (which stays, for typing and for browsers without JavaScript): click
// or drag on it, or focus it and use the arrow keys (5 degrees, 15 with Shift or Page Up/Down).
// Each camera's direction is drawn as a wedge on the site's map, once the map exists
// (site_form.js announces it with canvass:site-map-ready on #site-map, and sets
// window.canvassSiteMap). Camera forms added later ("Add another camera") get their dial too.
"use strict";

(function () {
  const WEDGE_PIXELS = 70;
  const shows = new Map(); // each dial's redraw, by dial element
  let siteMap = null;
  let marker = null;
  const latInput = document.getElementById("id_latitude");
  const lngInput = document.getElementById("id_longitude");

  function wrap(degrees) {
    return ((Math.round(degrees) % 360) + 360) % 360;
  }

  function pointName(dial, degrees) {
    const points = dial.dataset.points.split("|");
    return points[Math.round(degrees / 45) % 8];
  }

  function spoken(dial, degrees) {
    const template = degrees === 1 ? dial.dataset.textOne : dial.dataset.textOther;
    return template.replace("{word}", pointName(dial, degrees)).replace("{degrees}", String(degrees));
  }

  // The site's place: the map's pin once there is one, the typed coordinates otherwise.
  function origin() {
    if (marker) return marker.getLatLng();
    if (!latInput || !lngInput) return null;
    const lat = parseFloat(latInput.value);
    const lng = parseFloat(lngInput.value);
    if (!Number.isFinite(lat) || !Number.isFinite(lng) || Math.abs(lat) > 90 || Math.abs(lng) > 180) return null;
    return { lat: lat, lng: lng };
  }

  function redrawAll() {
    shows.forEach(function (show) { show(); });
  }

  function setupDial(dial) {
    if (shows.has(dial)) return;
    const input = document.getElementById(dial.dataset.input);
    if (!input) return;
    const face = dial.querySelector("[role=slider]");
    const pointer = dial.querySelector("[data-dial-pointer]");
    const word = dial.querySelector("[data-dial-word]");
    const svg = face.querySelector("svg");
    const camera = dial.closest("[data-camera]");
    const deleted = camera ? camera.querySelector("input[name$='-DELETE']") : null;
    let wedge = null;
    let dragging = false;
    dial.hidden = false;

    function current() {
      const text = input.value.trim();
      if (!/^\d{1,3}$/.test(text)) return null;
      const value = parseInt(text, 10);
      return value <= 359 ? value : null;
    }

    function drawWedge(value) {
      const place = origin();
      if (!siteMap || value === null || !place || (deleted && deleted.checked)) {
        if (wedge) { wedge.remove(); wedge = null; }
        return;
      }
      const points = window.canvassWedge.points(siteMap.map, place.lat, place.lng, value, WEDGE_PIXELS);
      if (wedge) {
        wedge.setLatLngs(points);
      } else {
        wedge = window.canvassWedge.draw(siteMap.map, place.lat, place.lng, value, WEDGE_PIXELS);
      }
      const path = wedge.getElement();
      if (path) {
        path.setAttribute("data-camera", dial.dataset.input);
        path.setAttribute("data-direction", String(value));
        path.classList.toggle("camera-wedge--active", document.activeElement === face);
      }
    }

    function show() {
      const value = current();
      if (value === null) {
        dial.classList.add("dial--unset");
        face.setAttribute("aria-valuenow", "0");
        face.setAttribute("aria-valuetext", dial.dataset.unset);
        word.textContent = dial.dataset.unset;
      } else {
        dial.classList.remove("dial--unset");
        pointer.setAttribute("transform", "rotate(" + value + ")");
        face.setAttribute("aria-valuenow", String(value));
        face.setAttribute("aria-valuetext", spoken(dial, value));
        word.textContent = spoken(dial, value);
      }
      drawWedge(value);
    }

    function set(degrees) {
      input.value = String(wrap(degrees));
      input.dispatchEvent(new Event("input", { bubbles: true }));
      input.dispatchEvent(new Event("change", { bubbles: true }));
    }

    function fromPointer(event) {
      const box = svg.getBoundingClientRect();
      const dx = event.clientX - (box.left + box.width / 2);
      const dy = event.clientY - (box.top + box.height / 2);
      if (Math.abs(dx) < 1 && Math.abs(dy) < 1) return null;
      // Snapped to 5 degrees: a dial is for pointing, the field is for exact numbers.
      return wrap(Math.round(Math.atan2(dx, -dy) * 180 / Math.PI / 5) * 5);
    }

    face.addEventListener("keydown", function (event) {
      const value = current();
      const step = event.shiftKey ? 15 : 5;
      let next;
      switch (event.key) {
        case "ArrowRight": case "ArrowUp": next = (value === null ? 0 : value) + step; break;
        case "ArrowLeft": case "ArrowDown": next = (value === null ? 0 : value) - step; break;
        case "PageUp": next = (value === null ? 0 : value) + 15; break;
        case "PageDown": next = (value === null ? 0 : value) - 15; break;
        case "Home": next = 0; break;
        case "End": next = 359; break;
        default: return;
      }
      event.preventDefault();
      set(next);
    });
    face.addEventListener("pointerdown", function (event) {
      const value = fromPointer(event);
      if (value === null) return;
      event.preventDefault();
      face.focus();
      dragging = true;
      if (face.setPointerCapture) face.setPointerCapture(event.pointerId);
      set(value);
    });
    face.addEventListener("pointermove", function (event) {
      if (!dragging) return;
      const value = fromPointer(event);
      if (value !== null && value !== current()) set(value);
    });
    function stop() { dragging = false; }
    face.addEventListener("pointerup", stop);
    face.addEventListener("pointercancel", stop);
    face.addEventListener("focus", show);
    face.addEventListener("blur", show);
    input.addEventListener("input", show);
    input.addEventListener("change", show);
    if (deleted) deleted.addEventListener("change", show);
    shows.set(dial, show);
    show();
  }

  function setupDials(root) {
    root.querySelectorAll("[data-dial]").forEach(setupDial);
  }

  function attachMarker(layer) {
    if (!(layer instanceof L.Marker)) return;
    marker = layer;
    marker.on("move", redrawAll);
    redrawAll();
  }

  function useMap(detail) {
    if (siteMap || !detail || !detail.map || !window.L) return;
    siteMap = detail;
    siteMap.map.eachLayer(attachMarker);
    siteMap.map.on("layeradd", function (event) { attachMarker(event.layer); });
    siteMap.map.on("zoomend", redrawAll);
    redrawAll();
  }

  setupDials(document);
  const forms = document.getElementById("camera-forms");
  if (forms && window.MutationObserver) {
    new MutationObserver(function () { setupDials(forms); }).observe(forms, { childList: true });
  }
  if (latInput) latInput.addEventListener("change", redrawAll);
  if (lngInput) lngInput.addEventListener("change", redrawAll);

  if (window.canvassSiteMap) {
    useMap(window.canvassSiteMap);
  } else {
    const mapElement = document.getElementById("site-map");
    if (mapElement) {
      mapElement.addEventListener("canvass:site-map-ready", function (event) { useMap(event.detail); });
    }
  }
})();
