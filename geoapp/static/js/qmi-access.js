/* QMI Atlas accessibility (RGAA 4.1), loaded by every page:
 * - wide tables scroll inside themselves and can then take the keyboard focus;
 * - on a map page, the map is a named region, Leaflet's controls speak French, the
 *   drawn shapes stay out of the tab order, and a list of the same features (links to
 *   their pages, or buttons that centre the map on them) follows the map.
 * Everything is built with textContent: names from data are never markup. */
(function () {
  "use strict";

  /* Layers listed for the keyboard, in this order, and how many items at most a layer
   * lists (beyond that, the registry page lists them). */
  var LISTED = ["quartiers", "gares", "experimentations", "franchissements"];
  var MAX_ITEMS = 150;
  var CONTROL_LABELS = [
    [".leaflet-control-zoom-in", "Zoom avant"],
    [".leaflet-control-zoom-out", "Zoom arrière"],
    [".leaflet-control-layers-toggle", "Couches de la carte"],
    [".leaflet-popup-close-button", "Fermer la fenêtre"]
  ];

  function el(tag, text, className) {
    var node = document.createElement(tag);
    if (text) { node.textContent = text; }
    if (className) { node.className = className; }
    return node;
  }

  /* A table wider than the screen scrolls in its box (CSS); a box that scrolls must take
   * the focus, so keyboard users can scroll it. */
  function scrollableTables() {
    document.querySelectorAll("table.table").forEach(function (table) {
      if (table.scrollWidth > table.clientWidth + 1) {
        table.tabIndex = 0;
      } else if (table.getAttribute("tabindex") === "0") {
        table.removeAttribute("tabindex");
      }
    });
  }

  function labelControls(map) {
    var box = map.getContainer();
    CONTROL_LABELS.forEach(function (pair) {
      box.querySelectorAll(pair[0]).forEach(function (control) {
        control.title = pair[1];
        control.setAttribute("aria-label", pair[1]);
      });
    });
    box.querySelectorAll(".leaflet-control-zoom a span, .leaflet-popup-close-button span")
      .forEach(function (glyph) { glyph.setAttribute("aria-hidden", "true"); });
    var attribution = box.querySelector(".leaflet-control-attribution");
    if (attribution) {
      attribution.setAttribute("role", "group");
      attribution.setAttribute("aria-label", "Sources de la carte");
    }
    box.querySelectorAll(".leaflet-control-layers-list input").forEach(function (input) {
      var label = input.closest("label");
      if (label && !input.getAttribute("aria-label")) {
        input.setAttribute("aria-label", label.textContent.trim());
      }
    });
  }

  /* The map is one named region (the page may already have named its frame); the
   * focusable Leaflet container inside says which keys move it. */
  function nameRegion(map) {
    var box = map.getContainer();
    var hint = "Carte : flèches pour se déplacer, + et − pour zoomer. " +
      "La liste des éléments de la carte suit.";
    var region = box.parentNode.closest("[role=region]");
    if (!region) {
      box.setAttribute("role", "region");
      box.setAttribute("aria-label", "Carte interactive. " + hint);
      return;
    }
    box.setAttribute("role", "group");
    box.setAttribute("aria-label", hint);
  }

  /* Shapes and markers are drawn for the eye and the pointer; the keyboard gets the list. */
  function untab(layer) {
    [layer._icon, layer._shadow, layer._path].forEach(function (node) {
      if (node) {
        node.setAttribute("tabindex", "-1");
        node.setAttribute("aria-hidden", "true");
        node.removeAttribute("role");
      }
    });
  }

  function featureName(p) {
    var popup = p.popup || {};
    var name = p.title || p.nom || p.name || popup.title || p.label || p.tooltip;
    if (name) { return name; }
    return p.couche === "experimentation" && p.id !== undefined ?
      "Expérimentation n° " + p.id : "Élément sans nom";
  }

  function featureHref(p, config) {
    if (p.url) { return p.url; }
    if (p.popup && p.popup.link) { return p.popup.link.href; }
    if (p.couche === "experimentation" && p.id !== undefined && config.experimentsUrl) {
      return config.experimentsUrl + "/" + encodeURIComponent(p.id);
    }
    return null;
  }

  /* Centre the map on a feature and say so (a polite live region). */
  function showOnMap(map, layer, name, status) {
    if (layer.getLatLng) { map.setView(layer.getLatLng(), Math.max(map.getZoom(), 16)); }
    else if (layer.getBounds) { map.fitBounds(layer.getBounds(), {maxZoom: 17}); }
    status.textContent = "Carte centrée sur : " + name;
  }

  function featureItem(map, layer, config, status) {
    var p = layer.feature.properties || {};
    var name = featureName(p);
    var href = featureHref(p, config);
    var li = el("li");
    if (href) {
      var a = el("a", name);
      a.href = href;
      li.appendChild(a);
    } else {
      var button = el("button", name, "linklike");
      button.type = "button";
      button.title = "Centrer la carte sur cet élément";
      button.addEventListener("click", function () { showOnMap(map, layer, name, status); });
      li.appendChild(button);
    }
    return li;
  }

  function layerSection(map, key, entry, config, status) {
    var items = [];
    if (key === "experimentations" && QMI.experimentFeatures) {
      items = QMI.experimentFeatures();  // clustered: most are not drawn one by one
    } else {
      entry.layer.eachLayer(function (l) { if (l.feature) { items.push(l); } });
    }
    if (!items.length) { return null; }
    var section = el("section");
    section.appendChild(el("h3", entry.name + " (" + items.length + ")"));
    if (items.length > MAX_ITEMS && config.registryUrl) {
      var more = el("a", "Trop d’éléments pour une liste : voir le registre");
      more.href = config.registryUrl;
      section.appendChild(more);
      return section;
    }
    var names = items.map(function (l) { return featureName(l.feature.properties || {}); });
    var order = items.map(function (_, i) { return i; });
    order.sort(function (a, b) { return names[a].localeCompare(names[b], "fr"); });
    var ul = el("ul");
    order.forEach(function (i) { ul.appendChild(featureItem(map, items[i], config, status)); });
    section.appendChild(ul);
    return section;
  }

  /* The list of what the map shows, right after the map (rebuilt when data arrives). */
  function featureList(map) {
    var frame = map.getContainer().closest(".map-frame") || map.getContainer();
    var config = (document.getElementById("qmi-map-tools") || frame).dataset;
    var box = document.getElementById("qmi-map-list");
    if (!box) {
      box = el("details", "", "map-list");
      box.id = "qmi-map-list";
      box.appendChild(el("summary", "Liste des éléments de la carte (accessible au clavier)"));
      box.appendChild(el("div"));
      var status = el("p", "", "visually-hidden");
      status.setAttribute("aria-live", "polite");
      box.appendChild(status);
      frame.parentNode.insertBefore(box, frame.nextSibling);
    }
    var body = box.children[1];
    var live = box.children[2];
    body.replaceChildren();
    LISTED.forEach(function (key) {
      var entry = (window.QMI.overlays || {})[key];
      var section = entry && layerSection(map, key, entry, config, live);
      if (section) { body.appendChild(section); }
    });
  }

  function setUp(map) {
    nameRegion(map);
    labelControls(map);
    map.eachLayer(untab);
    map.on("layeradd", function (e) { untab(e.layer); });
    map.on("popupopen", function () { labelControls(map); });
    map.on("overlayadd overlayremove", function () { labelControls(map); });
    featureList(map);
    document.addEventListener("qmi:data", function () { featureList(map); });
  }

  function start() {
    scrollableTables();
    window.addEventListener("resize", scrollableTables);
    if (window.QMI && window.QMI.map) { setUp(window.QMI.map); }
    else { document.addEventListener("qmi:ready", function (e) { setUp(e.detail); }); }
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); }
  else { start(); }
})();
