/* Placing or moving an experiment on the district map.
 * "create": a toggle switches the map to placement mode; a click drops a draggable marker
 * and fills the form's coordinates. "move": the experiment's marker is draggable at once.
 * Each position asks /api/placement what the geometry says; answers are shown with
 * textContent only (never as HTML). The server validates again on save. */
(function () {
  "use strict";
  var config = document.getElementById("placement-config");
  if (!config || !window.QMI || !QMI.map) { return; }
  var map = QMI.map;
  var mode = config.dataset.mode;
  var slug = config.dataset.slug;
  var exclude = config.dataset.exclude || "";
  var active = mode === "move";
  var marker = null;
  var panel = document.getElementById("placement-panel");
  var toggle = document.getElementById("placement-toggle");
  var info = document.getElementById("placement-info");
  var inputs = document.querySelectorAll("input[data-coord]");

  function fmt(n) { return Number(n).toLocaleString("fr-FR", {maximumFractionDigits: 0}); }

  function setLine(field, text) {
    var li = info.querySelector('[data-field="' + field + '"]');
    li.textContent = text;
  }

  function describe(p) {
    info.hidden = false;
    info.classList.toggle("is-outside", !p.accepted);
    setLine("inside", p.inside ? "Dans le périmètre du quartier." :
      (p.accepted ? "Hors du périmètre de " + fmt(p.distance_outside_m) + " m, dans la tolérance (" + fmt(p.tolerance_m) + " m)." :
        "Hors du quartier : " + fmt(p.distance_outside_m) + " m du périmètre (tolérance " + fmt(p.tolerance_m) + " m). L’enregistrement sera refusé."));
    setLine("cut", p.nearest_cut ? "Coupure la plus proche : " + p.nearest_cut.names + " (" + p.nearest_cut.kind + "), à " + fmt(p.nearest_cut.distance_m) + " m." :
      "Aucune coupure cartographiée à proximité.");
    setLine("side", p.side_id ? "Côté n° " + p.side_id + " de la coupure." : "");
    setLine("station", p.nearest_station ? "Gare la plus proche : " + p.nearest_station.nom + " (" + p.nearest_station.ligne + "), à " + fmt(p.nearest_station.distance_m) + " m." : "");
    var near = p.nearby_experiments || [];
    setLine("nearby", near.length ? "Attention, doublon possible : " + near.map(function (e) {
      return "« " + e.title + " » à " + fmt(e.distance_m) + " m"; }).join(", ") +
      (p.nearby_count > near.length ? " et " + (p.nearby_count - near.length) + " autre(s) à moins de 150 m." : ".") :
      "Aucune autre expérimentation à moins de 150 m.");
  }

  function check(latlng) {
    var url = config.dataset.url + "?quartier=" + encodeURIComponent(slug) + "&lat=" + latlng.lat.toFixed(6) +
      "&lon=" + latlng.lng.toFixed(6) + (exclude ? "&exclure=" + exclude : "");
    fetch(url, {headers: {"Accept": "application/json"}})
      .then(function (r) { return r.json(); })
      .then(function (p) { if (p.erreur) { setLine("inside", p.erreur); info.hidden = false; } else { describe(p); } });
  }

  function place(latlng) {
    if (!marker) {
      marker = L.marker(latlng, {draggable: true, title: "Position de l’expérimentation", autoPan: true}).addTo(map);
      marker.on("dragend", function () { place(marker.getLatLng()); });
    } else {
      marker.setLatLng(latlng);
    }
    inputs.forEach(function (input) {
      input.value = (input.dataset.coord === "lat" ? latlng.lat : latlng.lng).toFixed(6);
    });
    check(latlng);
  }

  function setActive(on) {
    QMI.setTool(on ? "placement" : null, on ? function (e) { place(e.latlng); } : null);
  }

  function showActive(on) {
    active = on;
    if (toggle) {
      toggle.setAttribute("aria-pressed", on ? "true" : "false");
      toggle.textContent = on ? "Terminer le placement" : "Placer une expérimentation";
    }
    if (panel && on) { panel.hidden = false; }
  }

  document.addEventListener("qmi:tool", function (e) { showActive(e.detail === "placement"); });
  if (toggle) { toggle.addEventListener("click", function () { setActive(!active); }); }

  var lat = parseFloat(String(config.dataset.lat).replace(",", "."));
  var lon = parseFloat(String(config.dataset.lon).replace(",", "."));
  if (isFinite(lat) && isFinite(lon)) { setActive(true); place(L.latLng(lat, lon)); }
})();
