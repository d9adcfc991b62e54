/*
 * tvpusher reference viewer: what a set-top box should do with channel.xml.
 *
 * Plain ES5 (set-top-box browsers are old): XMLHttpRequest + DOMParser, no modules, no build.
 * It reads only the folder it is served from: channel.xml and the assets/ it names (page hrefs
 * must match assets/<sha256>.png|jpg, anything else is dropped). Everything taken from the
 * manifest is text: it reaches the DOM through textContent or attributes, never as markup.
 *
 * channel.xml of formats 2 and 3 names parts (assets/<sha256>.xml, a <part>): per column
 * (format 3: and for the home menu), each holding menu pages, items, or the names of further
 * parts (format 2: <part href/> elements; format 3: their sha256 in @parts, and pages without
 * the sha256 their href names, and an item's <key>s shared by all its pages). Parts are named
 * by their content, so each is fetched once and kept while a manifest names it; a poll of an
 * unchanged channel is a conditional GET (If-None-Match / If-Modified-Since) answered 304, and
 * a new version fetches only the parts that changed. Format 1 (everything in channel.xml) is
 * read as before.
 *
 * URL query (for operators and tests): poll=<ms> manifest poll interval (default 5000),
 * preload=0 disables preloading of the pages one key away (a baseline for latency),
 * digits=<ms> how long page-number entry waits for the next digit (default 1500).
 *
 * State for tests and box integrators: document.body.dataset (page, focus, version, item,
 * column, status, paintMs, paints, pageNumber "N/M" on item pages, typed digits) and window.tvViewer.
 */
