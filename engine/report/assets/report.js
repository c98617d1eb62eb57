// reconform HTML report: sortable and filterable tables, the relationship
// graph (cytoscape.js) and the timeline. Everything the page shows comes
// from the document itself; nothing is fetched. Record values are chosen by
// the target, so they only ever reach the page as text (textContent).
(function () {
  "use strict";

  var data = JSON.parse(document.getElementById("report-data").textContent);
  var DAY = 86400000;
  var typeColour = { A: "#2563eb", AAAA: "#7c3aed", CNAME: "#0d9488", MX: "#d97706", NS: "#16a34a", TXT: "#c026d3", SPF: "#c026d3", PTR: "#475569", SOA: "#64748b", CAA: "#be123c", SRV: "#0891b2" };
  function colourOf(t) { return typeColour[t] || "#64748b"; }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }
  function parseTime(s) { return s ? Date.parse(s) : NaN; }
  function isoDay(ms) { return new Date(ms).toISOString().slice(0, 10); }

  // ---- The node filter: a graph click shows only the rows about a node.

  var active = "";
  var listeners = [];
  function onFilter(f) { listeners.push(f); }
  function setFilter(key) {
    active = key || "";
    var bar = document.getElementById("filterbar");
    bar.hidden = !active;
    document.getElementById("filterkey").textContent = active;
    listeners.forEach(function (f) { f(active); });
  }
  document.getElementById("clearfilter").addEventListener("click", function () { setFilter(""); });

  // ---- Tables: click a header to sort, type to filter.

  function cellValue(row, i) {
    var c = row.cells[i];
    return c ? (c.getAttribute("data-sort") || c.textContent.trim()) : "";
  }
  function setupTable(table) {
    var body = table.tBodies[0];
    if (!body) return;
    var rows = Array.prototype.slice.call(body.rows);
    var heads = table.tHead ? table.tHead.rows[0].cells : [];
    var bar = el("div", "tablebar");
    if (table.id) bar.setAttribute("data-for", table.id);
    var input = el("input");
    input.type = "search";
    input.placeholder = "Filter " + rows.length + (rows.length === 1 ? " row" : " rows");
    input.setAttribute("aria-label", "Filter the table");
    var count = el("span", "count");
    bar.appendChild(input);
    bar.appendChild(count);
    if (rows.length > 4) table.parentNode.insertBefore(bar, table);
    if (rows.length > 30) {
      // A long table scrolls in a box of its own, under its header.
      var box = el("div", "tablescroll");
      table.parentNode.insertBefore(box, table);
      box.appendChild(table);
    }
    var text = rows.map(function (r) { return r.textContent.toLowerCase(); });
    var keys = rows.map(function (r) { return (r.getAttribute("data-k") || "").split(" "); });
    var hasKeys = keys.some(function (k) { return k.length > 1 || k[0] !== ""; });
    function apply() {
      var q = input.value.trim().toLowerCase();
      var shown = 0;
      rows.forEach(function (r, i) {
        var ok = (!q || text[i].indexOf(q) >= 0) && (!active || !hasKeys || keys[i].indexOf(active) >= 0);
        r.classList.toggle("hidden", !ok);
        if (ok) shown++;
      });
      count.textContent = shown === rows.length ? "" : shown + " of " + rows.length + " rows";
      table.setAttribute("data-shown", String(shown));
    }
    input.addEventListener("input", apply);
    onFilter(apply);
    Array.prototype.forEach.call(heads, function (th, i) {
      th.classList.add("sortable");
      th.setAttribute("tabindex", "0");
      function sort() {
        var asc = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", asc ? "ascending" : "descending");
        var vals = rows.map(function (r) { return cellValue(r, i); });
        var numeric = vals.every(function (v) { return v === "" || !isNaN(Number(v)); });
        var order = rows.map(function (r, j) { return j; });
        order.sort(function (a, b) {
          var x = vals[a], y = vals[b], d;
          if (numeric) d = (Number(x) || 0) - (Number(y) || 0);
          else d = x < y ? -1 : x > y ? 1 : 0;
          return (asc ? d : -d) || a - b;
        });
        order.forEach(function (j) { body.appendChild(rows[j]); });
      }
      th.addEventListener("click", sort);
      th.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sort(); } });
    });
    apply();
  }
  Array.prototype.forEach.call(document.querySelectorAll("table.data"), setupTable);

  // ---- The relationship graph.

  var cy = null;
  var cyBox = document.getElementById("cy");
  if (cyBox && !data.graph.nodes.length) {
    cyBox.textContent = "";
    cyBox.className = "cy cy-empty";
    cyBox.appendChild(el("p", "muted", "No names or addresses to draw."));
  } else if (cyBox && typeof cytoscape === "function") {
    cyBox.textContent = "";
    var nodes = data.graph.nodes, edges = data.graph.edges;
    // Up to 150 nodes every node carries its label; a larger graph draws
    // small nodes whose labels appear as you zoom in, but for the key ones
    // (apex domains, name and mail servers, shared hosting).
    var compact = nodes.length > 150;
    // Room around the label inside each shape (ellipses and tags need more).
    var rolePad = { name: 16, ip: 24, ns: 30, mx: 34, neighbour: 22 };
    var elements = nodes.map(function (n) {
      var label = n.shared ? n.label + "\n(shared: " + n.shared + " domains)" : n.label;
      var chars = label.split("\n").reduce(function (m, l) { return Math.max(m, l.length); }, 0);
      var w = 6.3 * chars + (rolePad[n.role] || 16) + (n.shared ? 18 : 0);
      return {
        group: "nodes",
        data: { id: n.id, label: label, role: n.role, current: n.current ? 1 : 0, shared: n.shared || 0, w: Math.max(24, Math.min(320, w)) },
        classes: (n.current ? "" : "hist") + (n.shared ? " shared" : "") +
          (n.key ? " key" : "")
      };
    }).concat(edges.map(function (e) {
      return { group: "edges", data: { id: e.id, source: e.source, target: e.target, type: e.type, current: e.current ? 1 : 0 }, classes: e.current ? "" : "hist" };
    })).concat(nodes.filter(function (n) { return n.parent; }).map(function (n) {
      // The DNS tree, drawn faintly: it keeps a domain's names together.
      return { group: "edges", data: { id: n.id + " under " + n.parent, source: n.parent, target: n.id, type: "" }, classes: "under" };
    }));
    var big = nodes.length > 1200;
    var layoutOpts = big
      ? { name: "concentric", animate: false, concentric: function (n) { return n.degree(); }, levelWidth: function () { return 4; }, minNodeSpacing: 6 }
      : { name: "cose", animate: false, randomize: true, fit: true, padding: 20, nodeDimensionsIncludeLabels: !compact,
          boundingBox: { x1: 0, y1: 0, w: Math.max(600, cyBox.clientWidth), h: Math.max(400, cyBox.clientHeight) },
          idealEdgeLength: function (e) { return (e.hasClass("under") ? 30 : 45) * (compact ? 0.6 : 1); },
          edgeElasticity: function (e) { return e.hasClass("under") ? 150 : 100; },
          nodeRepulsion: function () { return compact ? 12000 : 120000; }, nodeOverlap: compact ? 8 : 40, nestingFactor: 5, gravity: 50,
          numIter: compact ? 1000 : 2000, initialTemp: 200, coolingFactor: 0.95, minTemp: 1.0, componentSpacing: 40 };
    var compactStyle = !compact ? [] : [
      { selector: "node", style: { "width": 12, "height": 12, "font-size": 10, "text-valign": "bottom", "text-margin-y": 2, "min-zoomed-font-size": 14, "border-width": 1, "text-background-color": "#ffffff", "text-background-opacity": 0.7 } },
      { selector: "node.key", style: { "width": 24, "height": 24, "font-size": 11, "font-weight": "bold", "min-zoomed-font-size": 0, "border-width": 2 } },
      { selector: "node.shared", style: { "width": 30, "height": 30 } },
      { selector: "edge", style: { "width": 0.8, "arrow-scale": 0.5, "min-zoomed-font-size": 10 } }
    ];
    // cose starts from random positions: a seeded generator makes the
    // layout, and a screenshot of it, the same every time.
    function seeded(run) {
      var saved = Math.random, s = 20250401;
      Math.random = function () {
        s = (s + 0x6D2B79F5) | 0;
        var t = Math.imul(s ^ (s >>> 15), 1 | s);
        t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
      };
      try { return run(); } finally { Math.random = saved; }
    }
    cy = seeded(function () { return cytoscape({
      container: cyBox,
      elements: elements,
      layout: layoutOpts,
      minZoom: 0.05,
      maxZoom: 4,
      boxSelectionEnabled: false,
      style: [
        { selector: "node", style: { "label": "data(label)", "font-size": 10, "font-family": "ui-monospace, Menlo, Consolas, DejaVu Sans Mono, monospace", "text-valign": "center", "text-halign": "center", "text-wrap": "wrap", "color": "#0f172a", "width": "data(w)", "height": 22, "shape": "round-rectangle", "background-color": "#f1f5f9", "border-width": 1.5, "border-color": "#334155" } },
        { selector: "node[role = 'ip']", style: { "shape": "ellipse", "background-color": "#dbeafe", "border-color": "#2563eb" } },
        { selector: "node.shared", style: { "border-color": "#dc2626", "border-width": 3, "height": 40, "background-color": "#fee2e2" } },
        { selector: "node[role = 'ns']", style: { "shape": "round-hexagon", "background-color": "#dcfce7", "border-color": "#16a34a" } },
        { selector: "node[role = 'mx']", style: { "shape": "barrel", "background-color": "#fef3c7", "border-color": "#d97706" } },
        { selector: "node[role = 'neighbour']", style: { "shape": "ellipse", "background-color": "#f3f4f6", "border-color": "#9ca3af", "color": "#6b7280", "font-size": 8.5, "height": 16 } },
        { selector: "node.hist", style: { "border-style": "dashed", "background-opacity": 0.55, "color": "#64748b" } },
        { selector: "edge", style: { "width": 1.4, "curve-style": "bezier", "line-color": "#64748b", "target-arrow-color": "#64748b", "target-arrow-shape": "triangle", "arrow-scale": 0.8, "label": "data(type)", "font-size": 8, "color": "#475569", "text-rotation": "autorotate", "text-background-color": "#ffffff", "text-background-opacity": 0.85, "text-background-padding": 1 } },
        { selector: "edge.under", style: { "line-style": "dotted", "line-color": "#cbd5e1", "width": 1, "target-arrow-shape": "none", "label": "", "curve-style": "straight" } },
        { selector: "edge.hist", style: { "line-style": "dashed", "line-color": "#cbd5e1", "target-arrow-color": "#cbd5e1", "color": "#94a3b8" } },
      ].concat(compactStyle).concat([
        { selector: ".faded", style: { "opacity": 0.12 } },
        { selector: "node.focus", style: { "border-color": "#1d4ed8", "border-width": 4, "overlay-opacity": 0 } },
        { selector: ".gone", style: { "display": "none" } }
      ])
    }); });
    cy.on("tap", "node", function (evt) { setFilter(evt.target.id()); });
    cy.on("tap", function (evt) { if (evt.target === cy) setFilter(""); });
    onFilter(function (key) {
      cy.elements().removeClass("faded focus");
      if (!key) return;
      var n = cy.getElementById(key);
      if (n.empty()) return;
      var hood = n.closedNeighborhood();
      cy.elements().not(hood).addClass("faded");
      n.addClass("focus");
    });
    function toggles() {
      var hist = document.getElementById("g-hist").checked, neigh = document.getElementById("g-neigh").checked;
      cy.batch(function () {
        cy.elements().removeClass("gone");
        if (!hist) cy.elements(".hist").addClass("gone");
        if (!neigh) cy.nodes("[role = 'neighbour']").addClass("gone");
      });
    }
    document.getElementById("g-hist").addEventListener("change", toggles);
    document.getElementById("g-neigh").addEventListener("change", toggles);
    document.getElementById("graph-tools").addEventListener("click", function (e) {
      var act = e.target.getAttribute && e.target.getAttribute("data-act");
      if (act === "fit") cy.fit(undefined, 30);
      if (act === "layout") cy.elements(":visible").layout(Object.assign({}, layoutOpts, { randomize: true })).run();
    });
    document.getElementById("g-find").addEventListener("keydown", function (e) {
      if (e.key !== "Enter") return;
      var q = this.value.trim().toLowerCase();
      if (!q) return;
      var hit = cy.nodes().filter(function (n) { return n.id().toLowerCase().indexOf(q) >= 0; });
      if (hit.nonempty()) { cy.animate({ fit: { eles: hit.closedNeighborhood(), padding: 60 } }, { duration: 250 }); setFilter(hit[0].id()); }
    });
    // Print the graph as a picture of the whole graph, sized to the page.
    var printImg = null;
    window.addEventListener("beforeprint", function () {
      if (!printImg) { printImg = el("img", "print"); printImg.alt = "Relationship graph"; cyBox.appendChild(printImg); }
      printImg.src = cy.png({ full: true, scale: 2, bg: "#ffffff", maxWidth: 2400 });
    });
  }

  // ---- The timeline: a group of rows per name, zoomable at any span.

  var tlBox = document.getElementById("tl");
  if (tlBox && data.timeline.length) {
    tlBox.textContent = "";
    var first = parseTime(data.span[0]), last = parseTime(data.span[1]), now = parseTime(data.now);
    if (isNaN(last)) last = isNaN(now) ? Date.now() : now;
    if (isNaN(first)) first = last - 365 * DAY;
    if (!isNaN(now) && now > last) last = now;
    if (last - first < DAY) first = last - DAY;
    var pad = (last - first) * 0.01;
    var full = [first - pad, last + pad];
    var view = full.slice();

    var axis = el("div", "tl-axis");
    axis.appendChild(el("div", "tl-labelhead", "Name · record"));
    var ticks = el("div", "tl-ticks");
    axis.appendChild(ticks);
    tlBox.appendChild(axis);
    var body = el("div", "tl-body");
    var grid = el("div", "tl-grid");
    body.appendChild(grid);
    tlBox.appendChild(body);

    var bars = [];   // {el, t0, t1, open}
    var marks = [];  // {el, t}
    var groups = []; // {el, name, values, moves: [{el, t, from, to}]}
    var collapseAll = data.timeline.length > 40;
    document.getElementById("tl-compact").checked = collapseAll;

    data.timeline.forEach(function (tl) {
      var g = el("div", "tl-name" + (collapseAll ? " collapsed" : ""));
      g.setAttribute("data-name", tl.n);
      var head = el("div", "tl-row tl-head");
      var hl = el("div", "tl-label");
      var caret = el("span", "caret", collapseAll ? "▸" : "▾");
      hl.appendChild(caret);
      hl.appendChild(document.createTextNode(tl.n));
      var nMoves = (tl.m || []).length;
      hl.appendChild(el("span", "sub", tl.r.length + (tl.r.length === 1 ? " record" : " records") + (nMoves ? ", " + nMoves + (nMoves === 1 ? " move" : " moves") : "")));
      head.appendChild(hl);
      var htrack = el("div", "tl-track");
      head.appendChild(htrack);
      g.appendChild(head);
      hl.addEventListener("click", function () {
        var c = g.classList.toggle("collapsed");
        caret.textContent = c ? "▸" : "▾";
        layoutMoves();
      });
      var recs = el("div", "tl-recs");
      var rowOf = {};
      var types = [];
      tl.r.forEach(function (r) { if (types.indexOf(r[0]) < 0) types.push(r[0]); });
      htrack.style.height = Math.max(20, 6 + types.length * 7) + "px";
      var values = [tl.n];
      tl.r.forEach(function (r) {
        var t0 = parseTime(r[2]), t1 = parseTime(r[3]);
        var open = isNaN(t0);
        if (open) t0 = first;
        if (isNaN(t1)) t1 = last;
        if (t1 < t0) t1 = t0;
        var row = el("div", "tl-row");
        var label = el("div", "tl-label");
        var tt = el("span", "tl-t", r[0]);
        tt.style.color = colourOf(r[0]);
        label.appendChild(tt);
        label.appendChild(document.createTextNode(r[1]));
        row.appendChild(label);
        var track = el("div", "tl-track");
        var bar = el("div", "tl-bar" + (r[4] ? "" : " hist") + (open ? " open-start" : ""));
        bar.style.background = colourOf(r[0]);
        bar.title = r[0] + " " + r[1] + "\n" + (r[2] ? r[2].slice(0, 10) : "unknown") + " to " + (r[3] ? r[3].slice(0, 10) : "unknown") + ", " + (r[4] ? "current" : "historical");
        track.appendChild(bar);
        row.appendChild(track);
        recs.appendChild(row);
        bars.push({ el: bar, t0: t0, t1: t1 });
        rowOf[r[0] + " " + r[1]] = row;
        values.push(r[1]);
        var band = el("div", "tl-band" + (r[4] ? "" : " hist"));
        band.style.background = colourOf(r[0]);
        band.style.top = (3 + types.indexOf(r[0]) * 7) + "px";
        htrack.appendChild(band);
        bars.push({ el: band, t0: t0, t1: t1 });
      });
      g.appendChild(recs);
      var moves = [];
      (tl.m || []).forEach(function (m) {
        var t = parseTime(m[3]);
        if (isNaN(t)) return;
        var tick = el("div", "tl-tickmv");
        tick.title = "moved " + m[0] + " " + m[1] + " → " + m[2] + " on " + m[3].slice(0, 10);
        htrack.appendChild(tick);
        marks.push({ el: tick, t: t });
        var from = rowOf[m[0] + " " + m[1]], to = rowOf[m[0] + " " + m[2]];
        if (!from || !to) return;
        var mv = el("div", "tl-mv");
        mv.title = tick.title;
        g.appendChild(mv);
        moves.push({ el: mv, t: t, from: from, to: to });
      });
      body.appendChild(g);
      groups.push({ el: g, name: tl.n, values: values, moves: moves });
    });

    function trackBox() {
      var t = ticks.getBoundingClientRect();
      return { left: t.left, width: Math.max(1, t.width) };
    }
    function pct(t) { return (t - view[0]) / (view[1] - view[0]) * 100; }
    var steps = [
      [DAY, "d"], [2 * DAY, "d"], [7 * DAY, "d"], [14 * DAY, "d"],
      [1, "m"], [2, "m"], [3, "m"], [6, "m"], [12, "y"], [24, "y"], [60, "y"], [120, "y"]
    ];
    function tickTimes(width) {
      var spanMs = view[1] - view[0];
      for (var i = 0; i < steps.length; i++) {
        var s = steps[i], ms = s[1] === "d" ? s[0] : s[0] * 30.44 * DAY;
        var labelW = s[1] === "d" ? 84 : s[1] === "m" ? 66 : 44;
        if (spanMs / ms * labelW <= width) return { step: s, fmt: s[1] };
      }
      return { step: steps[steps.length - 1], fmt: "y" };
    }
    function label(ms, fmt) {
      var iso = new Date(ms).toISOString();
      return fmt === "y" ? iso.slice(0, 4) : fmt === "m" ? iso.slice(0, 7) : iso.slice(0, 10);
    }
    function layoutTicks() {
      var box = trackBox();
      var tk = tickTimes(box.width);
      var out = [];
      var d = new Date(view[0]);
      var t;
      if (tk.fmt === "d") {
        t = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
        while (t < view[1]) { if (t >= view[0]) out.push(t); t += tk.step[0]; }
      } else {
        var months = tk.step[0];
        var y = d.getUTCFullYear(), m = 0;
        if (months < 12) m = Math.floor(d.getUTCMonth() / months) * months;
        else y = Math.floor(y / (months / 12)) * (months / 12);
        for (;;) {
          t = Date.UTC(y, m, 1);
          if (t >= view[1]) break;
          if (t >= view[0]) out.push(t);
          m += months;
          if (m >= 12) { y += Math.floor(m / 12); m = m % 12; }
        }
      }
      ticks.textContent = "";
      grid.textContent = "";
      out.forEach(function (t) {
        var x = pct(t);
        var lab = el("span", "tl-tick", label(t, tk.fmt));
        lab.style.left = x + "%";
        ticks.appendChild(lab);
        // Keep every label whole inside the axis: centred on its tick,
        // pushed in at the edges.
        var w = lab.offsetWidth, px = x / 100 * box.width;
        var shift = -w / 2;
        if (px + shift < 2) shift = 2 - px;
        if (px + shift + w > box.width - 2) shift = box.width - 2 - w - px;
        lab.style.transform = "translateX(" + shift + "px)";
        var line = el("i");
        line.style.left = x + "%";
        grid.appendChild(line);
      });
      if (!isNaN(now) && now > view[0] && now < view[1]) {
        var nl = el("i", "now");
        nl.style.left = pct(now) + "%";
        nl.title = "last run " + isoDay(now);
        grid.appendChild(nl);
      }
      document.getElementById("tl-window").textContent = isoDay(view[0]) + " – " + isoDay(view[1]);
    }
    function layoutBars() {
      bars.forEach(function (b) {
        var x0 = Math.max(-1, pct(b.t0)), x1 = Math.min(101, pct(b.t1));
        if (x1 < -1 || x0 > 101) { b.el.style.display = "none"; return; }
        b.el.style.display = "";
        b.el.style.left = x0 + "%";
        b.el.style.width = Math.max(0, x1 - x0) + "%";
      });
      marks.forEach(function (m) {
        var x = pct(m.t);
        m.el.style.display = x < 0 || x > 100 ? "none" : "";
        m.el.style.left = x + "%";
      });
    }
    // Moves: a red line from the old value's row to the new one's, at the
    // time of the move.
    function layoutMoves() {
      groups.forEach(function (g) {
        if (!g.moves.length) return;
        var gb = g.el.getBoundingClientRect();
        var collapsed = g.el.classList.contains("collapsed");
        g.moves.forEach(function (m) {
          var x = pct(m.t);
          if (collapsed || g.el.classList.contains("hidden") || x < 0 || x > 100) { m.el.style.display = "none"; return; }
          var a = m.from.getBoundingClientRect(), b = m.to.getBoundingClientRect();
          var y1 = a.top + a.height / 2 - gb.top, y2 = b.top + b.height / 2 - gb.top;
          m.el.style.display = "";
          // Along the track, in its own terms: right at any width.
          m.el.style.left = "calc(var(--tl-label) + (100% - var(--tl-label)) * " + (x / 100) + " - 1px)";
          m.el.style.top = Math.min(y1, y2) + "px";
          m.el.style.height = Math.max(2, Math.abs(y2 - y1)) + "px";
          m.el.classList.toggle("up", y2 < y1);
        });
      });
    }
    function layout() { layoutTicks(); layoutBars(); layoutMoves(); }
    function setView(lo, hi) {
      var minSpan = 2 * DAY;
      if (hi - lo < minSpan) { var c = (lo + hi) / 2; lo = c - minSpan / 2; hi = c + minSpan / 2; }
      var fullSpan = full[1] - full[0];
      if (hi - lo > fullSpan) { lo = full[0]; hi = full[1]; }
      if (lo < full[0]) { hi += full[0] - lo; lo = full[0]; }
      if (hi > full[1]) { lo -= hi - full[1]; hi = full[1]; }
      view = [lo, hi];
      layout();
    }
    function zoom(factor, at) {
      var c = at === undefined ? (view[0] + view[1]) / 2 : at;
      setView(c - (c - view[0]) * factor, c + (view[1] - c) * factor);
    }
    function segOff() { Array.prototype.forEach.call(document.querySelectorAll("#tl-tools [data-span]"), function (b) { b.classList.remove("on"); }); }
    document.getElementById("tl-tools").addEventListener("click", function (e) {
      var t = e.target;
      if (!t.getAttribute) return;
      var s = t.getAttribute("data-span"), z = t.getAttribute("data-zoom");
      if (s) {
        segOff();
        t.classList.add("on");
        if (s === "all") setView(full[0], full[1]);
        else setView(full[1] - Number(s) * DAY, full[1]);
      }
      if (z) { segOff(); zoom(z === "in" ? 0.5 : 2); }
    });
    function timeAt(clientX) {
      var box = trackBox();
      return view[0] + (clientX - box.left) / box.width * (view[1] - view[0]);
    }
    tlBox.addEventListener("wheel", function (e) {
      var onAxis = ticks.contains(e.target);
      if (!onAxis && !e.ctrlKey && !e.metaKey) return;
      e.preventDefault();
      segOff();
      zoom(e.deltaY > 0 ? 1.25 : 0.8, timeAt(e.clientX));
    }, { passive: false });
    var drag = null;
    tlBox.addEventListener("mousedown", function (e) {
      if (!e.target.closest || !e.target.closest(".tl-track, .tl-ticks")) return;
      drag = { x: e.clientX, view: view.slice(), el: e.target.closest(".tl-track, .tl-ticks") };
      drag.el.classList.add("grabbing");
      e.preventDefault();
    });
    window.addEventListener("mousemove", function (e) {
      if (!drag) return;
      var box = trackBox();
      var dt = (e.clientX - drag.x) / box.width * (drag.view[1] - drag.view[0]);
      segOff();
      setView(drag.view[0] - dt, drag.view[1] - dt);
    });
    window.addEventListener("mouseup", function () { if (drag) { drag.el.classList.remove("grabbing"); drag = null; } });
    tlBox.addEventListener("dblclick", function (e) {
      if (e.target.closest && e.target.closest(".tl-track, .tl-ticks")) { segOff(); zoom(0.5, timeAt(e.clientX)); }
    });
    document.getElementById("tl-compact").addEventListener("change", function () {
      var c = this.checked;
      groups.forEach(function (g) {
        g.el.classList.toggle("collapsed", c);
        g.el.querySelector(".caret").textContent = c ? "▸" : "▾";
      });
      layoutMoves();
    });
    var find = document.getElementById("tl-find");
    function filterNames() {
      var q = find.value.trim().toLowerCase();
      groups.forEach(function (g) {
        var ok = (!q || g.name.indexOf(q) >= 0) && (!active || g.values.indexOf(active) >= 0);
        g.el.classList.toggle("hidden", !ok);
      });
      layoutMoves();
    }
    find.addEventListener("input", filterNames);
    onFilter(filterNames);
    window.addEventListener("resize", layout);
    window.addEventListener("beforeprint", function () {
      groups.forEach(function (g) { g.el.classList.remove("collapsed"); });
      layout();
    });
    layout();
  }

  // For tests and the curious: the graph and the filter.
  window.reconform = { cy: cy, filter: setFilter };
})();
