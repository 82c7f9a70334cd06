/* stockx docs: the page. Plain JavaScript, no build step; the data is window.STOCKX_DOCS (data.js).
 *
 * Everything from the data (names, descriptions, SQL, Peak's answers) is put on the page as
 * text nodes, never as HTML: a description or an answer holding markup shows as written.
 * Views are routes of the location's hash: #/ (overview), #/node/<id>[?column=<name>],
 * #/dag[?focus=<id>], #/build, #/sync.
 */
(function () {
  "use strict";

  var D = window.STOCKX_DOCS;
  var main = document.getElementById("main");
  var SVG = "http://www.w3.org/2000/svg";
  var KIND_COLOR = { model: "var(--model)", seed: "var(--seed)", source: "var(--source)", snapshot: "var(--snapshot)" };
  var GRAPH_TYPES = { model: 1, seed: 1, source: 1, snapshot: 1 };
  var TRACED = { model: 1, snapshot: 1 };  // the kinds whose columns' lineage stockx traces
  var TYPE_TITLES = [["model", "Models"], ["seed", "Seeds"], ["source", "Sources"], ["snapshot", "Snapshots"], ["test", "Data tests"], ["unit_test", "Unit tests"]];

  if (!D) {
    main.textContent = "";
    main.appendChild(el("p", { class: "empty" }, "data.js did not load: run `stockx docs generate` again."));
    return;
  }

  // -- indexes -------------------------------------------------------------------------------
  var byId = {};
  var byName = {};
  var children = {};
  D.nodes.forEach(function (n) {
    byId[n.id] = n;
    children[n.id] = [];
    if (GRAPH_TYPES[n.type]) byName[n.type + ":" + n.name] = n;
  });
  D.nodes.forEach(function (n) {
    (n.depends_on || []).forEach(function (p) { if (children[p]) children[p].push(n.id); });
  });
  var testsOf = {};  // tested node id -> its tests and unit tests
  D.nodes.forEach(function (n) {
    if ((n.type === "test" || n.type === "unit_test") && n.attached) (testsOf[n.attached] = testsOf[n.attached] || []).push(n);
  });
  var lineageUp = D.lineage.edges;
  var lineageDown = {};
  Object.keys(lineageUp).forEach(function (k) {
    lineageUp[k].forEach(function (u) { (lineageDown[u] = lineageDown[u] || []).push(k); });
  });

  // -- small helpers ---------------------------------------------------------------------------
  function el(tag, attrs) {
    var node = document.createElement(tag);
    setAttrs(node, attrs);
    for (var i = 2; i < arguments.length; i++) append(node, arguments[i]);
    return node;
  }
  function svg(tag, attrs) {
    var node = document.createElementNS(SVG, tag);
    setAttrs(node, attrs);
    for (var i = 2; i < arguments.length; i++) append(node, arguments[i]);
    return node;
  }
  function setAttrs(node, attrs) {
    if (!attrs) return;
    Object.keys(attrs).forEach(function (k) {
      var v = attrs[k];
      if (v === null || v === undefined || v === false) return;
      if (k.slice(0, 2) === "on") node.addEventListener(k.slice(2), v);
      else if (k === "style") {
        // Through the CSSOM: the page's content security policy refuses style attributes.
        String(v).split(";").forEach(function (rule) {
          var at = rule.indexOf(":");
          if (at > 0) node.style.setProperty(rule.slice(0, at).trim(), rule.slice(at + 1).trim());
        });
      } else node.setAttribute(k, v === true ? "" : String(v));
    });
  }
  function append(node, child) {
    if (child === null || child === undefined || child === false) return;
    if (Array.isArray(child)) { child.forEach(function (c) { append(node, c); }); return; }
    node.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)));
  }
  function fmt(n) { return n === null || n === undefined ? "–" : Number(n).toLocaleString("en-US"); }
  function secs(s) { return s === null || s === undefined ? "–" : (s < 10 ? s.toFixed(2) : s.toFixed(1)) + " s"; }
  function when(iso) { return iso ? iso.replace("T", " ").replace(/\.\d+/, "").replace("Z", " UTC") : "–"; }
  function nodeHref(id, column) { return "#/node/" + encodeURIComponent(id) + (column ? "?column=" + encodeURIComponent(column) : ""); }
  function link(n) { return el("a", { href: nodeHref(n.id), title: n.id }, n.name); }
  function badge(text, cls) { return el("span", { class: "badge " + (cls || text) }, text); }
  function verdictOf(id) { return D.verdicts[id] || null; }
  function plural(n, word) { return fmt(n) + " " + word + (n === 1 ? "" : "s"); }
  function titleCase(s) { return s.charAt(0).toUpperCase() + s.slice(1); }
  function typeLabel(t) { return t === "unit_test" ? "unit test" : t; }
  function testChip(t) {
    var v = verdictOf(t.id);
    var status = v ? v.status : "not run";
    var label = t.type === "unit_test" ? t.name : (t.test_name || t.name);
    var tip = t.name + ": " + status + (v && v.failures ? " (" + fmt(v.failures) + " failing)" : "") + (v && v.message ? "\n" + v.message : "");
    return el("a", { class: "chip " + (v ? v.status : ""), href: nodeHref(t.id), title: tip }, label + " · " + status);
  }

  // -- the sidebar ----------------------------------------------------------------------------
  var groupBy = "folder";
  function renderTree() {
    var tree = document.getElementById("tree");
    tree.textContent = "";
    if (groupBy === "tag") {
      var tags = {};
      D.nodes.forEach(function (n) { (n.tags || []).forEach(function (t) { (tags[t] = tags[t] || []).push(n); }); });
      var names = Object.keys(tags).sort();
      if (!names.length) tree.appendChild(el("p", { class: "empty" }, "No node has a tag."));
      names.forEach(function (t) { tree.appendChild(leafGroup("#" + t, tags[t], true)); });
      return;
    }
    TYPE_TITLES.forEach(function (pair) {
      var nodes = D.nodes.filter(function (n) { return n.type === pair[0]; });
      if (!nodes.length) return;
      var open = pair[0] === "model" || pair[0] === "seed" || pair[0] === "source" || pair[0] === "snapshot";
      tree.appendChild(folderGroup(pair[1], nodes, open));
    });
    markCurrent();
  }
  function leafGroup(title, nodes, open) {
    var d = el("details", { open: open, class: "tag" }, el("summary", null, title, el("span", { class: "count" }, nodes.length)));
    nodes.slice().sort(function (a, b) { return a.name < b.name ? -1 : a.name > b.name ? 1 : 0; })
      .forEach(function (n) { d.appendChild(el("a", { href: nodeHref(n.id), "data-id": n.id, title: n.path }, n.name)); });
    return d;
  }
  function folderGroup(title, nodes, open) {
    // A tree of folders, each leaf a node; folders sorted, then nodes by name.
    var root = { dirs: {}, nodes: [] };
    nodes.forEach(function (n) {
      var at = root;
      n.folder.split("/").forEach(function (part) { at = at.dirs[part] = at.dirs[part] || { dirs: {}, nodes: [] }; });
      at.nodes.push(n);
    });
    function build(dir, label, isOpen) {
      var count = countOf(dir);
      var d = el("details", { open: isOpen }, el("summary", null, label, el("span", { class: "count" }, count)));
      Object.keys(dir.dirs).sort().forEach(function (k) { d.appendChild(build(dir.dirs[k], k, isOpen)); });
      dir.nodes.sort(function (a, b) { return a.name < b.name ? -1 : a.name > b.name ? 1 : 0; })
        .forEach(function (n) { d.appendChild(el("a", { href: nodeHref(n.id), "data-id": n.id, title: n.path }, n.name)); });
      return d;
    }
    function countOf(dir) {
      return dir.nodes.length + Object.keys(dir.dirs).reduce(function (s, k) { return s + countOf(dir.dirs[k]); }, 0);
    }
    // Skip the single-child folders at the top (models/, tests/) so the tree starts where it branches.
    var top = root;
    while (!top.nodes.length && Object.keys(top.dirs).length === 1) top = top.dirs[Object.keys(top.dirs)[0]];
    var group = build(top, title, open);
    return group;
  }
  function markCurrent() {
    var route = parseRoute();
    Array.prototype.forEach.call(document.querySelectorAll("#tree a"), function (a) {
      a.classList.toggle("current", route.view === "node" && a.getAttribute("data-id") === route.id);
    });
    Array.prototype.forEach.call(document.querySelectorAll(".views a"), function (a) {
      a.classList.toggle("current", a.getAttribute("data-view") === (route.view === "node" ? "" : route.view));
    });
  }
  Array.prototype.forEach.call(document.querySelectorAll(".group-by button"), function (b) {
    b.addEventListener("click", function () {
      groupBy = b.getAttribute("data-group");
      Array.prototype.forEach.call(document.querySelectorAll(".group-by button"), function (o) {
        o.setAttribute("aria-selected", String(o === b));
      });
      renderTree();
    });
  });

  // -- search -----------------------------------------------------------------------------------
  var searchBox = document.getElementById("search");
  var resultsBox = document.getElementById("search-results");
  var matches = [];
  var chosen = 0;
  function search(q) {
    q = q.trim().toLowerCase();
    if (!q) return [];
    var found = [];
    D.nodes.forEach(function (n) {
      var name = n.name.toLowerCase();
      var score = 0, why = "";
      if (name === q) score = 100;
      else if (name.indexOf(q) === 0) score = 80;
      else if (name.indexOf(q) >= 0) score = 60;
      if (!score && n.columns) {
        var col = n.columns.filter(function (c) { return c.name.toLowerCase().indexOf(q) >= 0; })[0];
        if (col) { score = col.name.toLowerCase() === q ? 50 : 40; why = "column " + col.name; }
      }
      if (!score && n.description && n.description.toLowerCase().indexOf(q) >= 0) {
        score = 20;
        var at = n.description.toLowerCase().indexOf(q);
        var from = Math.max(0, at - 20), to = at + q.length + 30;
        why = (from ? "…" : "") + n.description.slice(from, to).replace(/\s+/g, " ").trim() + (to < n.description.length ? "…" : "");
      }
      if (!score && n.columns) {
        var described = n.columns.filter(function (c) { return (c.description || "").toLowerCase().indexOf(q) >= 0; })[0];
        if (described) { score = 15; why = "column " + described.name + ": " + described.description; }
      }
      if (score) {
        if (n.type === "test" || n.type === "unit_test") score -= 10;  // what is tested before its tests
        found.push({ node: n, score: score, why: why || n.type });
      }
    });
    found.sort(function (a, b) { return b.score - a.score || (a.node.name < b.node.name ? -1 : 1); });
    return found.slice(0, 30);
  }
  function showResults() {
    resultsBox.textContent = "";
    if (!searchBox.value.trim()) { resultsBox.hidden = true; return; }
    if (!matches.length) resultsBox.appendChild(el("li", { class: "none" }, "Nothing matches."));
    matches.forEach(function (m, i) {
      resultsBox.appendChild(el("li", {
        role: "option", "aria-selected": String(i === chosen), "data-id": m.node.id,
        onmousedown: function (e) { e.preventDefault(); go(m.node); },
      }, badge(typeLabel(m.node.type), m.node.type), el("span", null, m.node.name), el("span", { class: "why" }, m.why)));
    });
    resultsBox.hidden = false;
  }
  function go(n) {
    resultsBox.hidden = true;
    searchBox.blur();
    location.hash = nodeHref(n.id);
  }
  searchBox.addEventListener("input", function () { matches = search(searchBox.value); chosen = 0; showResults(); });
  searchBox.addEventListener("focus", function () { if (searchBox.value) showResults(); });
  searchBox.addEventListener("blur", function () { resultsBox.hidden = true; });
  searchBox.addEventListener("keydown", function (e) {
    if (e.key === "ArrowDown") { chosen = Math.min(chosen + 1, matches.length - 1); showResults(); e.preventDefault(); }
    else if (e.key === "ArrowUp") { chosen = Math.max(chosen - 1, 0); showResults(); e.preventDefault(); }
    else if (e.key === "Enter" && matches[chosen]) { go(matches[chosen].node); }
    else if (e.key === "Escape") { searchBox.value = ""; resultsBox.hidden = true; searchBox.blur(); }
  });
  document.addEventListener("keydown", function (e) {
    if (e.key === "/" && document.activeElement !== searchBox && !/INPUT|SELECT|TEXTAREA/.test(document.activeElement.tagName)) {
      e.preventDefault();
      searchBox.focus();
    }
  });

  // -- routing ------------------------------------------------------------------------------------
  function parseRoute() {
    var hash = location.hash.replace(/^#\/?/, "");
    var q = hash.indexOf("?");
    var path = q >= 0 ? hash.slice(0, q) : hash;
    var params = {};
    (q >= 0 ? hash.slice(q + 1) : "").split("&").forEach(function (p) {
      if (!p) return;
      var kv = p.split("=");
      params[decodeURIComponent(kv[0])] = decodeURIComponent(kv.slice(1).join("="));
    });
    var parts = path.split("/");
    if (parts[0] === "node") return { view: "node", id: decodeURIComponent(parts.slice(1).join("/")), params: params };
    return { view: parts[0] || "overview", params: params };
  }
  var cleanups = [];
  function render() {
    cleanups.forEach(function (f) { f(); });
    cleanups = [];
    var route = parseRoute();
    main.textContent = "";
    var view = { overview: overviewView, dag: dagView, build: buildView, sync: syncView, node: nodeView }[route.view];
    if (!view) view = overviewView;
    view(route);
    markCurrent();
    window.scrollTo(0, 0);
  }
  window.addEventListener("hashchange", render);

  // -- overview ------------------------------------------------------------------------------------
  function count(type) { return D.nodes.filter(function (n) { return n.type === type; }).length; }
  function overviewView() {
    main.appendChild(el("h1", null, D.project));
    main.appendChild(el("p", { class: "subtitle" }, "Generated " + when(D.generated_at) + " by stockx " + D.stockx_version + "."));
    var cards = el("div", { class: "cards" });
    [["model", "models"], ["seed", "seeds"], ["source", "sources"], ["snapshot", "snapshots"], ["test", "data tests"], ["unit_test", "unit tests"]]
      .forEach(function (p) {
        var n = count(p[0]);
        if (n || p[0] === "model") cards.appendChild(el("div", { class: "card" }, el("div", { class: "label" }, p[1]), el("div", { class: "value" }, fmt(n))));
      });
    main.appendChild(cards);

    main.appendChild(el("h2", null, "Last build"));
    if (!D.last_run) main.appendChild(el("p", { class: "empty" }, "Nothing has run yet: `stockx build` writes the results shown here."));
    else {
      if (D.last_run.other_database) main.appendChild(elsewhere(D.last_run));
      main.appendChild(buildSummary(D.last_run));
    }

    main.appendChild(el("h2", null, "Sync to Peak"));
    main.appendChild(syncSummary());

    var models = D.nodes.filter(function (n) { return n.type === "model"; });
    if (models.length) {
      main.appendChild(el("h2", null, "Models"));
      var t = el("table", { class: "grid" }, el("tr", null, el("th", null, "Model"), el("th", null, "Materialized"), el("th", null, "Folder"), el("th", null, "Description")));
      models.forEach(function (n) {
        t.appendChild(el("tr", null, el("td", { class: "nowrap" }, link(n)), el("td", null, n.materialized), el("td", { class: "mono nowrap" }, n.folder),
          el("td", null, (n.description || "").split("\n")[0].slice(0, 160))));
      });
      main.appendChild(t);
    }
  }

  // -- a node's page ---------------------------------------------------------------------------------
  function nodeView(route) {
    var n = byId[route.id];
    if (!n) { main.appendChild(el("p", { class: "empty" }, "No node " + route.id + " in this project.")); return; }
    if (n.type === "test" || n.type === "unit_test") return testView(n);
    var v = verdictOf(n.id);
    main.appendChild(el("h1", null, n.name, badge(n.type), n.materialized && n.type === "model" ? badge(n.materialized, "skipped") : null,
      n.contract ? badge("contract enforced", "contract") : null, v ? badge(v.status) : null));
    main.appendChild(el("p", { class: "subtitle mono" }, n.relation || "", n.relation ? "  ·  " : "", n.path));
    if (n.description) main.appendChild(el("p", { class: "description" }, n.description));

    var facts = el("dl", { class: "facts" });
    function fact(k, val) { if (val !== null && val !== undefined && val !== "") { facts.appendChild(el("dt", null, k)); facts.appendChild(el("dd", null, val)); } }
    if (n.type === "model" || n.type === "snapshot") {
      fact("Materialized", n.materialized);
      var c = n.config || {};
      if (c.unique_key) fact("Unique key", [].concat(c.unique_key).join(", "));
      if (c.incremental_strategy) fact("Incremental strategy", c.incremental_strategy);
      if (c.window_column) fact("Window column", c.window_column);
      if (c.on_schema_change) fact("On schema change", c.on_schema_change);
      if (c.strategy) fact("Strategy", c.strategy);
      if (c.updated_at) fact("Updated at", c.updated_at);
      if (c.check_cols) fact("Check columns", [].concat(c.check_cols).join(", "));
      if (c.hard_deletes) fact("Hard deletes", c.hard_deletes);
    }
    if (n.type === "source") fact("Reads", n.reads);
    fact("In the database", n.built ? n.built : n.materialized === "ephemeral" ? "never: inlined as a CTE where it is used" : "not built");
    if (n.tags && n.tags.length) fact("Tags", n.tags.join(", "));
    if (v) fact("Last run", v.status + " in " + secs(v.seconds) + (v.message ? " — " + v.message : ""));
    main.appendChild(facts);

    main.appendChild(el("h2", null, "Columns"));
    main.appendChild(columnsTable(n, route.params.column));

    var tests = (testsOf[n.id] || []).filter(function (t) { return t.type === "unit_test" || !t.column; });
    if (tests.length) {
      main.appendChild(el("h2", null, "Tests of the whole " + typeLabel(n.type)));
      main.appendChild(el("div", { class: "chips" }, tests.map(testChip)));
    }
    if (n.contract) main.appendChild(contractSection(n));
    main.appendChild(relativesSection(n));
    if (TRACED[n.type]) main.appendChild(columnLineageSection(n, route.params.column));
    if (n.raw || n.compiled) main.appendChild(sqlSection(n));
  }

  function columnsTable(n, selected) {
    var cols = n.columns || [];
    if (!cols.length) return el("p", { class: "empty" }, "No columns are declared, and the relation is not built.");
    var canTrace = !!TRACED[n.type];
    var t = el("table", { class: "grid columns" }, el("tr", null, el("th", null, "Column"), el("th", null, "Type"),
      el("th", null, "Description"), el("th", null, "Constraints"), el("th", null, "Tests")));
    cols.forEach(function (c) {
      var tests = (c.tests || []).map(function (id) { return byId[id]; }).filter(Boolean);
      var type = c.type || c.declared_type || "–";
      var typeCell = el("td", { class: "mono nowrap" }, type);
      if (c.type && c.declared_type && c.type.toLowerCase() !== c.declared_type.toLowerCase())
        typeCell.appendChild(el("span", { class: "declared" }, "declared " + c.declared_type));
      if (c.in_database === false) typeCell.appendChild(el("span", { class: "declared mismatch" }, "not in the database"));
      var name = canTrace ? el("a", { href: nodeHref(n.id, c.name), title: "Column lineage of " + c.name }, c.name) : c.name;
      t.appendChild(el("tr", { class: selected && selected === c.name ? "selected" : null, "data-column": c.name },
        el("td", { class: "mono nowrap" }, name), typeCell, el("td", null, c.description || ""),
        el("td", null, (c.constraints || []).join(", ")), el("td", null, el("div", { class: "chips" }, tests.map(testChip)))));
    });
    return t;
  }

  function contractSection(n) {
    var box = el("section", null, el("h2", null, "Contract"));
    box.appendChild(el("p", null, "Enforced: the build fails before the old table is replaced when the output differs from these columns and types."));
    var t = el("table", { class: "grid" }, el("tr", null, el("th", null, "Column"), el("th", null, "Contract type"), el("th", null, "In the database"), el("th", null, "Constraints")));
    (n.columns || []).forEach(function (c) {
      if (!c.declared_type) return;
      var same = c.type && c.type.toLowerCase().replace(/\s/g, "") === normalType(c.declared_type);
      t.appendChild(el("tr", null, el("td", { class: "mono" }, c.name), el("td", { class: "mono" }, c.declared_type),
        el("td", { class: "mono" + (c.type && !same ? " mismatch" : "") }, c.type || "not built"), el("td", null, (c.constraints || []).join(", "))));
    });
    box.appendChild(t);
    return box;
  }
  function normalType(t) {
    var aliases = { varchar: "varchar", text: "varchar", string: "varchar", int: "integer", int4: "integer", int8: "bigint", float8: "double", float: "float", bool: "boolean" };
    t = t.toLowerCase().replace(/\s/g, "");
    return aliases[t] || t;
  }

  function relativesSection(n) {
    var box = el("section", null, el("h2", null, "Upstream and downstream"));
    var ups = (n.depends_on || []).map(function (id) { return byId[id]; }).filter(function (x) { return x && GRAPH_TYPES[x.type]; });
    var downs = (children[n.id] || []).map(function (id) { return byId[id]; }).filter(function (x) { return x && GRAPH_TYPES[x.type]; });
    var facts = el("dl", { class: "facts" });
    facts.appendChild(el("dt", null, "Upstream"));
    facts.appendChild(el("dd", { class: "links" }, ups.length ? ups.map(link) : "nothing"));
    facts.appendChild(el("dt", null, "Downstream"));
    facts.appendChild(el("dd", { class: "links" }, downs.length ? downs.map(link) : "nothing"));
    box.appendChild(facts);
    var ids = lineageOf(n.id);
    var graph = el("div", { class: "graph small", "aria-label": "Lineage of " + n.name });
    box.appendChild(graph);
    box.appendChild(el("p", { class: "toolbar" }, el("a", { href: "#/dag?focus=" + encodeURIComponent(n.id) }, "Open in the DAG")));
    requestAnimationFrame(function () {
      drawGraph(graph, ids.map(function (id) { return graphNode(byId[id]); }), edgesAmong(ids), {
        focus: n.id, autoHeight: true, onOpen: function (id) { location.hash = nodeHref(id); } });
    });
    return box;
  }

  function columnLineageSection(n, column) {
    var box = el("section", { id: "column-lineage" }, el("h2", null, "Column lineage"));
    var names = (n.columns || []).filter(function (c) { return lineageUp[n.type + ":" + n.name + "." + c.name]; }).map(function (c) { return c.name; });
    if (!names.length) {
      box.appendChild(el("p", { class: "empty" }, D.lineage.untraced.indexOf(n.id) >= 0
        ? "stockx cannot follow this model's SQL to its columns' origins." : "No column of this model could be traced."));
      return box;
    }
    var pick = el("select", { "aria-label": "Column", id: "lineage-column" }, el("option", { value: "" }, "Choose a column…"),
      names.map(function (c) { return el("option", { value: c, selected: c === column }, c); }));
    pick.addEventListener("change", function () { location.hash = nodeHref(n.id, pick.value); });
    box.appendChild(el("div", { class: "toolbar" }, el("label", null, "Column "), pick,
      el("span", { class: "hint" }, "where it comes from (left) and what it feeds (right)")));
    if (column && names.indexOf(column) >= 0) {
      var graph = el("div", { class: "graph lineage", "aria-label": "Lineage of column " + column });
      box.appendChild(graph);
      var start = n.type + ":" + n.name + "." + column;
      var keys = walk(start, lineageUp).concat(walk(start, lineageDown).slice(1));
      var nodes = keys.map(function (k) { return columnNode(k); });
      var edges = [];
      keys.forEach(function (k) { (lineageUp[k] || []).forEach(function (u) { if (keys.indexOf(u) >= 0) edges.push([u, k]); }); });
      requestAnimationFrame(function () {
        drawGraph(graph, nodes, edges, { focus: start, chosen: true, autoHeight: true, onOpen: function (key) {
          var target = columnOwner(key);
          if (target) location.hash = nodeHref(target.id, TRACED[target.type] ? key.slice(key.lastIndexOf(".") + 1) : null);
        } });
        if (location.hash.indexOf("column=") >= 0) box.scrollIntoView({ block: "start" });
      });
    }
    return box;
  }
  function walk(start, edges) {
    var seen = [start], queue = [start];
    while (queue.length) {
      var k = queue.shift();
      (edges[k] || []).forEach(function (u) { if (seen.indexOf(u) < 0) { seen.push(u); queue.push(u); } });
    }
    return seen;
  }
  function columnOwner(key) {
    var kind = key.slice(0, key.indexOf(":"));
    var rest = key.slice(kind.length + 1);
    return byName[kind + ":" + rest.slice(0, rest.lastIndexOf("."))] || null;
  }
  function columnNode(key) {
    var kind = key.slice(0, key.indexOf(":"));
    var label = key.slice(kind.length + 1);
    return { id: key, label: label, kind: kind };
  }

  function sqlSection(n) {
    var box = el("section", null, el("h2", null, "SQL"));
    var shown = n.compiled ? "compiled" : "raw";
    var tabs = el("div", { class: "tabs", role: "tablist" });
    var pre = el("pre", { class: "sql" });
    function show(which) {
      shown = which;
      pre.textContent = "";
      highlight(pre, which === "compiled" ? n.compiled : n.raw);
      Array.prototype.forEach.call(tabs.children, function (b) { b.setAttribute("aria-selected", String(b.getAttribute("data-tab") === which)); });
    }
    if (n.compiled) tabs.appendChild(el("button", { type: "button", role: "tab", "data-tab": "compiled", onclick: function () { show("compiled"); } }, "Compiled"));
    if (n.raw) tabs.appendChild(el("button", { type: "button", role: "tab", "data-tab": "raw", onclick: function () { show("raw"); } }, "Source"));
    box.appendChild(tabs);
    box.appendChild(pre);
    show(shown);
    return box;
  }
  var SQL_WORDS = /^(select|from|where|group|by|order|having|limit|join|left|right|inner|outer|full|cross|on|using|as|and|or|not|in|is|null|case|when|then|else|end|with|union|all|distinct|over|partition|window|qualify|cast|try_cast|coalesce|exists|between|like|ilike|asc|desc|nulls|first|last|true|false|interval|date|timestamp|varchar|bigint|integer|double|create|table|view|insert|into|values|delete|update|set|returning|filter|lateral|unnest|struct|list)$/i;
  function highlight(pre, text) {
    // A small tokenizer: Jinja blocks, comments, strings, numbers and keywords; everything as text.
    var re = /(\{\{[\s\S]*?\}\}|\{%[\s\S]*?%\}|\{#[\s\S]*?#\})|(--[^\n]*|\/\*[\s\S]*?\*\/)|('(?:[^']|'')*')|(\b\d+(?:\.\d+)?\b)|([A-Za-z_][A-Za-z0-9_]*)/g;
    var last = 0, m;
    while ((m = re.exec(text))) {
      if (m.index > last) pre.appendChild(document.createTextNode(text.slice(last, m.index)));
      var cls = m[1] ? "jinja" : m[2] ? "com" : m[3] ? "str" : m[4] ? "num" : SQL_WORDS.test(m[5]) ? "kw" : null;
      pre.appendChild(cls ? el("span", { class: cls }, m[0]) : document.createTextNode(m[0]));
      last = re.lastIndex;
    }
    if (last < text.length) pre.appendChild(document.createTextNode(text.slice(last)));
  }

  function testView(t) {
    var v = verdictOf(t.id);
    main.appendChild(el("h1", null, t.name, badge(typeLabel(t.type), t.type), v ? badge(v.status) : badge("not run", "skipped")));
    main.appendChild(el("p", { class: "subtitle mono" }, t.path));
    if (t.description) main.appendChild(el("p", { class: "description" }, t.description));
    var facts = el("dl", { class: "facts" });
    function fact(k, val) { if (val !== null && val !== undefined && val !== "") { facts.appendChild(el("dt", null, k)); facts.appendChild(el("dd", null, val)); } }
    var target = t.attached && byId[t.attached];
    fact("Tests", target ? [link(target), t.column ? " . " + t.column : ""] : null);
    if (!target && t.depends_on.length) fact("Reads", el("span", { class: "links" }, t.depends_on.map(function (id) { return byId[id] ? link(byId[id]) : id; })));
    if (t.test_name) fact("Test", t.test_name + (t.kind ? " (" + t.kind + ")" : ""));
    if (t.kwargs && Object.keys(t.kwargs).length) fact("Arguments", el("code", null, JSON.stringify(t.kwargs)));
    if (t.severity) fact("Severity", t.severity);
    if (v) {
      fact("Last verdict", v.status + (v.failures ? " — " + plural(v.failures, "failing row") : "") + " in " + secs(v.seconds));
      if (v.message) fact("Message", el("pre", { class: "message" + (v.status === "pass" ? " plain" : "") }, v.message));
    }
    main.appendChild(facts);
    if (t.raw) {
      main.appendChild(el("h2", null, "SQL"));
      var pre = el("pre", { class: "sql" });
      highlight(pre, t.raw);
      main.appendChild(pre);
    }
  }

  // -- graphs: dagre lays out, SVG draws, the mouse pans and zooms ------------------------------------
  function graphNode(n) { return { id: n.id, label: n.name, kind: n.type, failed: isFailed(n.id) }; }
  function isFailed(id) { var v = verdictOf(id); return !!(v && (v.status === "error" || v.status === "fail")); }
  function edgesAmong(ids) {
    var set = {};
    ids.forEach(function (id) { set[id] = true; });
    var edges = [];
    ids.forEach(function (id) { (byId[id].depends_on || []).forEach(function (p) { if (set[p]) edges.push([p, id]); }); });
    return edges;
  }
  function lineageOf(id) {
    var up = [id], down = [];
    for (var i = 0; i < up.length; i++) (byId[up[i]].depends_on || []).forEach(function (p) { if (byId[p] && GRAPH_TYPES[byId[p].type] && up.indexOf(p) < 0) up.push(p); });
    var queue = [id];
    while (queue.length) {
      (children[queue.shift()] || []).forEach(function (c) {
        if (GRAPH_TYPES[byId[c].type] && down.indexOf(c) < 0 && c !== id) { down.push(c); queue.push(c); }
      });
    }
    return up.concat(down);
  }
  function textWidth(s) { return Math.max(60, Math.min(360, s.length * 7 + 24)); }

  function drawGraph(box, nodes, edges, opts) {
    opts = opts || {};
    box.textContent = "";
    if (!nodes.length) { box.appendChild(el("p", { class: "empty" }, "Nothing to draw.")); return null; }
    var g = new dagre.graphlib.Graph();
    g.setGraph({ rankdir: "LR", nodesep: 14, ranksep: 56, marginx: 20, marginy: 20 });
    g.setDefaultEdgeLabel(function () { return {}; });
    nodes.forEach(function (n) { g.setNode(n.id, { width: textWidth(n.label), height: 34, data: n }); });
    edges.forEach(function (e) { g.setEdge(e[0], e[1]); });
    dagre.layout(g);
    var size = g.graph();
    if (opts.autoHeight) box.style.height = Math.max(160, Math.min(560, size.height + 24)) + "px";
    var root = svg("svg", { role: "img", "aria-label": box.getAttribute("aria-label") || "graph" });
    root.appendChild(svg("defs", null, svg("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" },
      svg("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: "#a9b2c3" }))));
    var layer = svg("g", { class: "layer" });
    root.appendChild(layer);
    var edgeEls = [];
    g.edges().forEach(function (e) {
      var pts = g.edge(e).points;
      var d = "M" + pts.map(function (p) { return p.x.toFixed(1) + "," + p.y.toFixed(1); }).join(" L");
      var path = svg("path", { class: "gedge", d: d, "data-from": e.v, "data-to": e.w });
      layer.appendChild(path);
      edgeEls.push(path);
    });
    var nodeEls = {};
    nodes.forEach(function (n) {
      var p = g.node(n.id);
      var kindName = n.kind === "model" || n.kind === "seed" || n.kind === "source" || n.kind === "snapshot" ? n.kind : "model";
      var group = svg("g", {
        class: "gnode" + (n.failed ? " failed" : "") + (opts.chosen && n.id === opts.focus ? " chosen" : ""),
        transform: "translate(" + (p.x - p.width / 2).toFixed(1) + "," + (p.y - p.height / 2).toFixed(1) + ")",
        "data-id": n.id, style: "--c:" + (KIND_COLOR[kindName] || "var(--model)"), tabindex: 0, role: "button",
      }, svg("title", null, n.kind + " " + n.label), svg("rect", { width: p.width, height: p.height }),
        svg("text", { x: 10, y: 14, class: "kind" }, n.kind), svg("text", { x: 10, y: 27 }, n.label));
      layer.appendChild(group);
      nodeEls[n.id] = group;
    });
    box.appendChild(root);
    var legend = el("div", { class: "legend" });
    ["model", "seed", "source", "snapshot"].forEach(function (k) {
      if (nodes.some(function (n) { return n.kind === k; })) legend.appendChild(el("span", { style: "--c:" + KIND_COLOR[k] }, k));
    });
    box.appendChild(legend);

    // Pan and zoom: a transform on the layer, changed by drag, wheel and the buttons.
    var view = { x: 0, y: 0, k: 1 };
    function apply() { layer.setAttribute("transform", "translate(" + view.x + "," + view.y + ") scale(" + view.k + ")"); }
    function fitBox(x0, y0, x1, y1) {
      var w = box.clientWidth || 800, h = box.clientHeight || 400;
      view.k = Math.min(1, Math.max(0.05, Math.min(w / (x1 - x0 || 1), h / (y1 - y0 || 1)) * 0.95));
      view.x = (w - (x1 + x0) * view.k) / 2;
      view.y = (h - (y1 + y0) * view.k) / 2;
      apply();
    }
    function fit() { fitBox(0, 0, size.width, size.height); }
    function fitTo(ids) {
      // The part of a large graph a focus is about, as large as the view allows.
      var x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
      ids.forEach(function (id) {
        var p = g.node(id);
        if (!p) return;
        x0 = Math.min(x0, p.x - p.width / 2); x1 = Math.max(x1, p.x + p.width / 2);
        y0 = Math.min(y0, p.y - p.height / 2); y1 = Math.max(y1, p.y + p.height / 2);
      });
      if (x0 < x1) fitBox(x0 - 20, y0 - 20, x1 + 20, y1 + 20);
    }
    function zoom(factor, cx, cy) {
      var k = Math.min(4, Math.max(0.05, view.k * factor));
      view.x = cx - (cx - view.x) * (k / view.k);
      view.y = cy - (cy - view.y) * (k / view.k);
      view.k = k;
      apply();
    }
    root.addEventListener("wheel", function (e) {
      e.preventDefault();
      var r = root.getBoundingClientRect();
      zoom(e.deltaY < 0 ? 1.15 : 1 / 1.15, e.clientX - r.left, e.clientY - r.top);
    }, { passive: false });
    var drag = null;
    root.addEventListener("pointerdown", function (e) {
      if (e.target.closest && e.target.closest("g.gnode")) return;
      drag = { x: e.clientX - view.x, y: e.clientY - view.y };
      root.classList.add("dragging");
      root.setPointerCapture(e.pointerId);
    });
    root.addEventListener("pointermove", function (e) { if (drag) { view.x = e.clientX - drag.x; view.y = e.clientY - drag.y; apply(); } });
    root.addEventListener("pointerup", function () { drag = null; root.classList.remove("dragging"); });
    var controls = el("div", { class: "controls" },
      el("button", { type: "button", title: "Zoom in", "aria-label": "Zoom in", onclick: function () { zoom(1.25, box.clientWidth / 2, box.clientHeight / 2); } }, "+"),
      el("button", { type: "button", title: "Zoom out", "aria-label": "Zoom out", onclick: function () { zoom(0.8, box.clientWidth / 2, box.clientHeight / 2); } }, "−"),
      el("button", { type: "button", title: "Fit", "aria-label": "Fit to view", onclick: fit }, "⤢"));
    box.appendChild(controls);
    fit();

    // Focus: a node, its ancestors and its descendants stand out; the rest fades.
    function focus(id) {
      var up = {}, down = {};
      up[id] = down[id] = true;
      var changed = true;
      while (changed) {
        changed = false;
        edges.forEach(function (e) {
          if (up[e[1]] && !up[e[0]]) { up[e[0]] = true; changed = true; }
          if (down[e[0]] && !down[e[1]]) { down[e[1]] = true; changed = true; }
        });
      }
      root.classList.add("focused");
      Object.keys(nodeEls).forEach(function (k) {
        nodeEls[k].classList.toggle("dim", !(up[k] || down[k]));
        nodeEls[k].classList.toggle("focus", k === id);
      });
      edgeEls.forEach(function (p) {
        var a = p.getAttribute("data-from"), b = p.getAttribute("data-to");
        var on = (up[a] && up[b]) || (down[a] && down[b]);
        p.classList.toggle("dim", !on);
        p.classList.toggle("hot", !!on);
      });
      if (opts.onFocus) opts.onFocus(id);
      return Object.keys(nodeEls).filter(function (k) { return up[k] || down[k]; });
    }
    function clear() {
      root.classList.remove("focused");
      Object.keys(nodeEls).forEach(function (k) { nodeEls[k].classList.remove("dim", "focus"); });
      edgeEls.forEach(function (p) { p.classList.remove("dim", "hot"); });
      if (opts.onFocus) opts.onFocus(null);
    }
    Object.keys(nodeEls).forEach(function (id) {
      nodeEls[id].addEventListener("click", function (e) { e.stopPropagation(); focus(id); });
      nodeEls[id].addEventListener("dblclick", function () { if (opts.onOpen) opts.onOpen(id); });
      nodeEls[id].addEventListener("keydown", function (e) { if (e.key === "Enter" && opts.onOpen) opts.onOpen(id); });
    });
    root.addEventListener("click", function (e) { if (!(e.target.closest && e.target.closest("g.gnode"))) clear(); });
    if (opts.focus && nodeEls[opts.focus] && !opts.chosen) {
      var around = focus(opts.focus);
      if (nodes.length > 60) fitTo(around);
    }
    return { focus: focus, clear: clear, fit: fit };
  }

  // -- the DAG ------------------------------------------------------------------------------------------
  function dagView(route) {
    var focusId = route.params.focus && byId[route.params.focus] ? route.params.focus : null;
    var only = route.params.only === "1" && focusId;
    main.appendChild(el("h1", null, "DAG"));
    var ids = only ? lineageOf(focusId) : D.nodes.filter(function (n) { return GRAPH_TYPES[n.type]; }).map(function (n) { return n.id; });
    function hashFor(id, justLineage) { return "#/dag" + (id ? "?focus=" + encodeURIComponent(id) + (justLineage ? "&only=1" : "") : ""); }
    var pick = el("select", { "aria-label": "Focus on" }, el("option", { value: "" }, "Focus on…"),
      D.nodes.filter(function (n) { return GRAPH_TYPES[n.type]; }).map(function (n) { return el("option", { value: n.id, selected: n.id === focusId }, n.type + " " + n.name); }));
    pick.addEventListener("change", function () { location.hash = hashFor(pick.value, only); });
    var actions = el("span", { class: "toolbar" });
    function showActions() {
      actions.textContent = "";
      if (!focusId) return;
      actions.appendChild(el("button", { type: "button", class: "button", "aria-pressed": String(!!only), onclick: function () {
        location.hash = hashFor(focusId, !only);
      } }, only ? "Show the whole DAG" : "Show only its lineage"));
      actions.appendChild(el("a", { class: "button", href: nodeHref(focusId) }, "Open " + byId[focusId].name));
    }
    showActions();
    main.appendChild(el("div", { class: "toolbar" }, pick, actions,
      el("span", { class: "hint" }, "Click a node to focus on it and its ancestors and descendants; double-click to open it. Drag to pan, scroll to zoom.")));
    var box = el("div", { class: "graph dag", "aria-label": "The project's DAG" });
    main.appendChild(box);
    main.appendChild(el("p", { class: "subtitle" }, plural(ids.length, "node") + "."));
    box.appendChild(el("p", { class: "empty" }, "Laying out " + plural(ids.length, "node") + "…"));
    // Laid out after the frame is painted, so the page answers while a large DAG is laid out.
    var timer = setTimeout(function () {
      drawGraph(box, ids.map(function (id) { return graphNode(byId[id]); }), edgesAmong(ids), {
        focus: focusId,
        onFocus: function (id) {
          if (!id || id === focusId) return;
          focusId = id;
          pick.value = id;
          history.replaceState(null, "", hashFor(id, only));
          showActions();
        },
        onOpen: function (id) { location.hash = nodeHref(id); },
      });
      box.setAttribute("data-drawn", "true");
    }, 0);
    cleanups.push(function () { clearTimeout(timer); });
  }

  // -- the last build -------------------------------------------------------------------------------------
  function buildSummary(run) {
    var counts = {};
    run.results.forEach(function (r) { counts[r.status] = (counts[r.status] || 0) + 1; });
    var cards = el("div", { class: "cards" });
    cards.appendChild(el("div", { class: "card" }, el("div", { class: "label" }, "command"), el("div", { class: "value small" }, "stockx " + (run.command || "?"))));
    cards.appendChild(el("div", { class: "card" }, el("div", { class: "label" }, "finished"), el("div", { class: "value small" }, when(run.generated_at))));
    cards.appendChild(el("div", { class: "card" }, el("div", { class: "label" }, "took"), el("div", { class: "value small" }, secs(run.elapsed))));
    ["success", "pass", "warn", "fail", "error", "skipped"].forEach(function (s) {
      if (counts[s]) cards.appendChild(el("a", { class: "card", href: "#/build" }, el("div", { class: "label" }, s), el("div", { class: "value" }, el("span", { class: "status-" + s }, fmt(counts[s])))));
    });
    return cards;
  }
  // The last command built another database (a scratch --database): its results say nothing
  // of the one documented, whose verdicts the model pages show.
  function elsewhere(run) {
    return el("p", { class: "message elsewhere" }, "This run was on another database, ", el("span", { class: "mono" }, run.database),
      ", not the one documented here: the verdicts on the model pages are this database's own.");
  }
  function buildView() {
    main.appendChild(el("h1", null, "Last build"));
    var run = D.last_run;
    if (!run) { main.appendChild(el("p", { class: "empty" }, "Nothing has run yet: `stockx build` writes the results shown here.")); return; }
    if (run.other_database) main.appendChild(elsewhere(run));
    main.appendChild(buildSummary(run));
    var failures = run.results.filter(function (r) { return r.status === "error" || r.status === "fail" || r.status === "warn"; });
    main.appendChild(el("h2", null, failures.length ? "Failures and warnings" : "No failures"));
    failures.forEach(function (r) {
      var n = byId[r.id];
      main.appendChild(el("div", { class: "panel failure " + r.status }, badge(r.status), " ", n ? link(n) : r.id,
        r.failures ? el("span", { class: "hint" }, "  " + plural(r.failures, "failing row")) : null,
        r.message ? el("pre", { class: "message" }, r.message) : null));
    });
    var filter = "all";
    var bar = el("div", { class: "toolbar", role: "tablist" });
    var table = el("table", { class: "grid results" });
    var longest = Math.max.apply(null, run.results.map(function (r) { return r.seconds || 0; }).concat([0.001]));
    function fill() {
      table.textContent = "";
      table.appendChild(el("tr", null, el("th", null, "Status"), el("th", null, "Node"), el("th", null, "Type"), el("th", { class: "num" }, "Duration"), el("th", null, ""), el("th", null, "Message")));
      run.results.forEach(function (r) {
        var n = byId[r.id];
        var type = n ? n.type : r.id.split(".")[0];
        var isTest = type === "test" || type === "unit_test";
        if (filter === "tests" && !isTest) return;
        if (filter === "nodes" && isTest) return;
        table.appendChild(el("tr", null, el("td", null, badge(r.status)), el("td", null, n ? link(n) : r.id), el("td", { class: "nowrap" }, typeLabel(type)),
          el("td", { class: "num" }, secs(r.seconds)),
          el("td", null, el("div", { class: "bar-track" }, el("div", { class: "bar " + r.status, style: "width:" + Math.max(1, 100 * (r.seconds || 0) / longest).toFixed(1) + "%" }))),
          el("td", null, r.message ? el("span", { class: "mono" }, r.message.split("\n")[0].slice(0, 200)) : "")));
      });
    }
    [["all", "Everything"], ["nodes", "Models and seeds"], ["tests", "Tests"]].forEach(function (p) {
      bar.appendChild(el("button", { type: "button", class: "button", "aria-pressed": String(p[0] === filter), onclick: function (e) {
        filter = p[0];
        Array.prototype.forEach.call(bar.children, function (b) { b.setAttribute("aria-pressed", String(b === e.currentTarget)); });
        fill();
      } }, p[1]));
    });
    main.appendChild(el("h2", null, "Every node, in run order"));
    main.appendChild(bar);
    fill();
    main.appendChild(table);
  }

  // -- the sync -----------------------------------------------------------------------------------------
  function syncSummary() {
    var s = D.sync;
    if (s.problem) return el("p", { class: "message" }, s.problem);
    if (!s.found) return el("p", { class: "empty" }, "No sync state yet at " + s.state + ": `stockx export --push` creates it.");
    var box = el("div", { class: "cards wide" });
    s.destinations.forEach(function (d) {
      var last = d.runs[d.runs.length - 1];
      box.appendChild(el("a", { class: "card", href: "#/sync" }, el("div", { class: "label url" }, d.url),
        el("div", { class: "label" }, d.models.join(", ")),
        el("div", { class: "value small" }, last ? "run " + last.run + ": " + last.status : "no runs"),
        el("div", { class: "label" }, last ? fmt(last.acknowledged) + " acknowledged, " + fmt(last.rejected) + " rejected" + (last.held ? ", " + fmt(last.held) + " held" : "") + " · " + when(last.started_at) : "")));
    });
    if (!s.destinations.length) return el("p", { class: "empty" }, "The sync state at " + s.state + " holds no push yet.");
    return box;
  }
  function syncView() {
    var s = D.sync;
    main.appendChild(el("h1", null, "Sync to Peak"));
    main.appendChild(el("p", { class: "subtitle" }, "State: ", el("span", { class: "mono" }, s.state)));
    if (s.problem) { main.appendChild(el("pre", { class: "message" }, s.problem)); return; }
    if (!s.found) { main.appendChild(el("p", { class: "empty" }, "No sync state yet: `stockx export --push` creates it.")); return; }
    if (!s.destinations.length) { main.appendChild(el("p", { class: "empty" }, "No push recorded yet.")); return; }
    if (s.destinations.length > 1) main.appendChild(destinationsTable(s.destinations));
    s.destinations.forEach(function (d) { main.appendChild(destinationSection(d, s)); });
  }
  // A family export pushes to one destination per Peak object: each one's last push at a
  // glance, a row leading to its section below.
  function destinationsTable(destinations) {
    var hasHeld = destinations.some(function (d) { return !!d.held; });
    var head = ["Destination", "Models", "Pushes", "Last run", "Status", "Sent", "Acknowledged", "Rejected"].concat(hasHeld ? ["Held"] : []);
    var t = el("table", { class: "grid destinations" }, el("tr", null, head.map(function (h, i) { return el("th", { class: i > 4 || i === 2 ? "num" : null }, h); })));
    destinations.forEach(function (d, n) {
      var last = d.runs[d.runs.length - 1] || {};
      var cells = [el("span", { class: "mono" }, d.url.split("/").pop()), d.models.join(", "), fmt(d.runs.length), last.run === undefined ? "–" : last.run,
        last.status ? el("span", { class: "status-" + last.status.replace(/ /g, "-") }, last.status) : "–",
        fmt(last.sent), fmt(last.acknowledged), fmt(last.rejected)].concat(hasHeld ? [d.held ? fmt(last.held) : "–"] : []);
      var row = el("tr", { class: "link", "data-url": d.url, title: d.url }, cells.map(function (c, i) { return el("td", { class: i > 4 || i === 2 ? "num" : null }, c); }));
      row.addEventListener("click", function () { main.querySelectorAll("section.destination")[n].scrollIntoView({ block: "start" }); });
      t.appendChild(row);
    });
    return el("div", { class: "destinations-overview" }, el("h2", null, "Destinations"), t);
  }
  function destinationSection(d, s) {
    var box = el("section", { class: "destination", "data-url": d.url }, el("h2", null, d.url));
    if (d.models.length) box.appendChild(el("p", { class: "subtitle models" }, (d.models.length === 1 ? "Model " : "Models ") + d.models.join(", ")));
    var last = d.runs[d.runs.length - 1];
    var hasHeld = d.runs.some(function (r) { return r.held !== undefined && r.held !== null; });
    if (last) {
      box.appendChild(el("h3", null, "Last push"));
      var cards = el("div", { class: "cards last-run" });
      function card(label, value, cls) { cards.appendChild(el("div", { class: "card" }, el("div", { class: "label" }, label), el("div", { class: "value" + (cls ? " " + cls : "") }, value))); }
      card("run", last.run + " · " + last.mode, "small");
      card("status", el("span", { class: "status-" + last.status.replace(/ /g, "-") }, last.status), "small");
      card("started", when(last.started_at), "small");
      card("took", secs(last.seconds), "small");
      card("rows in the table", fmt(last.table_rows));
      card("sent", fmt(last.sent));
      card("acknowledged", fmt(last.acknowledged));
      card("rejected", fmt(last.rejected));
      if (hasHeld) card("held", fmt(last.held));
      card("pages · retries", fmt(last.pages) + " · " + fmt(last.retries), "small");
      box.appendChild(cards);
      if (last.message) box.appendChild(el("pre", { class: "message" }, last.message));
    }
    box.appendChild(el("h3", null, "Pushes over time"));
    box.appendChild(pushChart(d.runs, hasHeld));
    box.appendChild(runsTable(d.runs, hasHeld));

    box.appendChild(el("h3", null, "Rows Peak refused"));
    if (!d.rejected.length) box.appendChild(el("p", { class: "empty" }, "None: every row sent was acknowledged (or delivered by a later push)."));
    else {
      box.appendChild(el("p", { class: "subtitle" }, plural(d.rejected.length, "row") + " refused and not delivered since; the next push sends " + (d.rejected.length === 1 ? "it" : "them") + " again." +
        (s.rejected_cut ? " Only the first " + fmt(s.rejected_shown) + " are listed: `stockx rejected` lists them all." : "")));
      var t = el("table", { class: "grid rejected" }, el("tr", null, el("th", null, "Run"), el("th", null, "Key"), el("th", { class: "num" }, "HTTP"),
        el("th", null, "Peak's answer"), el("th", null, "Row")));
      d.rejected.forEach(function (r) {
        t.appendChild(el("tr", null, el("td", { class: "num" }, r.run), el("td", { class: "mono" }, Array.isArray(r.key) ? r.key.join(" · ") : String(r.key)),
          el("td", { class: "num" }, r.status), el("td", { class: "answer" }, el("pre", null, pretty(r.response))),
          el("td", { class: "row" }, el("pre", null, pretty(r.row)))));
      });
      box.appendChild(t);
    }
    if (d.held) box.appendChild(heldRows(d.held, s));
    return box;
  }
  // Rows the last push held back because Peak lacks their parent (a family export's foreign
  // keys); absent when the state predates held rows.
  function heldRows(held, s) {
    var part = el("div", { class: "held-rows" }, el("h3", null, "Rows held back"));
    if (!held.length) { part.appendChild(el("p", { class: "empty" }, "None: the last push held no row back for a parent.")); return part; }
    part.appendChild(el("p", { class: "subtitle" }, plural(held.length, "row") + " held back by the last push: Peak does not hold " + (held.length === 1 ? "its" : "their") +
      " parent yet; the next push sends " + (held.length === 1 ? "it" : "them") + " once it does." +
      (s.held_cut ? " Only the first " + fmt(s.held_shown) + " are listed: `stockx rejected --held` lists them all." : "")));
    var t = el("table", { class: "grid held" }, el("tr", null, el("th", null, "Run"), el("th", null, "Key"), el("th", null, "Why"), el("th", null, "Row")));
    held.forEach(function (r) {
      t.appendChild(el("tr", null, el("td", { class: "num" }, r.run), el("td", { class: "mono" }, Array.isArray(r.key) ? r.key.join(" · ") : String(r.key)),
        el("td", { class: "answer" }, r.reason), el("td", { class: "row" }, el("pre", null, pretty(r.row)))));
    });
    part.appendChild(t);
    return part;
  }
  function pretty(value) {
    if (typeof value === "string") {
      try { return JSON.stringify(JSON.parse(value), null, 1); } catch (e) { return value; }
    }
    return JSON.stringify(value, null, 1);
  }
  function runsTable(runs, hasHeld) {
    var details = el("details", null, el("summary", null, "Every push (" + runs.length + ")"));
    var t = el("table", { class: "grid runs" });
    var head = ["Run", "Started (UTC)", "Mode", "Status", "Table", "Planned", "Sent", "Acknowledged", "Rejected"].concat(hasHeld ? ["Held"] : []).concat(["Pages", "Retries", "Seconds"]);
    t.appendChild(el("tr", null, head.map(function (h, i) { return el("th", { class: i > 3 ? "num" : null }, h); })));
    runs.slice().reverse().forEach(function (r) {
      var cells = [r.run, when(r.started_at), r.mode, el("span", { class: "status-" + r.status.replace(/ /g, "-") }, r.status),
        fmt(r.table_rows), fmt(r.planned), fmt(r.sent), fmt(r.acknowledged), fmt(r.rejected)].concat(hasHeld ? [fmt(r.held)] : [])
        .concat([fmt(r.pages), fmt(r.retries), r.seconds === null ? "–" : r.seconds.toFixed(1)]);
      t.appendChild(el("tr", { "data-run": r.run, title: r.message || "" }, cells.map(function (c, i) { return el("td", { class: i > 3 ? "num" : null }, c); })));
    });
    details.appendChild(t);
    return details;
  }
  function niceMax(v) {
    if (v <= 0) return 1;
    var p = Math.pow(10, Math.floor(Math.log10(v)));
    var m = [1, 2, 2.5, 5, 10].filter(function (x) { return x * p >= v; })[0];
    return m * p;
  }
  function pushChart(runs, hasHeld) {
    // One stacked bar per push, in time order: acknowledged, rejected, held, and sent but not
    // answered (an aborted push). Below, rejected and held again on their own scale, so a few
    // refused rows beside thousands acknowledged still show.
    var W = 960, left = 64, right = 16, top = 24, mainH = 190, gap = 34, stripH = 64, bottom = 34;
    var H = top + mainH + gap + stripH + bottom;
    var n = runs.length;
    var slot = (W - left - right) / Math.max(n, 1);
    var barW = Math.max(2, Math.min(36, slot * 0.7));
    var parts = [["acknowledged", "acknowledged"], ["rejected", "rejected"]].concat(hasHeld ? [["held", "held"]] : []).concat([["unanswered", "sent, not answered"]]);
    function pieces(r) {
      var out = { acknowledged: r.acknowledged || 0, rejected: r.rejected || 0, held: hasHeld ? (r.held || 0) : 0 };
      out.unanswered = Math.max(0, (r.sent || 0) - out.acknowledged - out.rejected);
      return out;
    }
    var maxMain = niceMax(Math.max.apply(null, runs.map(function (r) { var p = pieces(r); return p.acknowledged + p.rejected + p.held + p.unanswered; }).concat([1])));
    var maxStrip = niceMax(Math.max.apply(null, runs.map(function (r) { return (r.rejected || 0) + (hasHeld ? (r.held || 0) : 0); }).concat([1])));
    var root = svg("svg", { viewBox: "0 0 " + W + " " + H, role: "img", "aria-label": "Rows per push: acknowledged, rejected" + (hasHeld ? ", held" : "") + " and unanswered" });
    root.appendChild(svg("text", { x: left, y: 14, class: "title" }, "Rows per push (a bar's height: the rows it sent" + (hasHeld ? ", and those it held back" : "") + ")"));
    root.appendChild(svg("text", { x: left, y: top + mainH + gap - 8, class: "title" }, hasHeld ? "Rejected and held" : "Rejected"));
    function axis(y0, h, max) {
      // A middle line only where it is a whole number of rows.
      (max % 2 === 0 ? [0, 0.5, 1] : [0, 1]).forEach(function (f) {
        var y = y0 + h - f * h;
        root.appendChild(svg("line", { x1: left, x2: W - right, y1: y, y2: y, class: f ? "gridline" : "baseline" }));
        root.appendChild(svg("text", { x: left - 8, y: y + 4, "text-anchor": "end" }, fmt(Math.round(max * f))));
      });
    }
    axis(top, mainH, maxMain);
    axis(top + mainH + gap, stripH, maxStrip);
    var every = Math.max(1, Math.ceil(n / 10));
    runs.forEach(function (r, i) {
      var x = left + slot * i + (slot - barW) / 2;
      var p = pieces(r);
      var tip = "Run " + r.run + " (" + r.mode + ", " + r.status + ") " + when(r.started_at) + "\nsent " + fmt(r.sent) + ", acknowledged " + fmt(r.acknowledged) +
        ", rejected " + fmt(r.rejected) + (hasHeld ? ", held " + fmt(r.held) : "") + "\ntable " + fmt(r.table_rows) + " rows, " + fmt(r.pages) + " pages";
      var g = svg("g", { class: "run-bar", "data-run": r.run }, svg("title", null, tip));
      var y = top + mainH;
      parts.forEach(function (part) {
        var v = p[part[0]];
        if (!v) return;
        var h = mainH * v / maxMain;
        y -= h;
        g.appendChild(svg("rect", { x: x.toFixed(1), y: y.toFixed(1), width: barW.toFixed(1), height: Math.max(h, 0.5).toFixed(1), class: part[0] }));
      });
      var sy = top + mainH + gap + stripH;
      ["rejected", "held"].forEach(function (k) {
        var v = p[k];
        if (!v) return;
        var h = stripH * v / maxStrip;
        sy -= h;
        g.appendChild(svg("rect", { x: x.toFixed(1), y: sy.toFixed(1), width: barW.toFixed(1), height: Math.max(h, 1).toFixed(1), class: k }));
      });
      if (n <= 24) {  // few pushes: each bar says how many rows it sent
        g.appendChild(svg("text", { x: (x + barW / 2).toFixed(1), y: (y - 4).toFixed(1), "text-anchor": "middle", class: "sent" }, fmt(r.sent)));
        if (p.rejected || p.held) g.appendChild(svg("text", { x: (x + barW / 2).toFixed(1), y: (sy - 4).toFixed(1), "text-anchor": "middle", class: "sent" }, fmt(p.rejected + p.held)));
      }
      // A full-height invisible target, so a push with few rows is easy to point at.
      g.appendChild(svg("rect", { x: (left + slot * i).toFixed(1), y: top, width: slot.toFixed(1), height: mainH + gap + stripH, fill: "transparent" }));
      root.appendChild(g);
      if (i % every === 0 || i === n - 1) {
        var label = (r.started_at || "").slice(5, 16).replace("T", " ");
        root.appendChild(svg("text", { x: (left + slot * i + slot / 2).toFixed(1), y: H - bottom + 16, "text-anchor": "middle" }, "#" + r.run));
        root.appendChild(svg("text", { x: (left + slot * i + slot / 2).toFixed(1), y: H - bottom + 29, "text-anchor": "middle" }, label));
      }
    });
    var legend = el("div", { class: "chart-legend" }, parts.map(function (part) {
      return el("span", { style: "--c:var(--" + (part[0] === "acknowledged" ? "pass" : part[0] === "rejected" ? "fail" : part[0]) + ")" }, part[1]);
    }));
    return el("div", { class: "chart" }, root, legend);
  }

  // -- start ---------------------------------------------------------------------------------------------
  document.getElementById("project-name").textContent = D.project;
  document.title = D.project + " · stockx docs";
  renderTree();
  render();
  document.documentElement.setAttribute("data-ready", "true");
})();
