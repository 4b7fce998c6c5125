/* QMI Atlas map client: draws the layers the server sent as JSON data beside the folium
 * skeleton (<script type="application/json" id="qmi-map-data">), and builds every popup,
 * tooltip and label as DOM with textContent: text from data or users is never markup.
 * It navigates on click where a feature has a url, and exposes the map for the page
 * scripts and the tests. */
(function () {
  "use strict";
  var QMI = window.QMI || {};

  /* An element holding ``text`` as text (never parsed as HTML). */
  function textNode(tag, text, className) {
    var el = document.createElement(tag);
    if (className) { el.className = className; }
    el.textContent = text;
    return el;
  }

  /* Leaflet writes control labels and attributions with innerHTML: give it text escaped
   * by the browser itself. */
  function escaped(text) { return textNode("span", text).innerHTML; }

  /* A popup's DOM from its data: {title, rows: [[label, value]], note, link: {href, label}}. */
  function popupContent(data) {
    var box = textNode("div", "", "qmi-popup");
    box.appendChild(textNode("strong", data.title));
    if (data.rows && data.rows.length) {
      var dl = document.createElement("dl");
      data.rows.forEach(function (row) {
        dl.appendChild(textNode("dt", row[0]));
        dl.appendChild(textNode("dd", row[1]));
      });
      box.appendChild(dl);
    }
    if (data.note) { box.appendChild(textNode("p", data.note, "qmi-note")); }
    if (data.link) {
      var a = textNode("a", data.link.label);
      a.href = data.link.href;
      box.appendChild(a);
    }
    return box;
  }

  /* One click handler per feature: a page tool (placing a point) takes the click first;
   * otherwise the feature navigates (url) or opens its popup. Leaflet's bindPopup would
   * stop the click from reaching the map, which placement needs. */
  function bindFeature(feature, layer) {
    var p = feature.properties || {};
    if (p.tooltip) { layer.bindTooltip(textNode("span", p.tooltip), {sticky: true}); }
    if (p.label) {
      layer.bindTooltip(textNode("span", p.label), {permanent: true, direction: "center",
                                                    className: "qmi-label", interactive: false});
    }
    layer.on("click", function (e) {
      if (QMI.onMapClick) { L.DomEvent.stop(e); QMI.onMapClick(e); return; }
      if (p.url) { window.location.href = p.url; return; }
      if (p.popup) {
        L.popup({maxWidth: 320}).setLatLng(e.latlng).setContent(popupContent(p.popup))
          .openOn(layer._map);
      }
    });
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
      onEachFeature: bindFeature
    });
  }

  function readData() {
    var block = document.getElementById("qmi-map-data");
    return block ? JSON.parse(block.textContent) : {layers: []};
  }

  /* Called by the folium skeleton's script once the map exists. */
  QMI.register = function (map) {
    var data = readData();
    var overlays = {};
    map.eachLayer(function (layer) {
      if (layer instanceof L.TileLayer) { overlays[escaped("Fond OpenStreetMap")] = layer; }
    });
    QMI.overlays = {};
    data.layers.forEach(function (spec) {
      var layer = buildLayer(spec);
      if (spec.show) { layer.addTo(map); }
      overlays[escaped(spec.name)] = layer;
      QMI.overlays[spec.key] = {layer: layer, name: spec.name};
    });
    /* Collapsed (opens on hover or tap) so it never hides a district. */
    L.control.layers(null, overlays, {collapsed: true}).addTo(map);
    map.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');
    map.attributionControl.addAttribution(escaped(data.attribution || "") +
      (data.sources_url ? ' · <a href="' + escaped(data.sources_url) + '">Sources</a>' : ""));
    L.control.scale({imperial: false, position: "bottomleft"}).addTo(map);
    QMI.map = map;
    /* Clicks on the bare map go to the active tool too (feature clicks stop there). */
    map.on("click", function (e) { if (QMI.onMapClick) { QMI.onMapClick(e); } });
    document.dispatchEvent(new CustomEvent("qmi:ready", {detail: map}));
  };

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

  /* Count drawn features per "couche" (layer tag): what the browser tests check. */
  QMI.countFeatures = function () {
    var counts = {};
    QMI.map.eachLayer(function (layer) {
      var c = layer.feature && layer.feature.properties && layer.feature.properties.couche;
      if (c && (layer._path || layer._latlng)) { counts[c] = (counts[c] || 0) + 1; }
    });
    return counts;
  };

  window.QMI = QMI;
})();
