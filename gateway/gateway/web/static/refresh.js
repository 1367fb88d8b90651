// Keeps a page's progress current while background work runs (a contract's "Bearbeitungsstand",
// an import's progress bar): re-fetches the page and takes over the content of every element
// marked data-refresh-part, until no element asks for another round (data-refresh-seconds).
// The elements themselves stay, so a live region among them announces what changed, once.
// Progressive enhancement only: without JavaScript the "Jetzt aktualisieren" link does it.
(function () {
  "use strict";

  function schedule() {
    var marker = document.querySelector("[data-refresh-seconds]");
    if (!marker) { return; }
    var seconds = parseInt(marker.getAttribute("data-refresh-seconds"), 10) || 2;
    window.setTimeout(refresh, seconds * 1000);
  }

  function takeOver(current, next) {
    Array.prototype.slice.call(current.attributes).forEach(function (attribute) {
      if (!next.hasAttribute(attribute.name)) { current.removeAttribute(attribute.name); }
    });
    Array.prototype.slice.call(next.attributes).forEach(function (attribute) {
      current.setAttribute(attribute.name, attribute.value);
    });
    if (current.innerHTML !== next.innerHTML) {
      current.replaceChildren.apply(current, Array.prototype.map.call(next.childNodes, function (node) {
        return document.importNode(node, true);
      }));
    }
  }

  function refresh() {
    fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html");
        document.querySelectorAll("[data-refresh-part]").forEach(function (current) {
          var next = current.id && fresh.getElementById(current.id);
          if (next) { takeOver(current, next); }
        });
        schedule();
      })
      .catch(function () { window.setTimeout(refresh, 10000); });
  }

  schedule();
}());
