/* QMI Atlas map helpers: bind the pre-escaped popup/tooltip strings carried by each
 * GeoJSON feature (escaping is done on the server, in one place), navigate on click
 * where a feature has a url, and expose the map for the page scripts and the tests. */
(function () {
  "use strict";
  var QMI = window.QMI || {};
  QMI.maps = QMI.maps || [];

  QMI.bindFeature = function (feature, layer) {
    var p = feature.properties || {};
    if (p.popup && !p.url) { layer.bindPopup(p.popup, {maxWidth: 320}); }
    if (p.tooltip) { layer.bindTooltip(p.tooltip, {sticky: true}); }
    if (p.url) {
      layer.on("click", function () { window.location.href = p.url; });
    }
  };

  QMI.register = function (map, attribution) {
    map.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');
    map.attributionControl.addAttribution(attribution + ' · <a href="/sources">Sources</a>');
    QMI.maps.push(map);
    QMI.map = map;
    document.dispatchEvent(new CustomEvent("qmi:map-ready", {detail: {map: map}}));
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
