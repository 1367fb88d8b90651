// Keeps a "Bearbeitungsstand" section current while background work runs:
// re-fetches the page and swaps the marked sections, until nothing is pending.
// Progressive enhancement only: without JavaScript the "Jetzt aktualisieren" link does it.
(function () {
  "use strict";
  var SECTIONS = ["fortschritt", "dokumente"];

  function schedule() {
    var marker = document.querySelector("[data-refresh-seconds]");
    if (!marker) { return; }
    var seconds = parseInt(marker.getAttribute("data-refresh-seconds"), 10) || 2;
    window.setTimeout(refresh, seconds * 1000);
  }

  function refresh() {
    fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html");
        SECTIONS.forEach(function (id) {
          var current = document.getElementById(id);
          var next = fresh.getElementById(id);
          if (current && next) { current.replaceWith(document.importNode(next, true)); }
        });
        schedule();
      })
      .catch(function () { window.setTimeout(refresh, 10000); });
  }

  schedule();
}());
