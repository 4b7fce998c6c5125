/* QMI Atlas permalinks: the map's view lives in the address, so reloading or sending the
 * link shows the same map. Centre, zoom and visible layers go in the hash
 * (#carte=lat,lon,zoom&couches=key,key), which the server never sees (its caches are
 * untouched); the filters are already the query string (quartier, theme, statut).
 * The Partager panel gives the link and an <iframe> snippet of the embed view; copying
 * uses the clipboard, or selects the read-only field for Ctrl+C where it cannot. */
(function () {
  "use strict";
  var DIGITS = 5;  // about 1 m of latitude

  function readHash() {
    var state = {};
    window.location.hash.replace(/^#/, "").split("&").forEach(function (part) {
      var eq = part.indexOf("=");
      if (eq > 0) { state[part.slice(0, eq)] = decodeURIComponent(part.slice(eq + 1)); }
    });
    return state;
  }

  function visibleLayers() {
    var keys = [];
    Object.keys(QMI.overlays || {}).forEach(function (key) {
      if (QMI.map.hasLayer(QMI.overlays[key].layer)) { keys.push(key); }
    });
    return keys;
  }

  function hashOf(map) {
    var c = map.getCenter();
    return "#carte=" + c.lat.toFixed(DIGITS) + "," + c.lng.toFixed(DIGITS) + "," +
      Number(map.getZoom().toFixed(2)) + "&couches=" + visibleLayers().join(",");
  }

  /* The view a link asks for, if any. Layers wait for the experiments to be drawn
   * (qmi:data) when they are still loading: a layer hidden before or while its markers
   * go in would never finish drawing them. */
  function applyView(map, state) {
    var view = (state.carte || "").split(",").map(Number);
    if (view.length === 3 && view.every(isFinite)) {
      map.setView([view[0], view[1]], view[2], {animate: false});
    }
    if (QMI.loaded === false) {  // after the drawing code that announced the data returns
      document.addEventListener("qmi:data", function () {
        window.setTimeout(function () { applyLayers(state); }, 0);
      }, {once: true});
    } else {
      applyLayers(state);
    }
  }

  function applyLayers(state) {
    if (state.couches === undefined) { return; }
    var wanted = state.couches ? state.couches.split(",") : [];
    Object.keys(QMI.overlays || {}).forEach(function (key) {
      QMI.showLayer(key, wanted.indexOf(key) >= 0);
    });
  }

  /* The link of the view on screen (even before the address caught up with it). */
  function shareLinks(panel) {
    var here = new URL(window.location.href);
    here.hash = hashOf(QMI.map);
    var embed = new URL(panel.dataset.embedUrl, window.location.href);
    embed.search = here.search;
    embed.hash = here.hash;
    document.getElementById("qmi-share-link").value = here.href;
    document.getElementById("qmi-share-embed").value = '<iframe src="' + embed.href +
      '" title="Carte QMI Atlas" width="100%" height="480" style="border:0" loading="lazy"></iframe>';
  }

  function copy(field, status) {
    var fallback = function () {
      field.focus();
      field.select();
      status.textContent = "Le texte est sélectionné : copiez-le avec Ctrl+C (ou ⌘+C).";
    };
    if (!navigator.clipboard || !window.isSecureContext) { fallback(); return; }
    navigator.clipboard.writeText(field.value).then(function () {
      status.textContent = "Copié dans le presse-papiers.";
    }, fallback);
  }

  /* Links to the same map elsewhere (the embed's "Ouvrir dans QMI Atlas") keep the view. */
  function keepView(map) {
    document.querySelectorAll("a[data-keeps-view]").forEach(function (a) {
      var target = new URL(a.href);
      target.search = window.location.search;
      target.hash = hashOf(map);
      a.href = target.href;
    });
  }

  function setUpPanel(map) {
    var panel = document.getElementById("qmi-share");
    if (!panel) { return; }
    var status = document.getElementById("qmi-share-status");
    panel.addEventListener("toggle", function () { if (panel.open) { shareLinks(panel); } });
    map.on("moveend overlayadd overlayremove", function () { if (panel.open) { shareLinks(panel); } });
    panel.querySelectorAll("[data-copies]").forEach(function (button) {
      button.addEventListener("click", function () {
        shareLinks(panel);
        copy(document.getElementById(button.dataset.copies), status);
      });
    });
    panel.addEventListener("keydown", function (e) {
      if (e.key === "Escape" && panel.open) { panel.open = false; panel.querySelector("summary").focus(); }
    });
  }

  function setUp(map) {
    applyView(map, readHash());
    /* Written when the view changes; an address naming a place of the page (#coupures)
     * keeps it until the map itself is used. */
    var anchored = /^#(?!carte=)./.test(window.location.hash);
    var used = function () { anchored = false; };
    /* (Its controls are inside its container; "overlayadd" also fires for layers a
     * script adds, so it says nothing of a person.) */
    ["pointerdown", "wheel", "keydown", "touchstart"].forEach(function (type) {
      map.getContainer().addEventListener(type, used, {passive: true});
    });
    var remember = function () {
      keepView(map);
      if (!anchored) { window.history.replaceState(window.history.state, "", hashOf(map)); }
    };
    map.on("moveend zoomend overlayadd overlayremove", remember);
    keepView(map);
    window.addEventListener("hashchange", function () { applyView(map, readHash()); });
    /* Filtering reloads the page: the view comes along (a GET form keeps the fragment
     * of its action). */
    var filters = document.getElementById("filters");
    if (filters) {
      filters.addEventListener("submit", function () {
        filters.action = window.location.pathname + hashOf(map);
      });
    }
    setUpPanel(map);
  }

  window.QMI = window.QMI || {};
  QMI.share = {hashOf: hashOf, readHash: readHash};
  if (window.QMI.map) { setUp(QMI.map); }
  else { document.addEventListener("qmi:ready", function (e) { setUp(e.detail); }); }
})();
