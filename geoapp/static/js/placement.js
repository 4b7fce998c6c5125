/* Placing or moving an experiment on the district map: a point, a line or an area.
 * "create": a toggle switches the map to placement mode; a click drops a draggable marker
 * and fills the form's coordinates. "move": the experiment's marker is draggable at once.
 * A line (« tracé ») or an area (« zone ») is drawn and edited with Leaflet-Geoman: one
 * shape at a time, its GeoJSON kept in the form's `shape` field (a textarea one may also
 * type or paste into), lon/lat given an anchor estimate (the server computes its own).
 * Each position or shape asks /api/placement what the geometry says; answers are shown
 * with textContent only (never as HTML). The server validates again on save. */
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
  var infoTitle = document.getElementById("placement-info-title");
  var inputs = document.querySelectorAll("input[data-coord]");
  var shapeText = document.getElementById("shape-text");
  var kindBox = document.getElementById("place-kind");
  var drawBox = document.getElementById("place-draw");
  var drawHelp = document.getElementById("place-draw-help");
  var moveForm = document.getElementById("move-form");
  var csrf = document.querySelector("input[name=csrf_token]");
  var canDraw = !!(map.pm && shapeText && kindBox);

  var GEOMAN_SHAPES = {ligne: "Line", zone: "Polygon"};
  var KINDS = {LineString: "ligne", Polygon: "zone"};
  var TITLES = {point: "Ce que dit la carte de ce point", ligne: "Ce que dit la carte de ce tracé",
                zone: "Ce que dit la carte de cette zone"};
  var STYLE = {color: "#c2185b", weight: 4, opacity: 0.9, fillColor: "#c2185b", fillOpacity: 0.2};
  var kind = "point";
  var shape = null;  // the line or area drawn or edited (a Leaflet layer), one at a time
  var asked = 0;     // the latest feedback asked for: older answers are dropped
  var home = null;   // "move": the experiment's stored position, back when "Point" is chosen

  function fmt(n) { return Number(n).toLocaleString("fr-FR", {maximumFractionDigits: 0}); }

  function setLine(field, text) {
    var li = info.querySelector('[data-field="' + field + '"]');
    li.textContent = text;
  }

  /* "Tracé de 420 m, 5 sommets." / "Zone de 1,25 ha, 6 sommets." from the answer's forme. */
  function shapeFacts(f) {
    if (!f) { return ""; }
    var vertices = fmt(f.sommets) + (f.sommets > 1 ? " sommets" : " sommet");
    if (f.type === "ligne") { return "Tracé de " + fmt(f.longueur_m) + " m, " + vertices + "."; }
    var ha = Number(f.surface_ha);
    var size = ha >= 1 ? ha.toLocaleString("fr-FR", {maximumFractionDigits: 2}) + " ha"
      : fmt(ha * 10000) + " m²";
    return "Zone de " + size + ", " + vertices + ".";
  }

  function describe(p) {
    info.hidden = false;
    infoTitle.textContent = TITLES[kind];
    info.classList.toggle("is-outside", !p.accepted);
    setLine("forme", shapeFacts(p.forme));
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

  /* A refusal (bad input): its French message alone, the other lines emptied. */
  function refused(message) {
    info.hidden = false;
    infoTitle.textContent = TITLES[kind];
    info.classList.add("is-outside");
    ["forme", "cut", "side", "station", "nearby"].forEach(function (f) { setLine(f, ""); });
    setLine("inside", message);
  }

  function answer(request) {
    var n = ++asked;
    request.then(function (r) { return r.json(); }).then(function (p) {
      if (n !== asked) { return; }
      if (p.erreur) { refused((p.errors && p.errors.shape) || p.erreur); } else { describe(p); }
    });
  }

  function check(latlng) {
    var url = config.dataset.url + "?quartier=" + encodeURIComponent(slug) + "&lat=" + latlng.lat.toFixed(6) +
      "&lon=" + latlng.lng.toFixed(6) + (exclude ? "&exclure=" + exclude : "");
    answer(fetch(url, {headers: {"Accept": "application/json"}}));
  }

  /* A line or area is too long for a query string: it is posted (JSON, CSRF header). */
  function checkShape(geometry) {
    var body = {quartier: slug, shape: geometry};
    if (exclude) { body.exclure = exclude; }
    answer(fetch(config.dataset.url, {
      method: "POST", credentials: "same-origin", body: JSON.stringify(body),
      headers: {"Accept": "application/json", "Content-Type": "application/json",
                "X-CSRF-Token": csrf ? csrf.value : ""}
    }));
  }

  function fillCoordinates(latlng) {
    inputs.forEach(function (input) {
      input.value = (input.dataset.coord === "lat" ? latlng.lat : latlng.lng).toFixed(6);
    });
  }

  function place(latlng) {
    if (!marker) {
      marker = L.marker(latlng, {draggable: true, title: "Position de l’expérimentation", autoPan: true}).addTo(map);
      marker.on("dragend", function () { place(marker.getLatLng()); });
    } else {
      marker.setLatLng(latlng);
    }
    fillCoordinates(latlng);
    check(latlng);
  }

  /* Lines and areas ------------------------------------------------------------------- */

  function editOptions() { return {allowSelfIntersection: kind !== "zone", snappable: false}; }

  function setHelp() {
    if (!drawHelp) { return; }
    drawHelp.textContent = shape ?
      "Faites glisser un sommet pour le déplacer, ou un point intermédiaire pour ajouter un sommet ; un clic droit sur un sommet le supprime. « Effacer le tracé » pour recommencer." :
      (kind === "ligne" ?
        "Cliquez sur la carte pour poser chaque sommet du tracé, puis cliquez sur le dernier sommet (ou « Terminer le tracé ») pour finir." :
        "Cliquez sur la carte pour poser chaque sommet de la zone, puis cliquez sur le premier sommet (ou « Terminer le tracé ») pour la fermer.");
  }

  /* The map's behaviour for the current kind: the draw mode, or the shape's vertices
   * editable, only while the placement tool is active. While a line or area is drawn the
   * map's own features let clicks through (class qmi-drawing): every click is a vertex. */
  function applyTool() {
    if (!canDraw) { return; }
    var drawing = active && kind !== "point";
    map.getContainer().classList.toggle("qmi-drawing", drawing);
    if (!drawing || shape) { map.pm.disableDraw(); }
    if (shape) {
      if (drawing) { shape.pm.enable(editOptions()); } else { shape.pm.disable(); }
    } else if (drawing && !map.pm.globalDrawModeEnabled()) {
      map.pm.enableDraw(GEOMAN_SHAPES[kind], editOptions());
    }
    setHelp();
  }

  /* After a change of the shape: its GeoJSON in the form (6 decimals, ~0.1 m), an anchor
   * estimate in lon/lat, the map's verdict. ``keepText``: the text was typed, leave it. */
  function shapeChanged(keepText) {
    var geometry = shape.toGeoJSON(6).geometry;
    if (!keepText) { shapeText.value = JSON.stringify(geometry); }
    fillCoordinates(shape.getCenter());
    checkShape(geometry);
  }

  function adopt(layer, keepText) {
    if (shape && shape !== layer) { map.removeLayer(shape); }
    shape = layer;
    shape.on("pm:edit", function () { shapeChanged(false); });
    applyTool();
    shapeChanged(keepText);
  }

  function dropShape() {
    if (shape) { shape.pm.disable(); map.removeLayer(shape); }
    shape = null;
  }

  function clearShape() {
    dropShape();
    shapeText.value = "";
    info.hidden = true;
    applyTool();
  }

  function showKind(k) {
    kind = k;
    kindBox.querySelectorAll("input[name=place_kind]").forEach(function (r) { r.checked = r.value === k; });
    if (drawBox) { drawBox.hidden = k === "point"; }
    if (moveForm) { moveForm.hidden = k !== "point"; }
    if (info) { infoTitle.textContent = TITLES[k]; }
  }

  /* The editor picks a kind: one place at a time, the previous one goes. */
  function chooseKind(k) {
    if (k === kind) { return; }
    map.pm.disableDraw();
    dropShape();
    shapeText.value = "";
    if (info) { info.hidden = true; }
    showKind(k);
    if (k === "point") {
      if (home) { place(home); }
    } else if (marker) {
      map.removeLayer(marker);
      marker = null;
    }
    if (!active && toggle) { setActive(true); } else { applyTool(); }
  }

  /* The textarea, typed into or pasted: a LineString or Polygon replaces the drawing. */
  function fromText() {
    var text = shapeText.value.trim();
    if (!text) { if (shape) { dropShape(); applyTool(); } return; }
    var geometry = null, latlngs = null;
    try {
      geometry = JSON.parse(text);
      if (geometry && geometry.type === "Feature") { geometry = geometry.geometry; }
      latlngs = L.GeoJSON.coordsToLatLngs(geometry.coordinates, geometry.type === "Polygon" ? 1 : 0);
    } catch (e) { latlngs = null; }
    var k = geometry && KINDS[geometry.type];
    if (!k || !latlngs || !latlngs.length) {
      refused("Coordonnées du tracé illisibles : une géométrie GeoJSON LineString ou Polygon est attendue.");
      return;
    }
    if (k !== kind) {
      if (marker) { map.removeLayer(marker); marker = null; }
      showKind(k);
    }
    map.pm.disableDraw();
    var layer = (k === "zone" ? L.polygon(latlngs, STYLE) : L.polyline(latlngs, STYLE)).addTo(map);
    adopt(layer, true);
  }

  function setupDrawing() {
    map.createPane("qmiDrawVertices").style.zIndex = 650;
    map.pm.setLang("fr");
    map.pm.setGlobalOptions({
      snappable: false, templineStyle: STYLE, hintlineStyle: {color: STYLE.color, dashArray: "5 5"},
      pathOptions: STYLE,
      panes: {vertexPane: "qmiDrawVertices", markerPane: "qmiDrawVertices", layerPane: "overlayPane"}
    });
    map.on("pm:create", function (e) { adopt(e.layer, false); });
    kindBox.addEventListener("change", function (e) {
      if (e.target.name === "place_kind") { chooseKind(e.target.value); }
    });
    document.getElementById("place-draw-clear").addEventListener("click", clearShape);
    document.getElementById("place-draw-finish").addEventListener("click", function () {
      var draw = map.pm.Draw[GEOMAN_SHAPES[kind]];
      if (draw && draw.enabled()) { draw._finishShape(); }
    });
    var typing = null;
    shapeText.addEventListener("input", function () {
      clearTimeout(typing);
      typing = setTimeout(fromText, 500);
    });
  }

  /* The tool ---------------------------------------------------------------------------- */

  function setActive(on) {
    QMI.setTool(on ? "placement" : null, on ? function (e) { if (kind === "point") { place(e.latlng); } } : null);
  }

  function showActive(on) {
    active = on;
    if (toggle) {
      toggle.setAttribute("aria-pressed", on ? "true" : "false");
      toggle.textContent = on ? "Terminer le placement" : "Placer une expérimentation";
    }
    if (panel && on) { panel.hidden = false; }
    applyTool();
  }

  document.addEventListener("qmi:tool", function (e) { showActive(e.detail === "placement"); });
  if (toggle) { toggle.addEventListener("click", function () { setActive(!active); }); }
  if (canDraw) { setupDrawing(); }

  var lat = parseFloat(String(config.dataset.lat).replace(",", "."));
  var lon = parseFloat(String(config.dataset.lon).replace(",", "."));
  if (mode === "move" && isFinite(lat) && isFinite(lon)) { home = L.latLng(lat, lon); }
  if (canDraw && shapeText.value.trim()) {
    setActive(true);
    fromText();
  } else if (isFinite(lat) && isFinite(lon)) {
    setActive(true);
    place(L.latLng(lat, lon));
  }
})();
