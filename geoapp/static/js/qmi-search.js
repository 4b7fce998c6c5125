/* QMI Atlas map search: communes, districts, stations and experiments by name, accent-
 * and case-insensitive, with no geocoder (the app serves the index, fetched once on first
 * use: it works offline). The box follows the ARIA combobox pattern (arrows move in the
 * list, Enter centres the map on the result, Escape closes). Choosing a district in the
 * filter form zooms to it too. Every name is written with textContent. */
(function () {
  "use strict";
  var MAX_RESULTS = 8;
  var TYPING_PAUSE_MS = 120;
  var KIND_ORDER = {quartier: 0, commune: 1, gare: 2, experimentation: 3};
  var input = document.getElementById("qmi-search-input");
  var list = document.getElementById("qmi-search-list");
  var status = document.getElementById("qmi-search-status");
  var index = null;
  var loading = null;
  var shown = [];
  var active = -1;
  var ring = null;

  /* "Les Blagis", "les  blagis", "LÉS-Blâgis" all become "les blagis". */
  function fold(text) {
    return String(text || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "")
      .toLowerCase().replace(/œ/g, "oe").replace(/æ/g, "ae")
      .replace(/[’'`\-_.,;:()/]+/g, " ").replace(/\s+/g, " ").trim();
  }

  function load() {
    if (!loading) {
      loading = fetch(input.dataset.indexUrl, {headers: {"Accept": "application/json"}})
        .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
        .then(function (data) {
          var col = {};
          data.colonnes.forEach(function (name, i) { col[name] = i; });
          var pages = data.url_experimentation;
          /* Details repeat (a theme and a status): each is folded once. */
          var folded = {};
          var foldDetail = function (d) { return folded[d] || (folded[d] = fold(d)); };
          index = {types: data.types, entries: data.entrees.map(function (e) {
            var id = e[col.id];
            var key = fold(e[col.nom]);
            return {kind: e[col.type], name: e[col.nom], detail: e[col.detail],
                    lat: e[col.lat], lon: e[col.lon], box: e[col.emprise],
                    url: e[col.url] || (id !== null && id !== undefined ? pages + id : null),
                    key: key, all: key + " " + foldDetail(e[col.detail]),
                    order: KIND_ORDER[e[col.type]] || 0};
          })};
          return index;
        })
        .catch(function () {
          loading = null;
          status.textContent = "La recherche est indisponible : réessayez.";
        });
    }
    return loading;
  }

  /* Lower is better: the name starts with the query, then a word of it does, then the
   * name holds it, then only the detail (the commune of a district…) does. */
  function rank(entry, query, words) {
    for (var i = 0; i < words.length; i++) {
      if (entry.all.indexOf(words[i]) < 0) { return -1; }
    }
    if (entry.key.indexOf(query) === 0) { return 0; }
    if ((" " + entry.key).indexOf(" " + query) >= 0) { return 1; }
    if (words.every(function (w) { return entry.key.indexOf(w) >= 0; })) { return 2; }
    return 3;
  }

  function search(text) {
    var query = fold(text);
    if (!query || !index) { return []; }
    var words = query.split(" ");
    /* One number per hit (rank, then kind, then shorter names first): a numeric sort
     * stays fast when a common word matches thousands of experiments. */
    var hits = [];
    var entries = index.entries;
    for (var i = 0; i < entries.length; i++) {
      var r = rank(entries[i], query, words);
      if (r >= 0) {
        hits.push({entry: entries[i],
                   score: (r * 10 + entries[i].order) * 1000 + Math.min(entries[i].name.length, 999)});
      }
    }
    hits.sort(function (a, b) { return a.score - b.score; });
    return hits.slice(0, MAX_RESULTS).map(function (h) { return h.entry; });
  }

  var el = QMI.textNode;  // text, never markup (qmi-map.js)

  function close() {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  }

  function highlight(i) {
    active = i;
    Array.prototype.forEach.call(list.children, function (li, k) {
      li.setAttribute("aria-selected", k === i ? "true" : "false");
    });
    if (i >= 0) {
      input.setAttribute("aria-activedescendant", list.children[i].id);
      list.children[i].scrollIntoView({block: "nearest"});
    } else { input.removeAttribute("aria-activedescendant"); }
  }

  function render(results) {
    shown = results;
    list.replaceChildren();
    results.forEach(function (entry, i) {
      var li = el("li", "", "map-search-option");
      li.id = "qmi-search-option-" + i;
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", "false");
      li.appendChild(el("span", entry.name, "map-search-name"));
      li.appendChild(el("span", (index.types[entry.kind] || entry.kind) + " · " + entry.detail,
                        "map-search-detail"));
      /* mousedown, not click: the input keeps the focus. */
      li.addEventListener("mousedown", function (e) { e.preventDefault(); choose(i); });
      list.appendChild(li);
    });
    var open = results.length > 0;
    list.hidden = !open;
    input.setAttribute("aria-expanded", open ? "true" : "false");
    active = -1;
    input.removeAttribute("aria-activedescendant");
    status.textContent = input.value.trim() ? (open ? results.length + " résultat(s)." :
      "Aucun résultat pour « " + input.value.trim() + " ».") : "";
  }

  /* Centre the map on a result and say where it went (a link when it has a page). */
  function zoomTo(entry) {
    var map = window.QMI && QMI.map;
    if (!map) { return; }
    var centre = entry.box ? L.latLngBounds(entry.box).getCenter() : L.latLng(entry.lat, entry.lon);
    if (entry.box) { map.fitBounds(entry.box, {maxZoom: 16, animate: false}); }
    else { map.setView(centre, 17, {animate: false}); }
    /* A ring marks the result (drawn for the eye; the status line says it in words). */
    if (ring) { map.removeLayer(ring); }
    ring = L.circleMarker(centre, {radius: 16, color: "#1f2430", weight: 3, fill: false,
                                   interactive: false, className: "qmi-search-hit"}).addTo(map);
  }

  function choose(i) {
    var entry = shown[i];
    if (!entry) { return; }
    input.value = entry.name;
    close();
    zoomTo(entry);
    status.replaceChildren(el("span", "Carte centrée sur : " + entry.name + " (" +
      (index.types[entry.kind] || entry.kind) + ")"));
    if (entry.url) {
      var a = el("a", "ouvrir sa page");
      a.href = entry.url;
      status.appendChild(document.createTextNode(" — "));
      status.appendChild(a);
    }
  }

  var pending = null;
  function refresh() {
    pending = null;
    var text = input.value;
    load().then(function () { if (input.value === text) { render(search(text)); } });
  }

  function onKey(e) {
    var n = shown.length;
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      if (list.hidden && n) { list.hidden = false; input.setAttribute("aria-expanded", "true"); }
      if (!n) { return; }
      highlight(e.key === "ArrowDown" ? (active + 1) % n : (active <= 0 ? n - 1 : active - 1));
    } else if (e.key === "Enter") {
      if (n) { e.preventDefault(); choose(active >= 0 ? active : 0); }
    } else if (e.key === "Escape") {
      if (!list.hidden) { e.preventDefault(); close(); } else { input.value = ""; render([]); }
    }
  }

  /* The filter form's district select zooms the map to the district it names. */
  function districtBounds(slug) {
    var entry = window.QMI && QMI.overlays && QMI.overlays.quartiers;
    var found = null;
    if (entry) {
      entry.layer.eachLayer(function (l) {
        var p = l.feature && l.feature.properties;
        if (p && p.slug === slug && l.getBounds) { found = l.getBounds(); }
      });
    }
    return found;
  }

  function zoomToDistrict(slug) {
    var bounds = slug && districtBounds(slug);
    if (bounds) { QMI.map.fitBounds(bounds, {maxZoom: 16, animate: false}); }
  }

  function watchFilters() {
    var select = document.querySelector("#filters select[name=quartier]");
    if (!select) { return; }
    select.addEventListener("change", function () { zoomToDistrict(select.value); });
    /* A filtered page opens on its district, unless its link holds a view of its own. */
    if (select.value && !/[#&]carte=/.test(window.location.hash)) { zoomToDistrict(select.value); }
  }

  function start() {
    if (input) {
      input.addEventListener("focus", load);
      /* Searched once typing pauses (a search over 100 000 names takes ~0.1 s). */
      input.addEventListener("input", function () {
        window.clearTimeout(pending);
        pending = window.setTimeout(refresh, TYPING_PAUSE_MS);
      });
      input.addEventListener("keydown", function (e) {
        /* Arrows or Enter before the pause: the list first catches up with the text. */
        if (pending && index && /^(Arrow(Up|Down)|Enter)$/.test(e.key)) {
          window.clearTimeout(pending);
          pending = null;
          render(search(input.value));
        }
        onKey(e);
      });
      input.addEventListener("blur", close);
    }
    if (window.QMI && QMI.map) { watchFilters(); }
    else { document.addEventListener("qmi:ready", watchFilters); }
  }

  window.QMI = window.QMI || {};
  QMI.search = {fold: fold, search: search, load: load};
  start();
})();
