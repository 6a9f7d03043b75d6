// The SQL console: run with Ctrl/Cmd+Enter, cancel, and show rows, truncation, timing and errors.
(function () {
  "use strict";
  var form = document.getElementById("query-form");
  var sql = document.getElementById("sql");
  var runBtn = document.getElementById("run");
  var cancelBtn = document.getElementById("cancel");
  var status = document.getElementById("query-status");
  var errorBox = document.getElementById("query-error");
  var meta = document.getElementById("result-meta");
  var table = document.getElementById("results");
  var currentId = null;

  function cellText(v) {
    if (v === null || v === undefined) return "";
    if (typeof v === "object") return JSON.stringify(v);
    return String(v);
  }

  function showRows(data) {
    table.textContent = "";
    var thead = table.createTHead().insertRow();
    data.columns.forEach(function (c, i) {
      var th = document.createElement("th");
      th.textContent = c;
      th.title = data.types ? data.types[i] : "";
      thead.appendChild(th);
    });
    var body = table.createTBody();
    data.rows.forEach(function (r) {
      var tr = body.insertRow();
      r.forEach(function (v) {
        var td = tr.insertCell();
        td.textContent = cellText(v);
        if (v === null) td.className = "muted";
      });
    });
    meta.textContent = data.row_count + " row" + (data.row_count === 1 ? "" : "s") +
      (data.truncated ? " (truncated: more rows exist)" : "") + " · " + data.elapsed_ms + " ms";
  }

  function showError(data) {
    var text = data.error || "the query failed";
    if (data.line) text += "\n(line " + data.line + (data.column ? ", column " + data.column : "") + ")";
    errorBox.textContent = text;
    errorBox.hidden = false;
  }

  function run() {
    var text = sql.value;
    if (!text.trim()) return;
    currentId = "q" + Date.now() + Math.random().toString(36).slice(2, 8);
    errorBox.hidden = true;
    status.textContent = "running…";
    runBtn.disabled = true;
    cancelBtn.disabled = false;
    fetch("/api/query", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ sql: text, query_id: currentId })
    }).then(function (res) {
      return res.json().then(function (data) { return { ok: res.ok, data: data }; });
    }).then(function (r) {
      if (r.ok) { showRows(r.data); } else { showError(r.data); }
    }).catch(function (e) {
      showError({ error: String(e) });
    }).finally(function () {
      status.textContent = "";
      runBtn.disabled = false;
      cancelBtn.disabled = true;
      currentId = null;
    });
  }

  form.addEventListener("submit", function (e) { e.preventDefault(); run(); });
  sql.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); run(); }
  });
  cancelBtn.addEventListener("click", function () {
    if (!currentId) return;
    fetch("/api/query/" + encodeURIComponent(currentId) + "/cancel", { method: "POST" });
  });
  // "Open in console" links carry ?run=1: run the query right away.
  if (new URLSearchParams(location.search).get("run") === "1" && sql.value.trim()) run();

  document.querySelectorAll("button.insert").forEach(function (b) {
    b.addEventListener("click", function (e) {
      e.preventDefault();
      var t = b.dataset.insert;
      var start = sql.selectionStart, end = sql.selectionEnd;
      sql.value = sql.value.slice(0, start) + t + sql.value.slice(end);
      sql.focus();
      sql.selectionStart = sql.selectionEnd = start + t.length;
    });
  });
})();
