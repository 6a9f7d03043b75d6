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
    table.textContent = "";
    meta.textContent = "";
    var text = data.error || "the query failed";
    if (data.line) {
      text += "\n(line " + data.line + (data.column ? ", column " + data.column : "") + ")";
      selectPosition(data.line, data.column || 1);
    }
    errorBox.textContent = text;
    errorBox.hidden = false;
  }

  // Puts the cursor where DuckDB says the error is.
  function selectPosition(line, column) {
    var lines = sql.value.split("\n");
    var offset = 0;
    for (var i = 0; i < line - 1 && i < lines.length; i++) offset += lines[i].length + 1;
    offset += Math.max(0, column - 1);
    sql.focus();
    sql.setSelectionRange(offset, Math.min(sql.value.length, offset + 1));
  }

  // Query history, kept in this browser only.
  var HISTORY_KEY = "meshbox.history";
  var historyList = document.getElementById("history");
  function loadHistory() {
    try { return JSON.parse(localStorage.getItem(HISTORY_KEY) || "[]"); } catch (e) { return []; }
  }
  function renderHistory() {
    historyList.textContent = "";
    loadHistory().forEach(function (q) {
      var li = document.createElement("li");
      li.textContent = q;
      li.tabIndex = 0;
      li.addEventListener("click", function () { sql.value = q; sql.focus(); });
      li.addEventListener("keydown", function (e) { if (e.key === "Enter") { sql.value = q; sql.focus(); } });
      historyList.appendChild(li);
    });
  }
  function remember(q) {
    var h = loadHistory().filter(function (x) { return x !== q; });
    h.unshift(q);
    try { localStorage.setItem(HISTORY_KEY, JSON.stringify(h.slice(0, 50))); } catch (e) { /* storage full or off */ }
    renderHistory();
  }
  document.getElementById("clear-history").addEventListener("click", function () {
    localStorage.removeItem(HISTORY_KEY);
    renderHistory();
  });
  renderHistory();

  function exportAs(format) {
    if (!sql.value.trim()) return;
    document.getElementById("export-sql").value = sql.value;
    document.getElementById("export-format").value = format;
    document.getElementById("export-form").submit();
  }
  document.getElementById("export-csv").addEventListener("click", function () { exportAs("csv"); });
  document.getElementById("export-json").addEventListener("click", function () { exportAs("json"); });

  function run() {
    var text = sql.value;
    if (!text.trim()) return;
    currentId = "q" + Date.now() + Math.random().toString(36).slice(2, 8);
    remember(text);
    errorBox.hidden = true;
    status.textContent = "running…";
    runBtn.disabled = true;
    cancelBtn.disabled = false;
    // A role's database is built when it first asks: the server says "preparing" (503, Retry-After) until then.
    function send() {
      return fetch("/api/query", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ sql: text, query_id: currentId })
      }).then(function (res) {
        return res.json().then(function (data) { return { ok: res.ok, data: data }; });
      }).then(function (r) {
        if (!r.ok && r.data && r.data.kind === "preparing") {
          status.textContent = "preparing this role's data…";
          return new Promise(function (resolve) { setTimeout(resolve, 1000); }).then(send);
        }
        return r;
      });
    }
    send().then(function (r) {
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
  // "Open in console" links carry ?run=1; the server marks the form to run only when the link was followed on this
  // site (a link from another site just fills the editor).
  if (form.dataset.autorun === "1" && sql.value.trim()) run();

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
