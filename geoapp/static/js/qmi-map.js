/* QMI Atlas map client: draws the layers the server sent as JSON data beside the folium
 * skeleton (<script type="application/json" id="qmi-map-data">), then the experiments,
 * inline (offline files) or fetched from the data endpoint named by the map frame's
 * data-experiments attribute (pages: the skeleton is then the same for every filter and
 * cached). Every popup, tooltip and label is DOM built with textContent: text from data
 * or users is never markup. Popups of fetched experiments load their details on opening.
 * It exposes the map for the page scripts and the tests. */
(function () {
  "use strict";
  var QMI = window.QMI || {};

  /* An element holding ``text`` as text (never parsed as HTML). */
  function textNode(tag, text, className) {
    var el = document.createElement(tag);
    if (className) { el.className = className; }
    if (text !== undefined && text !== null) { el.textContent = text; }
    return el;
  }

  /* Leaflet writes control labels and attributions with innerHTML: give it text escaped
   * by the browser itself. */
  function escaped(text) { return textNode("span", text).innerHTML; }

  /* A popup's DOM from its data: {title, rows: [[label, value]], note, link: {href, label}}. */
  function popupContent(data) {
    var box = textNode("div", "", "qmi-popup");
    box.appendChild(textNode("strong", data.title));
    if (data.photo) { box.appendChild(popupPhoto(data.photo)); }
    if (data.rows && data.rows.length) {
      var dl = document.createElement("dl");
      data.rows.forEach(function (row) {
        dl.appendChild(textNode("dt", row[0]));
        dl.appendChild(textNode("dd", row[1]));
      });
      box.appendChild(dl);
    }
    if (data.note) { box.appendChild(textNode("p", data.note, "qmi-note")); }
    if (data.liens && data.liens.length) { box.appendChild(popupLinks(data.liens)); }
    if (data.link) {
      var a = textNode("a", data.link.label);
      a.href = data.link.href;
      box.appendChild(a);
    }
    return box;
  }

  /* The experiment's first photo: its thumbnail, sized before it loads (the popup keeps
   * its place), alt text from the server, every value set as a property. */
  function popupPhoto(photo) {
    var img = document.createElement("img");
    img.className = "qmi-popup-photo";
    img.alt = photo.alt;
    img.width = 280;
    img.height = Math.round(280 * photo.hauteur / photo.largeur);
    img.src = photo.vignette;
    return img;
  }

  /* Web links: text is the host and path, an href only for http(s) addresses. */
  function popupLinks(links) {
    var list = textNode("ul", "", "qmi-popup-links");
    links.forEach(function (link) {
      var a = textNode("a", link.texte);
      if (/^https?:\/\//.test(link.url)) { a.href = link.url; }
      a.rel = "noopener noreferrer nofollow";
      a.target = "_blank";
      var item = document.createElement("li");
      item.appendChild(a);
      list.appendChild(item);
    });
    return list;
  }

  function openPopup(map, latlng, content) {
    return L.popup({maxWidth: 320}).setLatLng(latlng).setContent(content).openOn(map);
  }

  /* One click handler per feature: a page tool (placing a point) takes the click first;
   * otherwise the feature navigates (url) or opens its popup. Leaflet's bindPopup would
   * stop the click from reaching the map, which placement needs. */
  function bindFeature(spec) {
    return function (feature, layer) {
      var p = feature.properties || {};
      if (p.tooltip) { layer.bindTooltip(textNode("span", p.tooltip), {sticky: true}); }
      if (p.label) {
        layer.bindTooltip(textNode("span", p.label), {
          permanent: true, interactive: false,
          direction: spec.label_below ? "bottom" : "center",
          offset: spec.label_below ? [0, 22] : [0, 0],
          className: "qmi-label " + (spec.label_class || "")
        });
      }
      layer.on("click", function (e) {
        if (QMI.onMapClick) { L.DomEvent.stop(e); QMI.onMapClick(e); return; }
        if (p.url) { window.location.href = p.url; return; }
        if (p.popup) { openPopup(layer._map, e.latlng, popupContent(p.popup)); }
      });
    };
  }

  /* A Leaflet GeoJSON layer from one layer spec of the server's data. */
  function buildLayer(spec) {
    function style(feature) {
      var props = feature.properties || {};
      var own = props.color ? {color: props.color} : {};
      var extra = spec.style_by ? (spec.styles[props[spec.style_by]] || {}) : {};
      return L.Util.extend({}, spec.style, extra, own);
    }
    return L.geoJSON(spec.features, {
      style: style,
      pointToLayer: function (feature, latlng) {
        return spec.point_radius ? L.circleMarker(latlng, {radius: spec.point_radius})
          : L.marker(latlng);
      },
      onEachFeature: bindFeature(spec)
    });
  }

  /* Experiments ------------------------------------------------------------------------ */

  var CLUSTER_RADIUS_PX = 60;  // wider than the largest bubble (40 px): they never overlap

  /* Marker options per (theme, status): filled with the theme colour, the status read in
   * the fill and outline (STATUS_STYLES); shared by every marker of the pair. */
  function markerOptions(spec, points) {
    var grey = "#455a64";
    var cache = {};
    return function (theme, status) {
      var k = theme + "/" + status;
      if (!cache[k]) {
        var colour = theme >= 0 ? points.colours[theme] : grey;
        var own = spec.styles[points.statuses[status]] || {};
        cache[k] = L.Util.extend({}, spec.style, own, {color: colour, fillColor: colour});
      }
      return cache[k];
    };
  }

  /* Details of experiment ``i``: inline offline, else from the details endpoint. */
  function showDetails(map, points, i, latlng) {
    if (points.popups) { openPopup(map, latlng, popupContent(points.popups[i])); return; }
    var popup = openPopup(map, latlng, textNode("p", "Chargement…", "qmi-note"));
    fetch(QMI.detailsUrl + points.id[i], {headers: {Accept: "application/json"}})
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (data) { popup.setContent(popupContent(data)); })
      .catch(function () {
        popup.setContent(textNode("p", "Détails indisponibles pour le moment.", "qmi-note"));
      });
  }

  /* The experiments at one spot (a cluster no zoom separates): a list to pick from. */
  function showPlace(map, points, indexes, latlng) {
    var box = textNode("div", "", "qmi-popup");
    box.appendChild(textNode("strong", indexes.length + " expérimentations à cet endroit"));
    var list = document.createElement("ul");
    indexes.forEach(function (i) {
      var item = document.createElement("li");
      var button = textNode("button", points.title[i], "linklike");
      button.type = "button";
      button.addEventListener("click", function () { showDetails(map, points, i, latlng); });
      item.appendChild(button);
      list.appendChild(item);
    });
    box.appendChild(list);
    openPopup(map, latlng, box);
  }

  var SHAPE_MIN_ZOOM = 14;  // below it a line or area is a few pixels: its anchor says enough

  /* The lines and areas of the experiments (``points.shape``, aligned with ``id``, null
   * for a point), in their marker's colour and status style (areas filled lightly so the
   * map shows through), drawn on the canvas (never in the tab order: the keyboard list
   * names each experiment once) from SHAPE_MIN_ZOOM on, only those near the view. Their
   * anchors stay in the clusters, so every count is one per experiment. ``open(i, latlng)``
   * opens experiment ``i``'s popup, as a click on its marker does. */
  function shapeLayer(map, points, options, open) {
    var shapes = points.shape || [];
    var found = [];  // [index, latlngs, bounds] of each line or area
    shapes.forEach(function (g, i) {
      if (!g) { return; }
      var latlngs = L.GeoJSON.coordsToLatLngs(g.coordinates, g.type === "Polygon" ? 1 : 0);
      found.push([i, latlngs, L.latLngBounds(g.type === "Polygon" ? latlngs[0] : latlngs)]);
    });
    var drawn = {};
    var group = L.featureGroup();
    var tip = L.tooltip({sticky: true, direction: "top"});

    function build(entry) {
      var i = entry[0], base = options(points.theme[i], points.status[i]);
      var layer = shapes[i].type === "Polygon" ?
        L.polygon(entry[1], L.Util.extend({}, base, {fillOpacity: base.fillOpacity * 0.4})) :
        L.polyline(entry[1], L.Util.extend({}, base, {weight: base.weight + 2, opacity: 0.9}));
      layer.feature = {properties: {couche: "experimentation-trace", id: points.id[i], index: i,
                                    title: points.title[i]}};
      return layer;
    }
    group.on("click", function (e) {
      if (QMI.onMapClick) { QMI.onMapClick(e); return; }
      open(e.layer.feature.properties.index, e.latlng);
    });
    group.on("mouseover", function (e) {
      var i = e.layer.feature.properties.index;
      tip.setLatLng(e.latlng).setContent(textNode("span", points.title[i] + " — " + points.statuses[points.status[i]]));
      map.openTooltip(tip);
    });
    group.on("mouseout", function () { map.closeTooltip(tip); });
    /* Draw what the view (and a margin) holds at this zoom, drop the rest. */
    group.update = function () {
      var b = map.getZoom() >= SHAPE_MIN_ZOOM ? map.getBounds().pad(0.25) : null;
      found.forEach(function (entry) {
        var i = entry[0], show = !!b && b.intersects(entry[2]);
        if (show && !drawn[i]) { drawn[i] = build(entry); group.addLayer(drawn[i]); }
        if (!show && drawn[i]) { group.removeLayer(drawn[i]); delete drawn[i]; }
      });
    };
    return group;
  }

  /* A cluster's bubble: its count as text, sized by it. */
  function clusterIcon(count) {
    var size = count < 10 ? 26 : count < 100 ? 30 : count < 1000 ? 36 : 40;
    var el = textNode("span", count >= 10000 ? Math.round(count / 1000) + " k" : String(count));
    return L.divIcon({html: el, className: "qmi-cluster", iconSize: [size, size]});
  }

  /* The experiments' layer: clustered in the browser by Supercluster (a k-d tree built
   * once, ~0.5 s for 100 000 points), and only what the view shows is drawn, on the map's
   * canvas: a few hundred marks whatever the registry's size. */
  function experimentLayer(map, spec, points) {
    var n = points.id.length;
    var features = new Array(n);
    for (var i = 0; i < n; i++) {
      features[i] = {type: "Feature", properties: {i: i},
                     geometry: {type: "Point", coordinates: [points.lon[i], points.lat[i]]}};
    }
    var index = new Supercluster({radius: CLUSTER_RADIUS_PX, maxZoom: map.getMaxZoom()});
    index.load(features);
    var options = markerOptions(spec, points);
    var markers = {};
    var group = L.featureGroup();
    var tip = L.tooltip({direction: "top", offset: [0, -8]});
    var shapes = shapeLayer(map, points, options, function (i, latlng) {
      showDetails(map, points, i, latlng);
    });

    function marker(i) {
      if (!markers[i]) {
        var m = L.circleMarker([points.lat[i], points.lon[i]], options(points.theme[i], points.status[i]));
        m.feature = {properties: {couche: "experimentation", id: points.id[i], index: i,
                                  title: points.title[i]}};
        markers[i] = m;
      }
      return markers[i];
    }
    function cluster(f) {
      var ll = [f.geometry.coordinates[1], f.geometry.coordinates[0]];
      var m = L.marker(ll, {icon: clusterIcon(f.properties.point_count), keyboard: false,
                            title: f.properties.point_count + " expérimentations"});
      m.clusterId = f.properties.cluster_id;
      return m;
    }
    function redraw() {
      if (!map.hasLayer(group)) { return; }
      var b = map.getBounds().pad(0.25);
      var found = index.getClusters([b.getWest(), b.getSouth(), b.getEast(), b.getNorth()],
                                    Math.round(map.getZoom()));
      shapes.update();  // first: the markers, drawn again after them, stay on top
      group.clearLayers();
      found.forEach(function (f) {
        group.addLayer(f.properties.cluster ? cluster(f) : marker(f.properties.i));
      });
    }
    group.on("mouseover", function (e) {
      if (!e.layer.feature) { return; }
      var i = e.layer.feature.properties.index;
      tip.setLatLng(e.layer.getLatLng())
        .setContent(textNode("span", points.title[i] + " — " + points.statuses[points.status[i]]));
      map.openTooltip(tip);
    });
    group.on("mouseout", function () { map.closeTooltip(tip); });
    group.on("click", function (e) {
      if (QMI.onMapClick) { QMI.onMapClick(e); return; }
      var latlng = e.layer.getLatLng();
      if (e.layer.feature) { showDetails(map, points, e.layer.feature.properties.index, latlng); return; }
      var zoom = index.getClusterExpansionZoom(e.layer.clusterId);
      if (zoom <= map.getMaxZoom()) { map.setView(latlng, zoom); return; }
      var leaves = index.getLeaves(e.layer.clusterId, Infinity);
      showPlace(map, points, leaves.map(function (f) { return f.properties.i; }), latlng);
    });
    group.on("add", redraw);
    map.on("moveend", redraw);
    QMI.experimentMarker = function (id) {
      var i = points.id.indexOf(id);
      return i < 0 ? null : marker(i);
    };
    /* Centre the map on experiment ``id`` at the first zoom (17 or deeper) where it is
     * drawn alone, not inside a bubble; its marker, or null. */
    QMI.revealExperiment = function (id) {
      var i = points.id.indexOf(id);
      if (i < 0) { return null; }
      var lon = points.lon[i], lat = points.lat[i], d = 1e-6;
      var zoom = Math.max(Math.round(map.getZoom()), 17);
      while (zoom < map.getMaxZoom() && !index.getClusters([lon - d, lat - d, lon + d, lat + d], zoom)
        .some(function (f) { return !f.properties.cluster && f.properties.i === i; })) { zoom += 1; }
      map.setView([lat, lon], zoom, {animate: false});
      return marker(i);
    };
    QMI.experimentTotal = n;
    QMI.experimentShape = function (id) {  // the drawn line or area of ``id``, or null
      var found = null;
      shapes.eachLayer(function (l) { if (l.feature.properties.id === id) { found = l; } });
      return found;
    };
    /* Every experiment as a feature-like item (properties, position), drawn or not:
     * the keyboard list of the map's features reads them (qmi-access.js). */
    QMI.experimentFeatures = function () {
      return points.id.map(function (id, i) {
        return {feature: {properties: {couche: "experimentation", id: id, title: points.title[i]}},
                getLatLng: function () { return L.latLng(points.lat[i], points.lon[i]); }};
      });
    };
    return L.layerGroup([shapes, group]);
  }

  function loaded(n) {
    QMI.experimentCount = n;
    QMI.drawnAt = performance.now();  // ms since navigation began: what the benchmark reads
    QMI.loaded = true;
    document.dispatchEvent(new CustomEvent("qmi:data", {detail: {experiments: n}}));
  }

  /* Ask for the experiments at once, before the other layers are built: the request
   * runs while they are (the page also preloads it from its head). */
  function requestExperiments(spec) {
    var frame = document.getElementById("qmi-map-frame");
    var url = frame && frame.dataset.experiments;
    QMI.detailsUrl = frame ? frame.dataset.details : null;
    if (!spec || spec.points || !url) { return null; }
    return fetch(url, {headers: {Accept: "application/json"}})
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); });
  }

  /* Draw the experiments into ``holder`` (a layer group already in the layer control). */
  function drawExperiments(map, spec, holder, request) {
    function draw(points) {
      holder.addLayer(experimentLayer(map, spec, points));
      loaded(points.id.length);
    }
    if (spec.points) { draw(spec.points); return; }
    if (!request) { loaded(0); return; }
    request.then(draw).catch(function (error) {
      if (window.console) { console.error("qmi-map:", error); }
      var note = document.getElementById("qmi-map-status");
      if (note) { note.hidden = false; note.textContent = "Les expérimentations n’ont pas pu être chargées."; }
      loaded(0);
    });
  }

  /* Tiles, labels, attribution ---------------------------------------------------------- */

  /* When no tile loads (offline, blocked), the tile layer goes, and its OpenStreetMap
   * credit with it: the map's own labels then name what matters. */
  function dropDeadTiles(map, tiles, control) {
    var ok = 0, failed = 0;
    tiles.on("tileload", function () { ok += 1; });
    tiles.on("tileerror", function () {
      failed += 1;
      if (!ok && failed >= 4 && map.hasLayer(tiles)) {
        map.removeLayer(tiles);
        control.removeLayer(tiles);
        map.getContainer().classList.add("qmi-no-tiles");
      }
    });
  }

  /* Layers with a min_zoom show only from that zoom on (names that would crowd). */
  function followZoom(map, zoomed) {
    function update() {
      var z = map.getZoom();
      zoomed.forEach(function (entry) {
        if (z >= entry.minZoom) { map.addLayer(entry.layer); } else { map.removeLayer(entry.layer); }
      });
    }
    map.on("zoomend", update);
    update();
  }

  /* The attribution wraps in the width the scale bar leaves, so it never covers it. */
  function keepBeside(map, attribution, scale) {
    function fit() {
      var free = map.getSize().x - scale.getContainer().offsetWidth - 40;
      attribution.getContainer().style.maxWidth = Math.max(free, 120) + "px";
    }
    map.on("resize", fit);
    fit();
  }

  function readData() {
    var block = document.getElementById("qmi-map-data");
    return block ? JSON.parse(block.textContent) : {layers: []};
  }

  /* Called by the folium skeleton's script once the map exists. */
  QMI.register = function (map) {
    var data = readData();
    var experimentSpec = data.layers.filter(function (l) { return l.kind === "experiments"; })[0];
    var request = requestExperiments(experimentSpec);
    /* Clustering needs a deepest zoom, which tiles would give: the map has one of its own. */
    map.setMaxZoom(data.max_zoom || 19);
    var overlays = {};
    var tiles = null;
    var zoomed = [];
    var experiments = null;
    map.eachLayer(function (layer) {
      if (layer instanceof L.TileLayer) { tiles = layer; overlays[escaped("Fond OpenStreetMap")] = layer; }
    });
    QMI.overlays = {};
    QMI.loaded = false;
    data.layers.forEach(function (spec) {
      var layer;
      if (spec.kind === "experiments") {
        layer = L.layerGroup();
        experiments = {spec: spec, layer: layer};
      } else {
        layer = buildLayer(spec);
      }
      QMI.overlays[spec.key] = {layer: layer, name: spec.name};
      if (spec.min_zoom) { zoomed.push({layer: layer, minZoom: spec.min_zoom}); return; }
      if (spec.show) { layer.addTo(map); }
      overlays[escaped(spec.name)] = layer;
    });
    /* Collapsed (opens on hover or tap) so it never hides a district. */
    var control = L.control.layers(null, overlays, {collapsed: true}).addTo(map);
    if (tiles) { dropDeadTiles(map, tiles, control); }
    followZoom(map, zoomed);
    map.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');
    map.attributionControl.addAttribution(escaped(data.attribution || "") +
      (data.sources_url ? ' · <a href="' + escaped(data.sources_url) + '">Sources</a>' : ""));
    var scale = L.control.scale({imperial: false, position: "bottomleft"}).addTo(map);
    keepBeside(map, map.attributionControl, scale);
    QMI.map = map;
    /* Clicks on the bare map go to the active tool too (feature clicks stop there). */
    map.on("click", function (e) { if (QMI.onMapClick) { QMI.onMapClick(e); } });
    document.dispatchEvent(new CustomEvent("qmi:ready", {detail: map}));
    if (experiments) { drawExperiments(map, experiments.spec, experiments.layer, request); } else { loaded(0); }
  };

  /* The page scripts build their text the same way (never markup). */
  QMI.textNode = textNode;

  /* Show or hide the overlay ``key`` (as the layer control would). */
  QMI.showLayer = function (key, on) {
    var entry = QMI.overlays[key];
    if (!entry) { return; }
    if (on) { entry.layer.addTo(QMI.map); } else { QMI.map.removeLayer(entry.layer); }
  };

  /* One map tool at a time (placing an experiment, a what-if crossing…): the active
   * tool receives map clicks; others hear "qmi:tool" and switch themselves off. */
  QMI.setTool = function (name, handler) {
    QMI.tool = name || null;
    QMI.onMapClick = name ? handler : null;
    QMI.map.getContainer().classList.toggle("placing", !!name);
    document.dispatchEvent(new CustomEvent("qmi:tool", {detail: QMI.tool}));
  };

  /* Count drawn features per "couche" (layer tag): what the browser tests check.
   * Experiments count once each, clustered or not, when their layer is shown.
 * QMI.experimentMarker(id) gives an experiment's marker (search and tests use it). */
  QMI.countFeatures = function () {
    var counts = {};
    QMI.map.eachLayer(function (layer) {
      var c = layer.feature && layer.feature.properties && layer.feature.properties.couche;
      var experiment = c === "experimentation" || c === "experimentation-trace";  // counted below
      if (c && !experiment && (layer instanceof L.Path || layer instanceof L.Marker)) {
        counts[c] = (counts[c] || 0) + 1;
      }
    });
    var group = QMI.overlays.experimentations;
    if (group && QMI.map.hasLayer(group.layer) && QMI.experimentTotal) {
      counts.experimentation = QMI.experimentTotal;
    }
    return counts;
  };

  window.QMI = QMI;
})();
