/* nnbench report: the page made explorable, with no library and nothing fetched (inlined by nnbench.report.render).
   With JavaScript off the page is unchanged: every table row, every figure and every panel stays visible.
   - Tables: a click on a column header sorts by that column (again: the other way); numbers sort as numbers
     ("93.4 ± 1.2" by 93.4, "< 0.001" just below 0.001, "3/5" by 3), text as text, empty or "—" last.
   - A filter bar (data set, initialization, regularizer, optimizer, free text) hides the table rows and the
     per-data-set blocks that do not match. A row's values come from its own data-* attributes, then from its
     table's (data-dataset="..." on the table), then from the columns whose header carries data-key="...".
   - Figures: every SVG mark with a <title> shows it at once in a tooltip; a figure whose SVG has several
     panels (<g class="panel" data-panel="...">) gets a "panel" picker that zooms the figure to one panel;
     the regularizer filter picks the panel "reg = X" of every figure that has one. */
(function () {
  "use strict";
  var KEYS = ["dataset", "init", "reg", "opt"];
  var LABELS = { dataset: "Data set", init: "Initialization", reg: "Regularizer", opt: "Optimizer" };
  var state = { text: "" };

  function sortKey(text) {
    var t = text.replace(/\u2212/g, "-").trim();
    if (t === "" || t === "\u2014" || t === "-" || t === "n/a") return null;
    var m = /^([<>\u2264\u2265]?)\s*([-+]?\d*\.?\d+(?:e[-+]?\d+)?)/i.exec(t);
    if (!m) return t.toLowerCase();
    var v = parseFloat(m[2]);
    if (m[1] === "<" || m[1] === "\u2264") v -= Math.abs(v) * 1e-9 + 1e-300;
    if (m[1] === ">" || m[1] === "\u2265") v += Math.abs(v) * 1e-9 + 1e-300;
    return v;
  }

  function compare(a, b) {
    if (a === null || b === null) return a === b ? 0 : a === null ? 1 : -1;
    var na = typeof a === "number", nb = typeof b === "number";
    if (na && nb) return a - b;
    if (na !== nb) return na ? -1 : 1;
    return a < b ? -1 : a > b ? 1 : 0;
  }

  function sortBy(table, col, th) {
    var body = table.tBodies[0];
    if (!body) return;
    var dir = th.getAttribute("aria-sort") === "ascending" ? -1 : 1;
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (c) { c.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending");
    var rows = Array.prototype.map.call(body.rows, function (r, i) {
      var cell = r.cells[col];
      var raw = cell ? (cell.getAttribute("data-sort") || cell.textContent) : "";
      return { row: r, key: sortKey(raw), i: i };
    });
    rows.sort(function (x, y) {
      if (x.key === null || y.key === null) return compare(x.key, y.key) || x.i - y.i; // empty last, both ways
      return dir * compare(x.key, y.key) || x.i - y.i;
    });
    rows.forEach(function (x) { body.appendChild(x.row); });
  }

  function makeSortable(table) {
    if (!table.tHead || !table.tHead.rows.length || table.tHead.rows.length > 1) return;
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, col) {
      th.classList.add("sortable");
      th.tabIndex = 0;
      th.title = "sort by this column (again: reverse)";
      th.addEventListener("click", function () { sortBy(table, col, th); });
      th.addEventListener("keydown", function (e) {
        if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sortBy(table, col, th); }
      });
    });
  }

  function rowValues(row, table) {
    var vals = {};
    KEYS.forEach(function (k) {
      var v = row.getAttribute("data-" + k);
      if (v === null) v = table.getAttribute("data-" + k);
      vals[k] = v;
    });
    if (table.tHead && table.tHead.rows.length) {
      Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, col) {
        var k = th.getAttribute("data-key");
        if (k && vals[k] === null && row.cells[col]) vals[k] = row.cells[col].textContent.trim();
      });
    }
    return vals;
  }

  function matches(vals) {
    return KEYS.every(function (k) { return !state[k] || vals[k] === null || vals[k] === state[k]; });
  }

  function active() {
    return !!state.text || KEYS.some(function (k) { return !!state[k]; });
  }

  function applyFilter() {
    var text = state.text.toLowerCase();
    document.querySelectorAll("main table").forEach(function (table) {
      if (!table.tBodies[0]) return;
      var shown = 0;
      Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
        var ok = matches(rowValues(row, table)) && (!text || row.textContent.toLowerCase().indexOf(text) >= 0);
        row.hidden = !ok;
        if (ok) shown += 1;
      });
      var none = shown === 0 && table.tBodies[0].rows.length > 0;
      table.classList.toggle("all-filtered", none);
      // a folded table (<details>) that the filter empties goes; one that keeps rows opens while a filter is on
      var fold = table.closest("details");
      if (fold && fold.querySelectorAll("table").length === 1) {
        if (!fold.hasAttribute("data-open")) fold.setAttribute("data-open", fold.open ? "1" : "");
        fold.hidden = none;
        fold.open = active() && !none ? true : fold.getAttribute("data-open") === "1";
      }
    });
    document.querySelectorAll("main .ds-block").forEach(function (block) {
      var vals = {};
      KEYS.forEach(function (k) { vals[k] = block.getAttribute("data-" + k); });
      block.hidden = !matches(vals);
    });
    document.querySelectorAll("select.panel-pick").forEach(function (sel) {
      var want = state.reg ? "reg = " + state.reg : "";
      var has = Array.prototype.some.call(sel.options, function (o) { return o.value === want; });
      if (has || (!state.reg && sel.getAttribute("data-by-filter"))) {
        sel.value = want;
        sel.setAttribute("data-by-filter", want ? "1" : "");
        showPanel(sel._svg, want);
      }
    });
    var n = document.querySelectorAll("main tbody tr:not([hidden])").length;
    var count = document.getElementById("explore-count");
    if (count) count.textContent = n + " table rows shown";
  }

  function collect(key) {
    var seen = [];
    document.querySelectorAll("main [data-" + key + "]").forEach(function (el) {
      var v = el.getAttribute("data-" + key);
      if (v && seen.indexOf(v) < 0) seen.push(v);
    });
    return seen;
  }

  function select(label, options, onChange, cls) {
    var wrap = document.createElement("label");
    wrap.textContent = label + " ";
    var sel = document.createElement("select");
    if (cls) sel.className = cls;
    [["", "all"]].concat(options).forEach(function (o) {
      var opt = document.createElement("option");
      opt.value = o[0];
      opt.textContent = o[1];
      sel.appendChild(opt);
    });
    sel.addEventListener("change", function () { onChange(sel.value, sel); });
    wrap.appendChild(sel);
    return wrap;
  }

  function filterBar() {
    var bar = document.createElement("div");
    bar.id = "explore";
    bar.setAttribute("role", "search");
    KEYS.forEach(function (k) {
      var values = collect(k);
      if (values.length < 2) return;
      var w = select(LABELS[k], values.map(function (v) { return [v, v]; }), function (v) {
        state[k] = v;
        applyFilter();
      });
      w.querySelector("select").id = "filter-" + k;
      bar.appendChild(w);
    });
    var box = document.createElement("input");
    box.type = "search";
    box.id = "filter-text";
    box.placeholder = "filter rows by text";
    box.addEventListener("input", function () { state.text = box.value.trim(); applyFilter(); });
    bar.appendChild(box);
    var count = document.createElement("span");
    count.id = "explore-count";
    count.className = "muted small";
    bar.appendChild(count);
    var main = document.querySelector("main");
    main.insertBefore(bar, main.firstChild);
  }

  function showPanel(svg, label) {
    if (!svg.getAttribute("data-viewbox")) {
      svg.setAttribute("data-viewbox", svg.getAttribute("viewBox"));
      svg.setAttribute("data-width", svg.getAttribute("width"));
      svg.setAttribute("data-height", svg.getAttribute("height"));
    }
    var panel = null;
    svg.querySelectorAll("g.panel").forEach(function (g) { if (g.getAttribute("data-panel") === label) panel = g; });
    if (!label || !panel) {
      svg.setAttribute("viewBox", svg.getAttribute("data-viewbox"));
      svg.setAttribute("width", svg.getAttribute("data-width"));
      svg.setAttribute("height", svg.getAttribute("data-height"));
      svg.removeAttribute("data-shown");
      return;
    }
    var b = panel.getBBox(), pad = 2;
    var box = [b.x - pad, b.y - pad, b.width + 2 * pad, b.height + 2 * pad];
    svg.setAttribute("viewBox", box.join(" "));
    svg.setAttribute("width", box[2] * 1.6 + "pt");
    svg.setAttribute("height", box[3] * 1.6 + "pt");
    svg.setAttribute("data-shown", label);
  }

  function panelPickers() {
    document.querySelectorAll("figure.fig .svg svg").forEach(function (svg) {
      var labels = [];
      svg.querySelectorAll("g.panel").forEach(function (g) {
        var l = g.getAttribute("data-panel");
        if (l && labels.indexOf(l) < 0) labels.push(l);
      });
      if (labels.length < 2) return;
      var w = select("Panel", labels.map(function (l) { return [l, l]; }), function (v, sel) {
        sel.setAttribute("data-by-filter", "");
        showPanel(svg, v);
      }, "panel-pick");
      w.className = "panel-bar";
      w.querySelector("select")._svg = svg;
      var fig = svg.closest("figure");
      fig.insertBefore(w, fig.firstChild);
    });
  }

  function tooltips() {
    var tip = document.createElement("div");
    tip.id = "tip";
    tip.hidden = true;
    document.body.appendChild(tip);
    document.addEventListener("mouseover", function (e) {
      var g = e.target.closest && e.target.closest("svg g.tip");
      if (!g) { tip.hidden = true; return; }
      var t = g.querySelector("title");
      tip.textContent = t ? t.textContent : "";
      tip.hidden = !tip.textContent;
    });
    document.addEventListener("mousemove", function (e) {
      if (tip.hidden) return;
      tip.style.left = Math.min(e.clientX + 14, window.innerWidth - tip.offsetWidth - 8) + "px";
      tip.style.top = e.clientY + 16 + "px";
    });
  }

  function init() {
    document.querySelectorAll("main table").forEach(makeSortable);
    filterBar();
    panelPickers();
    tooltips();
    applyFilter();
    document.documentElement.classList.add("explore");
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