(function () {
  "use strict";

  var NS = "urn:tvpusher:channel:1";
  var ID_RE = /^[A-Za-z0-9_.\-]{1,64}$/;
  var HREF_RE = /^assets\/[0-9a-f]{64}\.(png|jpg)$/;
  var PART_RE = /^assets\/[0-9a-f]{64}\.xml$/;
  var SHA_RE = /^[0-9a-f]{64}$/;
  // A manifest naming more parts than this is refused, not fetched (a year of 15,000 items in
  // one column is about 22,000 in format 3: a part per menu page or item, 5 names a part).
  var MAX_PARTS = 100000;
  var KEY_CODES = ["LEFT", "RIGHT", "UP", "DOWN", "OK", "BACK", "CH_UP", "CH_DOWN"];
  var COLOURS = ["red", "green", "yellow", "blue"];
  var RECENT = 16; // decoded page images kept besides the current page and its neighbours

  var params = readParams(window.location.search);
  var POLL_MS = Math.max(100, parseInt(params.poll, 10) || 5000);
  var PRELOAD = params.preload !== "0";
  var DIGITS_MS = Math.max(100, parseInt(params.digits, 10) || 1500);
  // Parts requested at a time. A browser keeps ~6 connections a host on HTTP/1.1; two more
  // wait in its queue, so a connection freed is not idle while the answer before reaches the
  // script and it asks for the next (bench/viewer_startup_bench.py, 500 items: 1: 9.7 s to
  // every part, 6: 6.6 s, 8: 5.9 s, at load 9 on 2 cores).
  var INFLIGHT = Math.max(1, Math.min(32, parseInt(params.inflight, 10) || 8));
  // Characters of parts kept in localStorage across reloads (?store=0: none). Browsers allow
  // an origin about 5 M; a year in one column (22,000 parts) is more, its first ones are kept.
  var STORE_CHARS = 3000000;
  var STORE_PREFIX = "tvpusher:";
  var COLOUR_WORDS = { red: "红", green: "绿", yellow: "黄", blue: "蓝" };

  var el = {
    body: document.body,
    viewport: document.getElementById("viewport"),
    screen: document.getElementById("screen"),
    focus: document.getElementById("focus"),
    ticker: document.getElementById("ticker"),
    tickerText: document.getElementById("ticker-text"),
    status: document.getElementById("status"),
    pager: document.getElementById("pager"),
    keys: document.getElementById("keys"),
    legend: document.getElementById("legend")
  };

  var state = {
    m: null, // the manifest model on screen
    text: null, // the manifest text last seen (unchanged text is not parsed again)
    pageId: null, // the page on screen or being loaded
    focus: 0, // focused entry number on a menu page, 0 when none
    shownHref: null,
    token: 0, // bumps on every navigation, so a late image load cannot win over a newer one
    latencies: [],
    /** The page a key is turning to while its image loads, and when the key came. */
    turning: null,
    problem: "", // "" | "manifest" | "fetch" | "image"
    typed: "", // digits of a page number being entered on an item page
    typedTimer: null,
    legendFor: null, // the manifest model the legend was drawn from
    waiting: [], // {key, t0} pressed while the page they lead to was not loaded yet, in order
    rebuild: null // at start-up: builds the partial model again soon, if parts came in
  };
  var cache = {}; // href -> HTMLImageElement (decoded, or decoding)
  var parts = Object.create(null); // href -> parsed <part> element, while a manifest names it
  var refused = Object.create(null); // href -> true: a part whose bytes were refused
  var store = openStore(params.store !== "0");
  var validators = { etag: "", modified: "" }; // of the channel.xml last applied
  var recent = [];

  // ------------------------------------------------------------ manifest ----

  // The hidden attribute, not the property: old box browsers do not reflect it (CSS does the rest).
  function visible(node, yes) {
    if (yes) node.removeAttribute("hidden");
    else node.setAttribute("hidden", "");
  }

  function isVisible(node) {
    return !node.hasAttribute("hidden");
  }

  // A malformed escape (?poll=%E0%A4%A) throws URIError: the viewer would never start, so such
  // a part is read as it stands (then ignored as any unknown value is).
  function decodePart(text) {
    try {
      return decodeURIComponent(text);
    } catch (e) {
      return text;
    }
  }

  function readParams(search) {
    var out = {};
    search.replace(/^\?/, "").split("&").forEach(function (kv) {
      if (!kv) return;
      var i = kv.indexOf("=");
      var k = decodePart(i < 0 ? kv : kv.slice(0, i));
      out[k] = i < 0 ? "" : decodePart(kv.slice(i + 1));
    });
    return out;
  }

  function kids(node, name) {
    var out = [];
    for (var c = node.firstChild; c; c = c.nextSibling) {
      if (c.nodeType === 1 && c.namespaceURI === NS && c.localName === name) out.push(c);
    }
    return out;
  }

  function kid(node, name) {
    return kids(node, name)[0] || null;
  }

  function text(node, name) {
    var k = kid(node, name);
    return k ? k.textContent : "";
  }

  function uint(node, attr) {
    var v = node.getAttribute(attr);
    if (v === null || !/^\s*\d+\s*$/.test(v)) return null;
    return parseInt(v, 10);
  }

  /** Reads one <page>; returns null for a page the viewer must not load. Format 3: `turns`,
   *  [code, to] keys before its own (its item's turns); `shared`, its item's <key>s, after. */
  function readPage(node, owner, shared, turns) {
    var id = node.getAttribute("id") || "";
    var href = node.getAttribute("href") || "";
    if (!ID_RE.test(id) || !HREF_RE.test(href)) return null;
    var page = {
      id: id,
      href: href,
      width: uint(node, "width") || 0,
      height: uint(node, "height") || 0,
      entries: [],
      keys: {},
      owner: owner
    };
    kids(node, "entry").forEach(function (e) {
      var number = uint(e, "number");
      var to = e.getAttribute("to") || "";
      if (!number || !ID_RE.test(to)) return;
      page.entries.push({
        number: number,
        to: to,
        item: e.getAttribute("item") || "",
        x: uint(e, "x"),
        y: uint(e, "y"),
        w: uint(e, "w"),
        h: uint(e, "h")
      });
    });
    page.entries.sort(function (a, b) { return a.number - b.number; });
    var keys = kids(node, "key").concat(shared || []).map(function (k) { return [k.getAttribute("code"), k.getAttribute("to") || ""]; });
    (turns || []).concat(keys).forEach(function (k) {
      var code = k[0];
      var to = k[1];
      if (KEY_CODES.indexOf(code) >= 0 && ID_RE.test(to) && !page.keys[code]) page.keys[code] = to;
    });
    return page;
  }

  function parseXml(xml, name) {
    var doc = new DOMParser().parseFromString(xml, "application/xml");
    if (doc.getElementsByTagName("parsererror").length) throw new Error("not well-formed XML");
    var root = doc.documentElement;
    if (!root || root.namespaceURI !== NS || root.localName !== name) throw new Error("not a " + name + " manifest");
    return root;
  }

  function partHref(sha) {
    return SHA_RE.test(sha || "") ? "assets/" + sha + ".xml" : "";
  }

  /** The part an element names at the top of a tree: @part (format 3) or @href (format 2). */
  function topRef(node) {
    var href = node.getAttribute("part") !== null ? partHref(node.getAttribute("part")) : node.getAttribute("href") || "";
    return PART_RE.test(href) ? href : "";
  }

  /** The parts a channel.xml names: {href, column} ("" for the home menu's); [] for format 1. */
  function rootRefs(root) {
    var out = [];
    var home = kid(root, "home");
    if (home && topRef(home)) out.push({ href: topRef(home), column: "" });
    var columns = kid(root, "columns");
    (columns ? kids(columns, "column") : []).forEach(function (c) {
      if (topRef(c)) out.push({ href: topRef(c), column: c.getAttribute("id") || "" });
    });
    return out;
  }

  /** The parts a part names, in order: <part href/> (format 2) or @parts (format 3). */
  function childRefs(part) {
    var out = [];
    kids(part, "part").forEach(function (r) {
      var h = r.getAttribute("href") || "";
      if (PART_RE.test(h)) out.push(h);
    });
    (part.getAttribute("parts") || "").split(/\s+/).forEach(function (sha) {
      if (partHref(sha)) out.push(partHref(sha));
    });
    return out;
  }

  /**
   * Parts kept across reloads in localStorage (a rebooted box asks only for what changed):
   * a part's bytes never change under its name, so a stored one is as good as a fetched one.
   * At most STORE_CHARS characters; only the parts of the channel last applied are kept. null
   * when there is no localStorage (or ?store=0).
   */
  function openStore(wanted) {
    if (!wanted) return null;
    var ls;
    try {
      ls = window.localStorage;
      ls.setItem(STORE_PREFIX + "probe", "1");
      ls.removeItem(STORE_PREFIX + "probe");
    } catch (e) {
      return null;
    }
    var s = { ls: ls, of: Object.create(null), chars: 0, full: false };
    for (var i = 0; i < ls.length; i++) {
      var k = ls.key(i);
      if (k && k.indexOf(STORE_PREFIX + "assets/") === 0) {
        var n = (ls.getItem(k) || "").length;
        s.of[k.slice(STORE_PREFIX.length)] = n;
        s.chars += n;
      }
    }
    return s;
  }

  function stored(href) {
    if (!store || store.of[href] === undefined) return null;
    try {
      return store.ls.getItem(STORE_PREFIX + href);
    } catch (e) {
      return null;
    }
  }

  function storePart(href, xml) {
    if (!store || store.full || store.of[href] !== undefined) return;
    if (store.chars + xml.length > STORE_CHARS) {
      store.full = true;
      return;
    }
    try {
      store.ls.setItem(STORE_PREFIX + href, xml);
      store.of[href] = xml.length;
      store.chars += xml.length;
    } catch (e) {
      store.full = true; // the browser's quota, smaller than ours
    }
  }

  function unstore(href) {
    if (!store || store.of[href] === undefined) return;
    store.chars -= store.of[href];
    delete store.of[href];
    store.full = false;
    try {
      store.ls.removeItem(STORE_PREFIX + href);
    } catch (e) {
      // Nothing to do: it is gone from the index, so it is not read again.
    }
  }

  /** -1, 0 or 1: a before b in the order parts are fetched. A part's place is [column number,
   *  child index, child index, ...]; compared by the child indices first, then the column, so
   *  the columns' tops come first, then each column's first menu page and the items it lists,
   *  in reading order, for every column alike (what a box can show first). */
  function before(a, b) {
    var n = Math.max(a.length, b.length);
    for (var i = 1; i < n; i++) {
      if (i >= a.length) return -1;
      if (i >= b.length) return 1;
      if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
    }
    return a[0] === b[0] ? 0 : a[0] < b[0] ? -1 : 1;
  }

  /** A binary heap of {at, ...} by `before(at)`: the next part to fetch in O(log n). */
  function Queue() {
    this.h = [];
  }
  Queue.prototype.push = function (x) {
    var h = this.h;
    var i = h.length;
    h.push(x);
    while (i > 0) {
      var up = (i - 1) >> 1;
      if (before(h[up].at, x.at) <= 0) break;
      h[i] = h[up];
      i = up;
    }
    h[i] = x;
  };
  Queue.prototype.pop = function () {
    var h = this.h;
    var top = h[0];
    var last = h.pop();
    if (h.length) {
      var i = 0;
      for (;;) {
        var c = 2 * i + 1;
        if (c >= h.length) break;
        if (c + 1 < h.length && before(h[c + 1].at, h[c].at) < 0) c++;
        if (before(last.at, h[c].at) <= 0) break;
        h[i] = h[c];
        i = c;
      }
      h[i] = last;
    }
    return top;
  };

  /**
   * Fetches the parts under refs that are not kept yet, INFLIGHT requests at a time, the first
   * in reading order first (`before`); progress() after each one kept, done(error or "") once
   * every one is there or one failed. A part is checked for its element and column before it
   * is kept (the inner parts of format 3 and the home menu's name no column). What the model
   * holds does not depend on the order the answers come in: buildModel walks the tree itself.
   */
  function loadParts(refs, done, progress) {
    var inflight = 0;
    var failed = "";
    var finished = false;
    var seen = Object.create(null);
    var count = 0;
    var queue = new Queue();
    function need(href, column, at) {
      if (seen[href] || failed) return;
      seen[href] = true;
      if (++count > MAX_PARTS) {
        failed = "too many parts";
        return;
      }
      if (parts[href]) {
        childRefs(parts[href]).forEach(function (h, i) { need(h, column, at.concat(i)); });
        return;
      }
      queue.push({ href: href, column: column, at: at });
    }
    function pump() {
      while (!failed && inflight < INFLIGHT && queue.h.length) fetchPart(queue.pop());
      if (!finished && inflight === 0 && (failed || !queue.h.length)) {
        finished = true;
        done(failed);
      }
    }
    /** "" once a part's text is checked and kept (its children queued), else the reason. */
    function take(q, xml) {
      try {
        var el = parseXml(xml, "part");
        var of = el.getAttribute("column");
        if (of !== null && of !== q.column) throw new Error("part of another column");
        parts[q.href] = el;
        delete refused[q.href];
        childRefs(el).forEach(function (h, i) { need(h, q.column, q.at.concat(i)); });
        return "";
      } catch (err) {
        return err.message;
      }
    }
    function fetchPart(q) {
      var kept = stored(q.href);
      if (kept !== null) {
        if (!take(q, kept)) {
          if (progress) progress(q.href);
          return;
        }
        unstore(q.href); // damaged in storage: fetched again
      }
      inflight++;
      // A part refused once is asked for past the browser's cache: it was stored as immutable,
      // and the headend may have put the right bytes under its name since.
      get(q.href, { "Cache-Control": refused[q.href] ? "no-cache" : "" }, function (xhr) {
        inflight--;
        if (finished) return;
        if (xhr.status !== 200) {
          failed = failed || q.href + ": HTTP " + xhr.status;
        } else {
          var why = take(q, xhr.responseText);
          if (why) {
            failed = failed || q.href + ": " + why;
            refused[q.href] = true;
          } else {
            storePart(q.href, xhr.responseText);
          }
        }
        if (!failed && progress) progress(q.href);
        pump();
      });
    }
    refs.forEach(function (r, i) { need(r.href, r.column, [i]); });
    pump();
  }

  /** Keeps only the parts the manifest on screen names. */
  function pruneParts(root) {
    var keep = Object.create(null);
    function mark(href) {
      if (keep[href] || !parts[href]) return;
      keep[href] = true;
      childRefs(parts[href]).forEach(mark);
    }
    rootRefs(root).forEach(function (r) { mark(r.href); });
    for (var h in parts) if (!keep[h]) delete parts[h];
    if (store) for (var s in store.of) if (!keep[s]) unstore(s);
  }

  /** The model of a parsed channel.xml (formats 2 and 3: with the parts it names, from
   *  `parts`); throws Error with a reason when it is unusable. `partial` (at start-up, parts
   *  still coming): each column holds its pages up to its first part not there yet (`cut`),
   *  so every page has the index it will have; m.partial says whether any column was cut. */
  function buildModel(root, partial) {
    var version = root.getAttribute("version") || "";
    if (!/^\d+$/.test(version)) throw new Error("channel without a version");

    var m = {
      version: version,
      name: root.getAttribute("name") || "",
      width: uint(root, "width") || 1280,
      height: uint(root, "height") || 720,
      homeId: root.getAttribute("home") || "",
      // No prototype: an id such as "constructor" or "__proto__" must not find Object's members.
      pages: Object.create(null),
      home: [],
      columns: [],
      column: Object.create(null),
      items: Object.create(null),
      alerts: [],
      partial: false,
      columnsKnown: true // every column is in m.columns that the whole channel has
    };

    // An item's pages (format 3): `shared`, the item's <key>s; `turns`, whether each page turns
    // to the pages beside it (LEFT/RIGHT first), by the ids of all its <page>s.
    function addPages(nodes, kind, ownerId, list, shared, turns) {
      var ids = nodes.map(function (n) { return n.getAttribute("id") || ""; });
      nodes.forEach(function (n, i) {
        var t = [];
        if (turns && i > 0) t.push(["LEFT", ids[i - 1]]);
        if (turns && i + 1 < ids.length) t.push(["RIGHT", ids[i + 1]]);
        var p = readPage(n, { kind: kind, id: ownerId, index: list.length }, shared, t);
        if (p && !m.pages[p.id]) {
          m.pages[p.id] = p;
          list.push(p.id);
        }
      });
    }

    var home = kid(root, "home");
    var homePart = home && topRef(home) ? parts[topRef(home)] : null;
    if (home) addPages(kids(homePart || home, "page"), "home", "", m.home);
    if (!m.home.length) throw new Error("no home page");
    if (!m.pages[m.homeId] || m.pages[m.homeId].owner.kind !== "home") m.homeId = m.home[0];

    function addItems(nodes) {
      nodes.forEach(function (it) {
        var id = it.getAttribute("id") || "";
        if (!ID_RE.test(id) || m.items[id]) return;
        var item = { id: id, column: it.getAttribute("column") || "", version: it.getAttribute("version") || "", title: text(it, "title"), pages: [] };
        var turns = it.getAttribute("turns") === "true" || it.getAttribute("turns") === "1";
        addPages(kids(it, "page"), "item", id, item.pages, kids(it, "key"), turns);
        if (item.pages.length) m.items[id] = item;
      });
    }

    // A column's part and the parts it names, depth first: its menu pages come in order. Each
    // part once: a tree naming one part many times on every level is not walked exponentially.
    var walked = Object.create(null);
    function addPart(href, col, depth) {
      if (col.cut) return;
      var part = parts[href];
      if (!part && partial) col.cut = m.partial = true;
      if (!part || depth > 32 || walked[href]) return;
      walked[href] = true;
      addPages(kids(part, "page"), "column", col.id, col.pages);
      addItems(kids(part, "item"));
      childRefs(part).forEach(function (h) { addPart(h, col, depth + 1); });
    }

    var columns = kid(root, "columns");
    (columns ? kids(columns, "column") : []).forEach(function (c) {
      var id = c.getAttribute("id") || "";
      if (!ID_RE.test(id) || m.column[id]) return;
      var key = c.getAttribute("key");
      var col = { id: id, name: c.getAttribute("name") || "", key: COLOURS.indexOf(key) >= 0 ? key : "", pages: [], cut: false };
      addPages(kids(c, "page"), "column", id, col.pages);
      if (topRef(c)) addPart(topRef(c), col, 0);
      if (!col.pages.length) {
        if (col.cut) m.columnsKnown = false;
        return;
      }
      m.columns.push(col);
      m.column[id] = col;
    });

    var items = kid(root, "items");
    addItems(items ? kids(items, "item") : []);

    var alerts = kid(root, "alerts");
    (alerts ? kids(alerts, "alert") : []).forEach(function (a) {
      var id = a.getAttribute("id") || "";
      var alert = { id: id, level: a.getAttribute("level") || "info", until: Date.parse(a.getAttribute("until") || "") || 0, text: text(a, "text"), pages: [] };
      addPages(kids(a, "page"), "alert", id, alert.pages);
      if (alert.text) m.alerts.push(alert);
    });
    return m;
  }

  // ---------------------------------------------------------- navigation ----

  function ownerPages(m, owner) {
    if (owner.kind === "home") return m.home;
    if (owner.kind === "column") return m.column[owner.id] ? m.column[owner.id].pages : [];
    if (owner.kind === "item") return m.items[owner.id] ? m.items[owner.id].pages : [];
    for (var i = 0; i < m.alerts.length; i++) if (m.alerts[i].id === owner.id) return m.alerts[i].pages;
    return [];
  }

  function sibling(m, page, delta) {
    var list = ownerPages(m, page.owner);
    return list[page.owner.index + delta] || null;
  }

  function columnOf(m, page) {
    if (page.owner.kind === "column") return m.column[page.owner.id] || null;
    if (page.owner.kind === "item" && m.items[page.owner.id]) return m.column[m.items[page.owner.id].column] || null;
    return null;
  }

  /** Where a key leads: the page's own <key>, else what a box would sensibly do. */
  function target(code) {
    var m = state.m;
    var page = m.pages[state.pageId];
    if (!page) return null;
    if (page.keys[code] && m.pages[page.keys[code]]) return page.keys[code];
    if (code === "LEFT") return sibling(m, page, -1);
    if (code === "RIGHT") return sibling(m, page, +1);
    if (code === "BACK") {
      if (page.owner.kind === "item" || page.owner.kind === "alert") {
        var col = columnOf(m, page);
        return col ? menuPageFor(col.pages, page.owner.id) : m.homeId;
      }
      return page.owner.kind === "home" ? null : menuPageFor(m.home, page.owner.id);
    }
    if (code === "CH_UP" || code === "CH_DOWN") {
      if (!m.columns.length) return null;
      var cur = columnOf(m, page);
      var i = cur ? m.columns.indexOf(cur) : -1;
      var n = m.columns.length;
      i = code === "CH_UP" ? (i + 1) % n : (i < 0 ? n - 1 : (i - 1 + n) % n);
      return m.columns[i].pages[0];
    }
    return null;
  }

  /** The menu page (of a list) whose entry leads to ownerId; the first page otherwise. */
  function menuPageFor(list, ownerId) {
    for (var i = 0; i < list.length; i++) {
      if (entryFor(state.m.pages[list[i]], ownerId)) return list[i];
    }
    return list[0] || null;
  }

  function entryFor(page, ownerId) {
    if (!page || !ownerId) return null;
    for (var i = 0; i < page.entries.length; i++) {
      var e = page.entries[i];
      var to = state.m.pages[e.to];
      if (e.item === ownerId || (to && to.owner.kind !== "home" && to.owner.id === ownerId)) return e;
    }
    return null;
  }

  function entryByNumber(page, number) {
    for (var i = 0; i < page.entries.length; i++) if (page.entries[i].number === number) return page.entries[i];
    return null;
  }

  function neighbours(page) {
    var out = [];
    var m = state.m;
    function add(id) {
      if (id && m.pages[id] && out.indexOf(id) < 0 && id !== page.id) out.push(id);
    }
    // Most likely first: the next page, the focused entry, then the rest.
    add(page.keys.RIGHT || sibling(m, page, +1));
    var f = entryByNumber(page, state.focus);
    if (f) add(f.to);
    page.entries.forEach(function (e) { add(e.to); });
    KEY_CODES.forEach(function (c) { add(page.keys[c]); });
    add(sibling(m, page, -1));
    m.columns.forEach(function (c) { if (c.key) add(c.pages[0]); });
    return out;
  }

  // ------------------------------------------------------------- display ----

  function image(href) {
    var img = cache[href];
    if (img && img.complete && !img.naturalWidth) img = null; // failed earlier: try again
    if (!img) {
      img = new Image();
      img.alt = "";
      img.src = href;
      cache[href] = img;
      // Decoding off the main path is what makes a page turn show at once.
      if (img.decode) img.decode().then(null, function () {});
    }
    return img;
  }

  function ready(img) {
    return img.complete && img.naturalWidth > 0;
  }

  function go(pageId, opts) {
    var m = state.m;
    var page = m && m.pages[pageId];
    if (!page) return false;
    opts = opts || {};
    var back = { pageId: state.pageId, focus: state.focus };
    state.pageId = pageId;
    var focus = 0;
    if (page.entries.length) {
      var e = (opts.focus && entryByNumber(page, opts.focus)) || entryFor(page, opts.from) || page.entries[0];
      focus = e.number;
    }
    state.focus = focus;
    var token = ++state.token;
    var img = image(page.href);
    var t0 = opts.t0;
    state.turning = t0 === undefined ? null : { pageId: pageId, t0: t0 };
    if (ready(img)) {
      swap(page, img, t0);
    } else {
      img.onload = function () {
        if (token === state.token) swap(page, img, t0);
      };
      img.onerror = function () {
        if (token !== state.token) return;
        if (cache[page.href] === img) delete cache[page.href];
        // Stay where the screen is, so that the next key starts from what the viewer sees.
        if (back.pageId && state.m.pages[back.pageId]) {
          state.pageId = back.pageId;
          state.focus = back.focus;
        }
        problem("image", "页面图片缺失");
      };
    }
    publish();
    return true;
  }

  function swap(page, img, t0) {
    var current = document.getElementById("page");
    if (current !== img) {
      img.id = "page";
      if (current) {
        current.removeAttribute("id");
        el.screen.replaceChild(img, current);
      } else {
        el.screen.insertBefore(img, el.focus);
      }
    }
    // The title, as an attribute (text, never markup), for screen readers and integrators.
    img.alt = label(page);
    state.shownHref = page.href;
    if (state.problem === "image") problem("", "");
    drawLegend();
    layout();
    drawFocus();
    drawPager();
    state.turning = null;
    if (t0 !== undefined) measure(page.id, t0);
    preload(page);
    publish();
  }

  function label(page) {
    var m = state.m;
    var o = page.owner;
    if (o.kind === "item" && m.items[o.id]) return m.items[o.id].title;
    if (o.kind === "column" && m.column[o.id]) return m.column[o.id].name;
    return m.name;
  }

  /** Key press to paint: the frame after the swap has been produced once this rAF's task ran. */
  function measure(pageId, t0) {
    var raf = window.requestAnimationFrame || function (f) { setTimeout(f, 16); };
    raf(function () {
      var done = function () {
        var ms = now() - t0;
        state.latencies.push({ page: pageId, ms: ms });
        el.body.setAttribute("data-paint-ms", ms.toFixed(1));
        el.body.setAttribute("data-paints", String(state.latencies.length));
      };
      if (window.MessageChannel) {
        var ch = new MessageChannel();
        ch.port1.onmessage = done;
        ch.port2.postMessage(0);
      } else {
        setTimeout(done, 0);
      }
    });
  }

  function preload(page) {
    var keep = {};
    keep[page.href] = true;
    recent = recent.filter(function (h) { return h !== page.href; });
    recent.unshift(page.href);
    recent.length = Math.min(recent.length, PRELOAD ? RECENT : 1);
    recent.forEach(function (h) { keep[h] = true; });
    if (PRELOAD) {
      neighbours(page).forEach(function (id) {
        var href = state.m.pages[id].href;
        keep[href] = true;
        image(href);
      });
    }
    // Boxes have little memory: forget what is neither near nor recent.
    for (var h in cache) if (Object.prototype.hasOwnProperty.call(cache, h) && !keep[h]) delete cache[h];
  }

  function layout() {
    var page = state.m && state.m.pages[state.pageId];
    var w = (page && page.width) || (state.m && state.m.width) || 1280;
    var h = (page && page.height) || (state.m && state.m.height) || 720;
    var vw = el.viewport.clientWidth || window.innerWidth;
    var tickerH = isVisible(el.ticker) ? el.ticker.offsetHeight : 0;
    el.legend.style.bottom = tickerH + "px";
    var vh = (el.viewport.clientHeight || window.innerHeight) - tickerH - (isVisible(el.legend) ? el.legend.offsetHeight : 0);
    var s = Math.min(vw / w, vh / h);
    var st = el.screen.style;
    st.width = w + "px";
    st.height = h + "px";
    st.left = Math.round((vw - w * s) / 2) + "px";
    st.top = Math.round((vh - h * s) / 2) + "px"; // above the ticker when there is one
    st.transform = st.webkitTransform = "scale(" + s + ")";
  }

  function drawFocus() {
    var page = state.m && state.m.pages[state.pageId];
    var e = page && entryByNumber(page, state.focus);
    if (!e || e.x === null || e.y === null || !e.w || !e.h || state.shownHref !== page.href) {
      visible(el.focus, false);
      return;
    }
    // The entry's rectangle is the frame, in page pixels (the screen is scaled as a whole): the
    // renderer leaves the air around the text inside it. Widening it here put the frame 16 px
    // left of the home tiles, whose rectangle is the tile itself.
    var st = el.focus.style;
    st.left = e.x + "px";
    st.top = e.y + "px";
    st.width = e.w + "px";
    st.height = e.h + "px";
    visible(el.focus, true);
  }

  function liveAlerts() {
    var t = Date.now();
    return (state.m ? state.m.alerts : []).filter(function (a) { return !a.until || a.until > t; });
  }

  function drawTicker() {
    var live = liveAlerts();
    if (!live.length) {
      if (isVisible(el.ticker)) {
        visible(el.ticker, false);
        el.tickerText.textContent = "";
        layout();
      }
      return;
    }
    var level = live.some(function (a) { return a.level === "urgent"; }) ? "urgent" : live.some(function (a) { return a.level === "warning"; }) ? "warning" : "info";
    var msg = live.map(function (a) { return a.text; }).join("　　◆　　");
    if (live.some(function (a) { return a.pages.length; })) msg += "　　［信息键 查看详情］";
    if (el.tickerText.textContent !== msg) {
      el.tickerText.textContent = msg;
      // About six characters a second, whatever the length.
      el.tickerText.style.animationDuration = Math.max(8, Math.round(msg.length / 6) + 6) + "s";
    }
    el.ticker.className = level;
    if (!isVisible(el.ticker)) {
      visible(el.ticker, true);
      layout();
    }
  }

  function problem(kind, message) {
    state.problem = kind;
    el.status.textContent = message;
    visible(el.status, !!message);
    publish();
  }

  function publish() {
    var m = state.m;
    var page = m && m.pages[state.pageId];
    var b = el.body;
    b.setAttribute("data-page", state.pageId || "");
    b.setAttribute("data-shown", (page && state.shownHref === page.href) ? page.id : "");
    b.setAttribute("data-focus", String(state.focus));
    b.setAttribute("data-version", m ? m.version : "");
    b.setAttribute("data-item", page && page.owner.kind === "item" ? page.owner.id : "");
    var col = page && columnOf(m, page);
    b.setAttribute("data-column", col ? col.id : "");
    b.setAttribute("data-status", state.problem ? "error-" + state.problem : m && !m.partial ? "ok" : "loading");
    b.setAttribute("data-partial", m && m.partial ? "1" : "");
    b.setAttribute("data-waiting", String(state.waiting.length));
    var num = pageNumber(page);
    b.setAttribute("data-page-number", num ? num.n + "/" + num.of : "");
    b.setAttribute("data-typed", state.typed);
  }

  /** {n, of} for an item page (1-based, contents pages counted), else null. */
  function pageNumber(page) {
    if (!page || page.owner.kind !== "item" || !state.m.items[page.owner.id]) return null;
    return { n: page.owner.index + 1, of: state.m.items[page.owner.id].pages.length };
  }

  /** 第N/M页 at the top right of an item of several pages; 输入页码 while digits are typed. */
  function drawPager(message) {
    var page = state.m && state.m.pages[state.pageId];
    var num = pageNumber(page);
    if (message) {
      el.pager.textContent = message;
    } else if (state.typed) {
      el.pager.textContent = "输入页码 " + state.typed + "_ /" + (num ? num.of : "");
    } else if (num && num.of > 1) {
      el.pager.textContent = "第" + num.n + "/" + num.of + "页";
    } else {
      el.pager.textContent = "";
    }
    el.pager.className = state.typed || message ? "typing" : "";
    showBar();
  }

  /** The colour keys bound to columns: swatch, word and column name. Menu pages draw their own. */
  function drawLegend() {
    var m = state.m;
    if (m && state.legendFor !== m) {
      state.legendFor = m;
      while (el.keys.firstChild) el.keys.removeChild(el.keys.firstChild);
      m.columns.forEach(function (c) {
        if (!c.key) return;
        var k = document.createElement("span");
        k.className = "key key-" + c.key;
        var sw = document.createElement("i");
        k.appendChild(sw);
        k.appendChild(document.createTextNode(COLOUR_WORDS[c.key] + " " + c.name));
        el.keys.appendChild(k);
      });
    }
    showBar();
  }

  /** The bar under item and alert pages: the legend at the left, the page number at the right. */
  function showBar() {
    var page = state.m && state.m.pages[state.pageId];
    var want = !!(page && (page.owner.kind === "item" || page.owner.kind === "alert") && (el.keys.firstChild || el.pager.textContent));
    if (want !== isVisible(el.legend)) {
      visible(el.legend, want);
      layout();
    }
  }

  function clearTyped() {
    if (state.typedTimer) clearTimeout(state.typedTimer);
    state.typedTimer = null;
    state.typed = "";
  }

  /** A digit on an item page: a page number, taken when it has as many digits as the last
   *  page's number or after a short pause. On a contents page a single digit is the section
   *  of that number (as the page labels it), two or more a page number. */
  function typeDigit(key, t0) {
    var page = state.m.pages[state.pageId];
    var num = pageNumber(page);
    if (!num || num.of < 2) {
      var only = entryByNumber(page, key === "0" ? 10 : parseInt(key, 10));
      if (only) go(only.to, { t0: t0 });
      return;
    }
    if (state.typedTimer) clearTimeout(state.typedTimer);
    state.typed = (state.typed + key).replace(/^0+/, "");
    if (!state.typed) {
      clearTyped();
      publish();
      drawPager();
      return;
    }
    var commit = function () {
      var n = parseInt(state.typed, 10);
      var list = state.m.items[page.owner.id] ? state.m.items[page.owner.id].pages : [];
      var section = state.typed.length === 1 ? entryByNumber(page, n) : null;
      clearTyped();
      if (section && state.pageId === page.id) {
        go(section.to, { t0: t0 });
        return;
      }
      if (n >= 1 && n <= list.length && state.pageId === page.id) {
        go(list[n - 1], { t0: t0 });
      } else {
        publish();
        drawPager("无第" + n + "页（共" + list.length + "页）");
        state.typedTimer = setTimeout(function () { state.typedTimer = null; drawPager(); }, DIGITS_MS);
      }
    };
    if (state.typed.length >= String(num.of).length) {
      commit();
    } else {
      state.typedTimer = setTimeout(commit, DIGITS_MS);
      publish();
      drawPager();
    }
  }

  // ------------------------------------------------------ manifest reload ----

  /** Where the viewer should be in a new manifest: same item and page index if they exist. */
  function relocate(oldM, newM, pageId) {
    var old = oldM && oldM.pages[pageId];
    if (!old) return newM.homeId;
    var o = old.owner;
    if (o.kind === "item") {
      var item = newM.items[o.id];
      if (item) return item.pages[Math.min(o.index, item.pages.length - 1)];
      // Withdrawn: back to its column's menu (or home when the column went too).
      var colId = oldM.items[o.id] ? oldM.items[o.id].column : "";
      return newM.column[colId] ? newM.column[colId].pages[0] : newM.homeId;
    }
    var list = ownerPages(newM, o);
    if (list.length) return list[Math.min(o.index, list.length - 1)];
    return newM.homeId;
  }

  function rejected(xml, err) {
    state.text = xml;
    if (window.console) console.warn("channel.xml rejected:", err.message);
    problem("manifest", state.m ? "频道数据有误，继续显示上一版" : "频道数据有误，无法显示");
  }

  /** A channel.xml fetched: its parts are fetched, then the new model applied; done() after. */
  function accept(xml, done) {
    if (xml === state.text && state.problem !== "manifest" && state.problem !== "fetch") return done();
    var root;
    try {
      root = parseXml(xml, "channel");
    } catch (err) {
      rejected(xml, err);
      return done();
    }
    // At start-up (nothing on screen but a model still partial) the home page is shown as soon
    // as its part is in, and the model rebuilt while a key waits for a page still coming. An
    // update never shows a half: the last good model stays until every part is there.
    var early = !state.m || state.m.partial;
    var refs = rootRefs(root);
    var homeHref = refs.length && refs[0].column === "" ? refs[0].href : "";
    var lastBuild = -1e9;
    var buildMs = 0;
    var dirty = false; // parts came in since the last partial model
    var timer = null;
    function partly() {
      timer = null;
      if (!dirty) return;
      dirty = false;
      var t = now();
      var m = null;
      try {
        m = buildModel(root, true);
      } catch (err) {
        // No home page yet.
      }
      buildMs = now() - t;
      lastBuild = now();
      if (!m) return;
      apply(m);
      if (!state.problem && !state.waiting.length) visible(el.status, false);
    }
    // A rebuild walks all that is in: not more often than every 4 builds' time (22,000 parts).
    function soon() {
      if (timer) return;
      var wait = lastBuild + Math.max(100, 4 * buildMs) - now();
      if (wait <= 0) partly();
      else timer = setTimeout(partly, wait);
    }
    state.rebuild = early ? soon : null;
    loadParts(refs, function (failed) {
      if (timer) clearTimeout(timer);
      state.rebuild = null;
      if (failed) {
        // Parts land before the root that names them; one missing is a headend being repaired.
        // Not remembered as seen: the next poll fetches channel.xml in full and tries again.
        if (window.console) console.warn("column manifest not loaded:", failed);
        state.text = null;
        validators.etag = validators.modified = "";
        problem("fetch", state.m ? "频道数据暂时无法更新" : "正在等待频道数据…");
        return done();
      }
      var m;
      try {
        m = buildModel(root);
      } catch (err) {
        rejected(xml, err);
        return done();
      }
      state.text = xml;
      pruneParts(root);
      if (state.problem !== "image") problem("", "");
      apply(m);
      done();
    }, early ? function () {
      dirty = true;
      if (state.m ? state.waiting.length : parts[homeHref]) soon();
    } : null);
  }

  function apply(m) {
    var old = state.m;
    if (old && old.version === m.version && !old.partial) return;
    var focus = state.focus;
    var pageId = old ? relocate(old, m, state.pageId) : m.homeId;
    state.m = m;
    document.title = m.name || document.title;
    drawTicker();
    var keepFocus = old && old.pages[state.pageId] && old.pages[state.pageId].owner.kind === m.pages[pageId].owner.kind;
    // A part that lands while a key's page is still loading redraws that page: the key's
    // time goes with it, or its paint would never be measured.
    var turning = state.turning && state.turning.pageId === pageId ? state.turning.t0 : undefined;
    go(pageId, { focus: keepFocus ? focus : 0, t0: turning });
    drain();
  }

  function get(url, headers, done) {
    var xhr = new XMLHttpRequest();
    xhr.open("GET", url, true);
    for (var h in headers) if (Object.prototype.hasOwnProperty.call(headers, h) && headers[h]) xhr.setRequestHeader(h, headers[h]);
    xhr.onreadystatechange = function () {
      if (xhr.readyState === 4) done(xhr);
    };
    xhr.send(null);
  }

  var polling = false;
  function poll() {
    if (polling) return;
    polling = true;
    // A conditional GET: an unchanged channel costs a 304 and its headers, not the manifest.
    var conditional = state.text !== null && state.problem !== "manifest";
    get("channel.xml", {
      "Cache-Control": "no-cache",
      "If-None-Match": conditional ? validators.etag : "",
      "If-Modified-Since": conditional && !validators.etag ? validators.modified : ""
    }, function (xhr) {
      var finished = function () {
        polling = false;
        drawTicker();
      };
      if (xhr.status === 304 && state.m) {
        if (state.problem === "fetch") problem("", "");
        return finished();
      }
      if (xhr.status === 200) {
        var etag = xhr.getResponseHeader("ETag") || "";
        var modified = xhr.getResponseHeader("Last-Modified") || "";
        return accept(xhr.responseText, function () {
          if (state.text === xhr.responseText) {
            validators.etag = etag;
            validators.modified = modified;
          }
          finished();
        });
      }
      problem("fetch", state.m ? "频道数据暂时无法更新" : "正在等待频道数据…");
      finished();
    });
  }

  // ---------------------------------------------------------------- keys ----

  function keyOf(e) {
    var k = e.key;
    var c = e.keyCode || e.which;
    if (k === "ArrowLeft" || k === "Left" || c === 37) return "LEFT";
    if (k === "ArrowRight" || k === "Right" || c === 39) return "RIGHT";
    if (k === "ArrowUp" || k === "Up" || c === 38) return "UP";
    if (k === "ArrowDown" || k === "Down" || c === 40) return "DOWN";
    if (k === "Enter" || c === 13) return "OK";
    if (k === "Backspace" || k === "Escape" || k === "Esc" || k === "BrowserBack" || c === 8 || c === 27 || c === 461 || isVk(c, "VK_BACK")) return "BACK";
    if (k === "i" || k === "I" || k === "Info" || c === 457 || isVk(c, "VK_INFO")) return "INFO";
    if (k === "PageUp" || k === "ChannelUp" || c === 33 || c === 427 || isVk(c, "VK_CHANNEL_UP")) return "CH_UP";
    if (k === "PageDown" || k === "ChannelDown" || c === 34 || c === 428 || isVk(c, "VK_CHANNEL_DOWN")) return "CH_DOWN";
    if (k === "ColorF0Red" || k === "r" || k === "R" || c === 403 || isVk(c, "VK_RED")) return "red";
    if (k === "ColorF1Green" || k === "g" || k === "G" || c === 404 || isVk(c, "VK_GREEN")) return "green";
    if (k === "ColorF2Yellow" || k === "y" || k === "Y" || c === 405 || isVk(c, "VK_YELLOW")) return "yellow";
    if (k === "ColorF3Blue" || k === "b" || k === "B" || c === 406 || isVk(c, "VK_BLUE")) return "blue";
    if (k && k.length === 1 && k >= "0" && k <= "9") return k;
    if (c >= 48 && c <= 57) return String(c - 48);
    if (c >= 96 && c <= 105) return String(c - 96);
    return null;
  }

  /** HbbTV/OIPF boxes define VK_* constants globally or on KeyEvent. */
  function isVk(code, name) {
    var v = typeof window[name] === "number" ? window[name] : window.KeyEvent && typeof window.KeyEvent[name] === "number" ? window.KeyEvent[name] : null;
    return v !== null && v === code;
  }

  function eventTime(e) {
    // event.timeStamp is on the performance clock in current browsers, epoch ms in old ones.
    var t = e.timeStamp;
    var n = now();
    return typeof t === "number" && t > 0 && t <= n && n - t < 10000 ? t : n;
  }

  function now() {
    return window.performance && performance.now ? performance.now() : Date.now();
  }

  function onKey(e) {
    if (e.ctrlKey || e.altKey || e.metaKey) return;
    var key = keyOf(e);
    if (!key) return;
    e.preventDefault();
    if (!state.m || !state.m.pages[state.pageId]) return;
    pressed(key, eventTime(e));
  }

  /** A key from the remote: pressed now, or after the keys waiting before it, or (a partial
   *  model) once the page it leads to is loaded. */
  function pressed(key, t0) {
    if (!state.waiting.length && sure(key)) return press(key, t0);
    state.waiting.push({ key: key, t0: t0 });
    if (state.rebuild) state.rebuild(); // parts that came in since may be what it needs
    drain();
    if (state.waiting.length && !state.problem) {
      el.status.textContent = "正在载入…";
      visible(el.status, true);
    }
    publish();
  }

  /** The keys waiting that the model now answers, in the order they were pressed. */
  function drain() {
    var n = state.waiting.length;
    while (state.waiting.length && state.m.pages[state.pageId] && sure(state.waiting[0].key)) {
      var k = state.waiting.shift();
      press(k.key, k.t0);
    }
    if (n && !state.waiting.length && !state.problem) visible(el.status, false);
    if (n) publish();
  }

  /**
   * Whether a key does in the model on screen what it does in the whole channel. Always so
   * for a whole model. In a partial one, an answer from what is there: the page's entries
   * and its own keys to pages loaded, the pages of an item, of the home menu and of an alert
   * (each in one part), the pages of a column up to where it is cut, the columns once each
   * has its first page; anything that would fall back on what is not there waits.
   */
  function sure(key) {
    var m = state.m;
    var page = m.pages[state.pageId];
    if (!m.partial) return true;
    if (!page) return false;
    var kind = page.owner.kind;
    var col = columnOf(m, page);
    var colWhole = kind !== "column" && kind !== "item" ? true : !!col && !col.cut;
    var loaded = function (id) { return !!id && !!m.pages[id]; };
    if (/^[0-9]$/.test(key)) {
      if (kind === "item") return true; // page numbers and contents lead into the item itself
      var e = entryByNumber(page, key === "0" ? 10 : parseInt(key, 10));
      return !e || loaded(e.to);
    }
    if (key === "INFO") return true;
    if (COLOURS.indexOf(key) >= 0) return m.columnsKnown;
    if (page.entries.length && (key === "UP" || key === "DOWN")) {
      var idx = 0;
      for (var j = 0; j < page.entries.length; j++) if (page.entries[j].number === state.focus) idx = j;
      var next = idx + (key === "UP" ? -1 : 1);
      if (next >= 0 && next < page.entries.length) return true;
      if (page.keys[key]) return loaded(page.keys[key]);
      key = key === "UP" ? "LEFT" : "RIGHT"; // runs on into the menu's next page
    } else if (page.entries.length && key === "OK") {
      var f = entryByNumber(page, state.focus);
      return !f || loaded(f.to);
    }
    if (page.keys[key]) return loaded(page.keys[key]);
    if (key === "LEFT") return true; // an earlier page is never cut away
    if (key === "RIGHT") return kind !== "column" || colWhole || !!sibling(m, page, +1);
    if (key === "BACK") return kind === "home" || kind === "column" || colWhole || (!!col && !!entryFor(m.pages[menuPageFor(col.pages, page.owner.id)], page.owner.id));
    if (key === "CH_UP" || key === "CH_DOWN") return m.columnsKnown;
    return true;
  }

  function press(key, t0) {
    var m = state.m;
    var page = m.pages[state.pageId];
    var from = page.owner.kind === "home" ? "" : page.owner.id;
    if (/^[0-9]$/.test(key)) {
      if (page.owner.kind === "item") {
        typeDigit(key, t0);
        return;
      }
      var e = entryByNumber(page, key === "0" ? 10 : parseInt(key, 10));
      if (e) go(e.to, { t0: t0 });
      return;
    }
    if (state.typed) {
      // Any other key abandons a page number half typed.
      clearTyped();
      drawPager();
      publish();
    }
    if (COLOURS.indexOf(key) >= 0) {
      for (var i = 0; i < m.columns.length; i++) {
        if (m.columns[i].key === key) {
          go(m.columns[i].pages[0], { t0: t0 });
          return;
        }
      }
      return;
    }
    if ((key === "UP" || key === "DOWN") && page.entries.length) {
      var idx = 0;
      for (var j = 0; j < page.entries.length; j++) if (page.entries[j].number === state.focus) idx = j;
      var next = idx + (key === "UP" ? -1 : 1);
      if (next >= 0 && next < page.entries.length) {
        state.focus = page.entries[next].number;
        drawFocus();
        preload(page);
        publish();
        return;
      }
      // At the edge of the list: the page's own UP/DOWN key if it has one, else the focus
      // runs on into the previous/next page of the same menu.
      if (!page.keys[key]) {
        var over = target(key === "UP" ? "LEFT" : "RIGHT");
        var op = over && m.pages[over];
        if (op && op.entries.length && op.owner.kind === page.owner.kind && op.owner.id === page.owner.id) {
          go(over, { t0: t0, focus: op.entries[key === "UP" ? op.entries.length - 1 : 0].number });
        }
        return;
      }
    }
    if (key === "INFO") {
      // Alert pages are reached from the ticker: each press shows the next live alert.
      var live = liveAlerts().filter(function (a) { return a.pages.length; });
      if (!live.length) return;
      var at = -1;
      for (var k = 0; k < live.length; k++) if (page.owner.kind === "alert" && live[k].id === page.owner.id) at = k;
      go(live[(at + 1) % live.length].pages[0], { t0: t0 });
      return;
    }
    if (key === "OK" && page.entries.length) {
      var f = entryByNumber(page, state.focus);
      if (f) go(f.to, { t0: t0 });
      return;
    }
    var to = target(key);
    if (to) go(to, { t0: t0, from: key === "BACK" ? from : "" });
  }

  // ---------------------------------------------------------------- start ----

  window.tvViewer = {
    state: state,
    poll: poll,
    press: function (key) { if (state.m && state.m.pages[state.pageId]) pressed(key, now()); },
    latencies: function () { return state.latencies.map(function (l) { return l.ms; }); },
    /** Page images still loading or decoding (preloads included). */
    pending: function () {
      var n = 0;
      for (var h in cache) if (Object.prototype.hasOwnProperty.call(cache, h) && !ready(cache[h])) n++;
      return n;
    },
    /** The column manifests (parts) kept, by href. */
    parts: function () { return Object.keys(parts); },
    /** The parts kept in localStorage across reloads, by href. */
    stored: function () { return store ? Object.keys(store.of) : []; },
    pollMs: POLL_MS,
    preload: PRELOAD
  };

  document.addEventListener("keydown", onKey, false);
  window.addEventListener("resize", function () { layout(); }, false);
  layout();
  problem("", "");
  el.status.textContent = "正在载入频道…";
  visible(el.status, true);
  poll();
  setInterval(poll, POLL_MS);
})();
