// Live updates: a new snapshot refreshes the page (or shows a banner on the console so a typed query is kept);
// a failed rebuild shows its error over the page until the next good snapshot.
(function () {
  "use strict";
  if (!window.EventSource) return;
  var shown = Number(document.body.dataset.generation || 0);
  var onConsole = document.body.dataset.page === "sql";
  var overlay = document.getElementById("rebuild-error");
  var overlayText = document.getElementById("rebuild-error-text");
  var banner = document.getElementById("new-snapshot");
  var reloadNow = document.getElementById("reload-now");
  if (reloadNow) reloadNow.addEventListener("click", function () { location.reload(); });
  var source = new EventSource("/api/events");
  source.addEventListener("snapshot", function (e) {
    var data = JSON.parse(e.data);
    if (data.generation > shown) {
      if (overlay) overlay.hidden = true;
      if (onConsole) { if (banner) banner.hidden = false; } else { location.reload(); }
    }
  });
  source.addEventListener("error", function (e) {
    if (!e.data) return; // connection errors also arrive as "error"
    var data = JSON.parse(e.data);
    if (overlay && overlayText) { overlayText.textContent = data.message; overlay.hidden = false; }
  });
})();

// The role switcher applies as soon as another role is picked.
(function () {
  const select = document.getElementById('role-select');
  if (select && select.form) {
    select.addEventListener('change', () => select.form.submit());
  }
})();
