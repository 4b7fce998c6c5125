/* District page tools on the urban cut: the "what if" crossing (nothing stored) and,
 * for editors, adding or moving a stored crossing by clicking the map. Every answer is
 * written with textContent. Only one map tool is active at a time (QMI.setTool). */
(function () {
  "use strict";
  if (!window.QMI || !QMI.map) { return; }
  var map = QMI.map;
  var toggle = document.getElementById("whatif-toggle");
  var result = document.getElementById("whatif-result");
  var error = document.getElementById("whatif-error");
  var marker = null;

  function num(x, digits) {
    return x === null || x === undefined ? "—" :
      Number(x).toLocaleString("fr-FR", {minimumFractionDigits: digits, maximumFractionDigits: digits});
  }
  function pct(x) { return x === null || x === undefined ? "—" : num(x * 100, 0) + " %"; }
  function cell(key, text) { result.querySelector('[data-k="' + key + '"]').textContent = text; }

  function show(data) {
    error.hidden = true;
    result.hidden = false;
    cell("avant-median", num(data.avant.median, 2)); cell("apres-median", num(data.apres.median, 2));
    cell("avant-p90", num(data.avant.p90, 2)); cell("apres-p90", num(data.apres.p90, 2));
    cell("avant-share", pct(data.avant.share_over_1_5)); cell("apres-share", pct(data.apres.share_over_1_5));
    document.getElementById("whatif-summary").textContent = "médiane " + num(data.avant.median, 2) +
      " → " + num(data.apres.median, 2) + " · 90ᵉ centile " + num(data.avant.p90, 2) + " → " +
      num(data.apres.p90, 2) + " (simulation, non enregistrée)";
    if (!marker) {
      marker = L.circleMarker(data.point, {radius: 8, color: "#ef6c00", weight: 3, fillColor: "#fff", fillOpacity: 1, className: "qmi-whatif"}).addTo(map);
    } else { marker.setLatLng(data.point); }
  }

  function fail(message) {
    result.hidden = true;
    error.hidden = false;
    error.textContent = message;
  }

  function whatIf(latlng) {
    var url = toggle.dataset.url + "?lat=" + latlng.lat.toFixed(6) + "&lon=" +
      latlng.lng.toFixed(6);
    fetch(url, {headers: {"Accept": "application/json"}})
      .then(function (r) { return r.json(); })
      .then(function (data) { if (data.erreur) { fail(data.erreur); } else { show(data); } })
      .catch(function () { fail("Le calcul a échoué : réessayez."); });
  }

  function setToggle(on) {
    toggle.setAttribute("aria-pressed", on ? "true" : "false");
    toggle.textContent = on ? "Arrêter la simulation" : "Tester un franchissement";
  }

  if (toggle) {
    toggle.addEventListener("click", function () {
      var on = QMI.tool !== "whatif";
      QMI.setTool(on ? "whatif" : null, on ? function (e) { whatIf(e.latlng); } : null);
    });
    document.addEventListener("qmi:tool", function (e) { setToggle(e.detail === "whatif"); });
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
