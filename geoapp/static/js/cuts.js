/* District page tools on the urban cut: the "what if" crossing (nothing stored) and,
 * for editors, adding or moving a stored crossing by clicking the map. Every answer is
 * written with textContent. Only one map tool is active at a time (QMI.setTool).
 *
 * A what-if site comes from a click on the map or, without a mouse, from a corridor and
 * a position along it (metres from its start, measured on the drawn line): both ask the
 * same endpoint with a point, so both give the same answer. Each tested site stays on the
 * map (numbered) and in the table until its "Retirer" button removes it. */
(function () {
  "use strict";
  if (!window.QMI || !QMI.map) { return; }
  var map = QMI.map;
  var toggle = document.getElementById("whatif-toggle");
  var form = document.getElementById("whatif-form");
  var error = document.getElementById("whatif-error");
  var summary = document.getElementById("whatif-summary");
  var sites = document.getElementById("whatif-sites");
  var rows = sites ? sites.querySelector("tbody") : null;
  var tested = 0;
  var preview = null;

  function num(x, digits) {
    return x === null || x === undefined ? "—" :
      Number(x).toLocaleString("fr-FR", {minimumFractionDigits: digits, maximumFractionDigits: digits});
  }
  function pct(x) { return x === null || x === undefined ? "—" : num(x * 100, 0) + " %"; }
  var el = QMI.textNode;  // text, never markup (qmi-map.js)

  /* The corridors as drawn (WGS84 lines), and the point ``metres`` along one of them
   * (its parts end to end, distances on the sphere as Leaflet measures them). */
  var corridors = {};
  (function readCorridors() {
    var block = document.getElementById("whatif-corridors");
    if (!block) { return; }
    JSON.parse(block.textContent).features.forEach(function (f) {
      var g = f.geometry;
      var parts = g.type === "LineString" ? [g.coordinates] : g.coordinates;
      var lines = parts.map(function (part) {
        return part.map(function (c) { return L.latLng(c[1], c[0]); });
      });
      var length = 0;
      lines.forEach(function (line) {
        for (var i = 1; i < line.length; i++) { length += line[i - 1].distanceTo(line[i]); }
      });
      corridors[String(f.properties.corridor_id)] = {lines: lines, length: length,
                                                     names: f.properties.names};
    });
  })();

  function pointAlong(corridor, metres) {
    var left = Math.max(0, Math.min(metres, corridor.length));
    var last = null;
    for (var k = 0; k < corridor.lines.length; k++) {
      var line = corridor.lines[k];
      for (var i = 1; i < line.length; i++) {
        var step = line[i - 1].distanceTo(line[i]);
        if (left <= step && step > 0) {
          var t = left / step;
          return L.latLng(line[i - 1].lat + t * (line[i].lat - line[i - 1].lat),
                          line[i - 1].lng + t * (line[i].lng - line[i - 1].lng));
        }
        left -= step;
        last = line[i];
      }
    }
    return last;
  }

  /* One numbered marker: not a control (the table has the "Retirer" button). */
  function siteMarker(n, point) {
    var label = el("span", String(n));
    return L.marker(point, {
      icon: L.divIcon({html: label, className: "qmi-whatif-marker", iconSize: [26, 26]}),
      interactive: false, keyboard: false
    }).addTo(map);
  }

  function change(before, after, format) {
    return format(before) + " → " + format(after);
  }

  function addSite(data, label) {
    tested += 1;
    var n = tested;
    var marker = siteMarker(n, data.point);
    var tr = el("tr");
    tr.dataset.site = String(n);
    tr.appendChild(el("td", String(n)));
    tr.appendChild(el("td", label));
    var f2 = function (x) { return num(x, 2); };
    tr.appendChild(el("td", change(data.avant.median, data.apres.median, f2)));
    tr.appendChild(el("td", change(data.avant.p90, data.apres.p90, f2)));
    tr.appendChild(el("td", change(data.avant.share_over_1_5, data.apres.share_over_1_5, pct)));
    var cell = el("td");
    var remove = el("button", "Retirer", "linklike");
    remove.type = "button";
    remove.setAttribute("aria-label", "Retirer le site n° " + n);
    remove.addEventListener("click", function () {
      var next = tr.nextElementSibling || tr.previousElementSibling;
      map.removeLayer(marker);
      tr.remove();
      sites.hidden = !rows.children.length;
      summary.textContent = "Site n° " + n + " retiré.";
      (next ? next.querySelector("button") : form.querySelector("[type=submit]")).focus();
    });
    cell.appendChild(remove);
    tr.appendChild(cell);
    rows.appendChild(tr);
    sites.hidden = false;
    summary.textContent = "Site n° " + n + " (" + label + ") : médiane " +
      change(data.avant.median, data.apres.median, f2) + " · 90ᵉ centile " +
      change(data.avant.p90, data.apres.p90, f2) + " (simulation, non enregistrée)";
  }

  function fail(message) {
    error.hidden = false;
    error.textContent = message;
  }

  function whatIf(latlng, label) {
    var url = toggle.dataset.url + "?lat=" + latlng.lat.toFixed(6) + "&lon=" +
      latlng.lng.toFixed(6);
    error.hidden = true;
    return fetch(url, {headers: {"Accept": "application/json"}})
      .then(function (r) { return r.json(); })
      .then(function (data) { if (data.erreur) { fail(data.erreur); } else { addSite(data, label); } })
      .catch(function () { fail("Le calcul a échoué : réessayez."); });
  }

  function setToggle(on) {
    toggle.setAttribute("aria-pressed", on ? "true" : "false");
    toggle.textContent = on ? "Arrêter les clics sur la carte" : "Tester en cliquant sur la carte";
  }

  if (toggle) {
    toggle.addEventListener("click", function () {
      var on = QMI.tool !== "whatif";
      QMI.setTool(on ? "whatif" : null, on ? function (e) {
        whatIf(e.latlng, "point cliqué sur la carte");
      } : null);
    });
    document.addEventListener("qmi:tool", function (e) { setToggle(e.detail === "whatif"); });
  }

  /* Corridor + position: the range and the number stay equal; a dashed ring previews
   * the spot while it is chosen; submitting tests it. */
  if (form) {
    var select = form.elements.corridor, range = form.elements.range, metres = form.elements.metres;
    var said = document.getElementById("whatif-position-text");
    var current = function () { return corridors[select.value]; };
    var place = function (value) {
      var c = current();
      var m = Math.max(0, Math.min(Math.round(Number(value) || 0), end()));
      range.value = metres.value = String(m);
      said.textContent = num(m, 0) + " m sur " + num(c.length, 0) + " m (" +
        num(c.length ? 100 * m / c.length : 0, 0) + " %)";
      range.setAttribute("aria-valuetext", said.textContent);
      var point = pointAlong(c, m);
      if (!point) { return null; }
      if (!preview) {
        preview = L.circleMarker(point, {radius: 11, color: "#ef6c00", weight: 2, dashArray: "4 3",
                                         fill: false, interactive: false, className: "qmi-whatif-preview"}).addTo(map);
      } else { preview.setLatLng(point); }
      return point;
    };
    var step = Number(range.step) || 1;
    var end = function () { return Math.floor(current().length / step) * step; };
    var reset = function () {
      range.max = metres.max = String(end());
      place(Math.round(end() / 2 / step) * step);
    };
    select.addEventListener("change", reset);
    range.addEventListener("input", function () { place(range.value); });
    metres.addEventListener("input", function () { place(metres.value); });
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var c = current(), point = place(metres.value);
      if (!point) { fail("Ce corridor n’a pas de tracé : choisissez-en un autre."); return; }
      var name = form.elements.label.value.trim();
      whatIf(point, (name ? name + " — " : "") + c.names + ", à " + num(Number(metres.value), 0) + " m");
    });
    reset();
  }

  /* Editors: place a new crossing, or move a stored one, with a click on the map. */
  var add = document.getElementById("crossing-add");
  if (add) {
    add.addEventListener("toggle", function () {
      /* Closed because another tool took over: leave that tool on. */
      if (!add.open && QMI.tool !== "crossing") { return; }
      QMI.setTool(add.open ? "crossing" : null, add.open ? function (e) {
        document.querySelectorAll("[data-crossing-coord]").forEach(function (input) {
          input.value = (input.dataset.crossingCoord === "lat" ? e.latlng.lat : e.latlng.lng).toFixed(6);
        });
      } : null);
    });
    document.addEventListener("qmi:tool", function (e) { if (e.detail !== "crossing") { add.open = false; } });
  }
  document.querySelectorAll("[data-move-crossing]").forEach(function (button) {
    button.addEventListener("click", function () {
      var form = document.getElementById("crossing-move-form");
      button.textContent = "Cliquez la nouvelle position sur la carte…";
      QMI.setTool("crossing-move", function (e) {
        form.action = button.dataset.moveCrossing;
        form.elements.version.value = button.dataset.version;
        form.elements.lat.value = e.latlng.lat.toFixed(6);
        form.elements.lon.value = e.latlng.lng.toFixed(6);
        form.submit();
      });
    });
  });
})();
