// Address suggestions as the user types: an accessible combobox (ARIA 1.2, list autocomplete)
// on every text field marked data-address-search="<search URL>" (or on a container marked so,
// whose data-address-input names the field). After a pause in typing (300 ms) and from the
// third character, the department's address search is asked; the places it suggests are listed
// under the field; up and down arrows move through them, Enter chooses, Escape closes. A
// chosen place fires "canvass:place-chosen" on the field (detail: {label, latitude, longitude}),
// which the page's map script turns into a pin or a move of the map. Messages come from this
// script's own <script> tag, in the visitor's language; a status line (aria-live) reads them.
"use strict";

(function () {
  const script = document.currentScript;
  const words = (script && script.dataset) || {};
  const DELAY_MS = 300;
  const MIN_CHARACTERS = 3;
  let counter = 0;

  function fill(template, values) {
    return (template || "").replace(/\{(\w+)\}/g, function (_, name) { return values[name] === undefined ? "" : String(values[name]); });
  }

  function combobox(input, url) {
    counter += 1;
    const listId = "address-search-list-" + counter;
    const list = document.createElement("ul");
    list.id = listId;
    list.className = "address-search__list";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", words.listLabel || "Suggested addresses");
    list.hidden = true;
    const status = document.createElement("p");
    status.className = "address-search__status";
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");
    const wrapper = document.createElement("div");
    wrapper.className = "address-search";
    input.parentNode.insertBefore(wrapper, input);
    wrapper.appendChild(input);
    wrapper.appendChild(list);
    wrapper.insertAdjacentElement("afterend", status);

    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", listId);
    input.setAttribute("autocomplete", "off");
    const described = (input.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
    if (!status.id) status.id = listId + "-status";
    described.push(status.id);
    input.setAttribute("aria-describedby", described.join(" "));

    let places = [];
    let active = -1;
    let timer = null;
    let controller = null;
    let asked = "";

    function say(text) { status.textContent = text || ""; }

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function highlight(index) {
      active = index;
      Array.prototype.forEach.call(list.children, function (option, position) {
        const selected = position === index;
        option.setAttribute("aria-selected", selected ? "true" : "false");
        option.classList.toggle("address-search__option--active", selected);
        if (selected) option.scrollIntoView({ block: "nearest" });
      });
      if (index >= 0) {
        input.setAttribute("aria-activedescendant", list.children[index].id);
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function choose(index) {
      const place = places[index];
      if (!place) return;
      input.value = place.label;
      asked = place.label;
      close();
      say(fill(words.chosen, { label: place.label }));
      input.dispatchEvent(new CustomEvent("canvass:place-chosen", { bubbles: true, detail: place }));
    }

    function show(found) {
      places = found;
      list.textContent = "";
      found.forEach(function (place, index) {
        const option = document.createElement("li");
        option.id = listId + "-" + index;
        option.className = "address-search__option";
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        option.textContent = place.label;
        // mousedown, not click: the field keeps focus, so the list is not closed first.
        option.addEventListener("mousedown", function (event) { event.preventDefault(); choose(index); });
        list.appendChild(option);
      });
      if (found.length) {
        list.hidden = false;
        input.setAttribute("aria-expanded", "true");
        say(found.length === 1 ? words.one : fill(words.many, { count: found.length }));
      } else {
        close();
      }
      highlight(-1);
    }

    function ask() {
      const query = input.value.trim();
      if (query.length < MIN_CHARACTERS || query === asked) return;
      asked = query;
      if (controller) controller.abort();
      controller = window.AbortController ? new AbortController() : null;
      say(words.searching);
      fetch(url + (url.indexOf("?") < 0 ? "?" : "&") + "q=" + encodeURIComponent(query), {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
        signal: controller ? controller.signal : undefined,
      })
        .then(function (response) {
          return response.json().catch(function () { return { error: words.failed }; });
        })
        .then(function (answer) {
          if (input.value.trim() !== query) return; // typed on since: a newer question follows
          if (answer.places) {
            show(answer.places);
          } else {
            show([]);
            say(answer.error || words.failed);
          }
        })
        .catch(function (error) {
          if (error && error.name === "AbortError") return;
          show([]);
          say(words.failed);
        });
    }

    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      if (input.value.trim().length < MIN_CHARACTERS) {
        close();
        asked = "";
        return;
      }
      timer = window.setTimeout(ask, DELAY_MS);
    });
    input.addEventListener("keydown", function (event) {
      const open = !list.hidden && places.length > 0;
      if (event.key === "ArrowDown") {
        event.preventDefault();
        if (!open && places.length) { list.hidden = false; input.setAttribute("aria-expanded", "true"); }
        if (places.length) highlight(active + 1 >= places.length ? 0 : active + 1);
      } else if (event.key === "ArrowUp") {
        event.preventDefault();
        if (!open && places.length) { list.hidden = false; input.setAttribute("aria-expanded", "true"); }
        if (places.length) highlight(active <= 0 ? places.length - 1 : active - 1);
      } else if (event.key === "Enter") {
        if (open && active >= 0) {
          event.preventDefault(); // chooses the place; the form is not sent
          choose(active);
        } else if (input.dataset.addressSearchStandalone !== undefined) {
          event.preventDefault(); // a search box of its own: Enter asks at once
          window.clearTimeout(timer);
          asked = "";
          ask();
        }
      } else if (event.key === "Escape") {
        if (open) {
          event.preventDefault();
          close();
        }
      }
    });
    input.addEventListener("blur", function () { window.setTimeout(close, 150); });
  }

  function setup() {
    document.querySelectorAll("[data-address-search]").forEach(function (element) {
      const input = element.matches("input") ? element : document.getElementById(element.dataset.addressInput || "");
      if (!input || input.getAttribute("role") === "combobox") return;
      combobox(input, element.dataset.addressSearch);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setup);
  } else {
    setup();
  }
})();
