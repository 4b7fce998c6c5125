/* QMI Atlas map helpers: bind the pre-escaped popup/tooltip strings carried by each
 * GeoJSON feature (escaping is done on the server, in one place), navigate on click
 * where a feature has a url, and expose the map for the page scripts and the tests. */
(function () {
  "use strict";
  var QMI = window.QMI || {};
  QMI.maps = QMI.maps || [];

  /* One click handler per feature: a page tool (placing a point) takes the click first;
   * otherwise the feature navigates (url) or opens its popup. Leaflet's bindPopup would
   * stop the click from reaching the map, which placement needs. */
  QMI.bindFeature = function (feature, layer) {
    var p = feature.properties || {};
    if (p.tooltip) { layer.bindTooltip(p.tooltip, {sticky: true}); }
    if (p.label) {
      layer.bindTooltip(p.label, {permanent: true, direction: "center", className: "qmi-label",
                                  interactive: false});
    }
    layer.on("click", function (e) {
      if (QMI.onMapClick) { L.DomEvent.stop(e); QMI.onMapClick(e); return; }
      if (p.url) { window.location.href = p.url; return; }
      if (p.popup) {
        L.popup({maxWidth: 320}).setLatLng(e.latlng).setContent(p.popup).openOn(layer._map);
      }
    });
  };

  QMI.register = function (map, attribution) {
    map.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');
    map.attributionControl.addAttribution(attribution + ' · <a href="/sources">Sources</a>');
    L.control.scale({imperial: false, position: "bottomleft"}).addTo(map);
    QMI.maps.push(map);
    QMI.map = map;
    /* Clicks on the bare map go to the active tool too (feature clicks stop there). */
    map.on("click", function (e) { if (QMI.onMapClick) { QMI.onMapClick(e); } });
    document.dispatchEvent(new CustomEvent("qmi:map-ready", {detail: {map: map}}));
  };

  /* One map tool at a time (placing an experiment, a what-if crossing…): the active
   * tool receives map clicks; others hear "qmi:tool" and switch themselves off. */
  QMI.setTool = function (name, handler) {
    QMI.tool = name || null;
    QMI.onMapClick = name ? handler : null;
    QMI.map.getContainer().classList.toggle("placing", !!name);
    document.dispatchEvent(new CustomEvent("qmi:tool", {detail: QMI.tool}));
  };

  /* Count drawn features per "couche" (layer tag): used by the pages and the tests. */
  QMI.countFeatures = function (map) {
    var counts = {};
    (map || QMI.map).eachLayer(function (layer) {
      var c = layer.feature && layer.feature.properties && layer.feature.properties.couche;
      if (c && (layer._path || layer._latlng)) { counts[c] = (counts[c] || 0) + 1; }
    });
    return counts;
  };

  window.QMI = QMI;
})();
