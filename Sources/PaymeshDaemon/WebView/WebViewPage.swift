/// The web view's page (Specs/webview.md): HTML, CSS and JavaScript in one string, served by
/// `GET /`. It fetches nothing but `/api/snapshot` and `/events` from the node that serves it
/// (no CDN: it works offline), builds every element with `textContent` (aliases and ids come
/// from peers), and changes nothing on the node.
enum WebViewPage {
    static let contentSecurityPolicy =
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

    static let html = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Paymesh node</title>
<style>
:root { --bg:#0f1419; --panel:#171e26; --line:#2a3542; --text:#d8e0e8; --dim:#7d8a98; --accent:#4fb3ff; --ok:#47c47e; --warn:#e8b34a; --bad:#e5636b; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--text); font:13px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; }
header { display:flex; gap:16px; align-items:baseline; padding:10px 16px; border-bottom:1px solid var(--line); flex-wrap:wrap; }
header h1 { font-size:16px; margin:0; }
.mono { font-family: ui-monospace, "DejaVu Sans Mono", monospace; }
.dim { color:var(--dim); }
#live { padding:2px 8px; border-radius:10px; background:#3a2a2a; color:var(--bad); }
#live.on { background:#1f3a2a; color:var(--ok); }
main { display:grid; grid-template-columns: minmax(380px, 1fr) minmax(520px, 1.2fr); gap:12px; padding:12px; }
section { background:var(--panel); border:1px solid var(--line); border-radius:6px; padding:10px; min-width:0; }
section h2 { font-size:13px; margin:0 0 8px; color:var(--dim); text-transform:uppercase; letter-spacing:.05em; display:flex; justify-content:space-between; }
#graph { grid-row: span 2; }
svg { width:100%; height:520px; display:block; }
.edge { stroke:#3c4b5c; stroke-width:2; fill:none; }
.edge.own { stroke:#4f7fa8; stroke-width:3; }
.edge.flash { stroke:var(--warn); stroke-width:6; transition:none; }
.edge.fade { transition: stroke .8s, stroke-width .8s; }
.node circle { fill:#23303d; stroke:#5a6b7d; stroke-width:2; }
.node.self circle { fill:#16324a; stroke:var(--accent); stroke-width:3; }
.node.peer circle { stroke:var(--ok); }
.node text, .elabel { fill:var(--text); font-size:11px; text-anchor:middle; }
.elabel { fill:var(--dim); font-size:10px; }
table { width:100%; border-collapse:collapse; }
th, td { text-align:left; padding:3px 5px; border-bottom:1px solid var(--line); white-space:nowrap; overflow:hidden; text-overflow:ellipsis; max-width:160px; }
th { color:var(--dim); font-weight:normal; }
td.num { text-align:right; font-variant-numeric: tabular-nums; }
.bar { height:6px; background:#2a3542; border-radius:3px; overflow:hidden; min-width:60px; }
.bar > div { height:100%; background:var(--accent); }
tr.new { animation: hl 1.2s ease-out; }
@keyframes hl { from { background:#4a3d1a; } to { background:transparent; } }
.scroll { max-height:260px; overflow:auto; }
#count { font-size:15px; color:var(--text); }
</style>
</head>
<body>
<header>
  <h1>Paymesh</h1>
  <span class="mono" id="node-id">…</span>
  <span class="dim" id="node-meta"></span>
  <span id="live">connecting</span>
  <span class="dim">read-only view</span>
</header>
<main>
  <section id="graph"><h2><span>Mesh</span><span class="dim" id="graph-meta"></span></h2>
    <svg id="mesh" viewBox="0 0 800 520" role="img" aria-label="the mesh as a graph"></svg></section>
  <section><h2><span>Payments</span><span>seen: <span id="count" data-count="0">0</span></span></h2>
    <div class="scroll"><table><thead><tr><th>#</th><th>kind</th><th>channel</th><th class="num">amount</th><th>time</th></tr></thead>
    <tbody id="payments"></tbody></table></div></section>
  <section><h2><span>Channels</span><span class="dim" id="channels-meta"></span></h2>
    <div class="scroll"><table><thead><tr><th>channel</th><th>peer</th><th>role</th><th>state</th><th class="num">deposit</th><th class="num">paid</th><th class="num">available</th><th>balance</th></tr></thead>
    <tbody id="channels"></tbody></table></div></section>
  <section><h2><span>Peers</span></h2>
    <table><thead><tr><th>peer</th><th>state</th><th class="num">RTT</th><th class="num">gossip score</th></tr></thead><tbody id="peers"></tbody></table></section>
  <section><h2><span>Pending HTLCs</span></h2>
    <table><thead><tr><th>channel</th><th>side</th><th>state</th><th class="num">amount</th><th class="num">expires in</th></tr></thead><tbody id="htlcs"></tbody></table></section>
</main>
<script>
"use strict";
const SVG = "http://www.w3.org/2000/svg";
const EVENTS = ["peer.up","peer.down","peer.banned","discovery.found","discovery.lost","discovery.status",
  "channel.state","channel.openRejected","channel.peerMessageRejected","channel.recovered","channel.closeRejected",
  "channel.disputed","channel.settlementSubmitted","channel.settlementFailed","channel.settled",
  "payment.acked","payment.rejected","payment.received","payment.streamPaused",
  "graph.channel","graph.node","service.announced","service.withdrawn",
  "htlc.succeeded","htlc.failed","htlc.received","htlc.forwarded","htlc.refused","htlc.channel"];
const MAX_ROWS = 200;
let snap = null, maxSeq = 0, reloadTimer = null, loading = false, again = false;

function short(id) { return id && id.length > 14 ? id.slice(0, 8) + "…" + id.slice(-4) : (id || "–"); }
function el(tag, attrs, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}
function svg(tag, attrs, text) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = String(text);
  return e;
}
function row(cells, attrs) {
  const tr = el("tr", attrs);
  for (const c of cells) {
    const td = el("td", c.cls ? {class: c.cls} : {});
    if (c.node) td.appendChild(c.node); else td.textContent = c.text == null ? "–" : String(c.text);
    if (c.title) td.title = c.title;
    tr.appendChild(td);
  }
  return tr;
}
function ms(v) { return v == null ? "–" : (v < 1 ? v.toFixed(3) : v.toFixed(1)) + " ms"; }
function duration(v) {
  if (v == null) return "–";
  const s = Math.round(v / 1000);
  if (s <= 0) return "expired";
  return s >= 3600 ? Math.floor(s / 3600) + " h " + Math.floor(s % 3600 / 60) + " min" : s >= 60 ? Math.floor(s / 60) + " min " + s % 60 + " s" : s + " s";
}
function ratio(part, whole) {
  try { const w = BigInt(whole); return w === 0n ? 0 : Number(BigInt(part) * 1000n / w) / 1000; } catch (e) { return 0; }
}

function setCount(n) { const c = document.getElementById("count"); c.textContent = String(n); c.dataset.count = String(n); }

function drawGraph() {
  const g = document.getElementById("mesh");
  g.replaceChildren();
  const me = snap.node.id;
  const nodes = new Map();
  const add = (id, alias) => { if (!nodes.has(id)) nodes.set(id, {id, alias: alias || ""}); else if (alias) nodes.get(id).alias = alias; };
  add(me, snap.node.alias);
  for (const n of snap.graph.nodes) add(n.id, n.alias);
  const edges = new Map();
  for (const c of snap.graph.channels) { add(c.peerA); add(c.peerB); edges.set(c.id, {id: c.id, a: c.peerA, b: c.peerB, label: c.capacityText, own: false}); }
  for (const c of snap.channels) {
    add(c.peer);
    const label = c.availableText + " / " + c.depositText;
    const a = c.role === "payer" ? me : c.peer, b = c.role === "payer" ? c.peer : me;
    edges.set(c.channel, {id: c.channel, a, b, label, own: true});
  }
  const peers = new Set(snap.peers.filter(p => p.state === "connected").map(p => p.id));
  const others = [...nodes.keys()].filter(id => id !== me).sort();
  const order = [me, ...others];
  const W = 800, H = 520, cx = W / 2, cy = H / 2, r = Math.min(W, H) / 2 - 60;
  const pos = new Map();
  order.forEach((id, i) => {
    const t = -Math.PI / 2 + 2 * Math.PI * i / order.length;
    pos.set(id, order.length === 1 ? {x: cx, y: cy} : {x: cx + r * Math.cos(t), y: cy + r * Math.sin(t)});
  });
  const edgeLayer = svg("g"), nodeLayer = svg("g");
  for (const e of edges.values()) {
    const p = pos.get(e.a), q = pos.get(e.b);
    const grp = svg("g", {"data-channel": e.id});
    grp.appendChild(svg("line", {class: "edge fade" + (e.own ? " own" : ""), x1: p.x, y1: p.y, x2: q.x, y2: q.y}));
    const t = svg("text", {class: "elabel", x: (p.x + q.x) / 2, y: (p.y + q.y) / 2 - 4}, e.label);
    grp.appendChild(t);
    grp.appendChild(svg("title", {}, e.id));
    edgeLayer.appendChild(grp);
  }
  for (const n of nodes.values()) {
    const p = pos.get(n.id);
    const cls = "node" + (n.id === me ? " self" : "") + (peers.has(n.id) ? " peer" : "");
    const grp = svg("g", {class: cls, "data-node": n.id, transform: "translate(" + p.x + "," + p.y + ")"});
    grp.appendChild(svg("circle", {r: 18}));
    grp.appendChild(svg("text", {y: 34}, n.alias ? n.alias : short(n.id)));
    grp.appendChild(svg("title", {}, n.id));
    nodeLayer.appendChild(grp);
  }
  g.appendChild(edgeLayer); g.appendChild(nodeLayer);
  document.getElementById("graph-meta").textContent = nodes.size + " nodes · " + edges.size + " channels";
}

function flash(channel) {
  if (!channel) return;
  const line = document.querySelector('[data-channel="' + CSS.escape(channel) + '"] line');
  if (!line) return;
  line.classList.remove("fade"); line.classList.add("flash");
  requestAnimationFrame(() => requestAnimationFrame(() => { line.classList.add("fade"); line.classList.remove("flash"); }));
}

function paymentRow(p, fresh) {
  const time = new Date(p.atMs).toLocaleTimeString();
  return row([{text: p.seq}, {text: p.kind}, {text: short(p.channel || p.paymentHash), title: p.channel || p.paymentHash || ""},
              {text: p.amountText || (p.amount != null ? p.amount + " (atomic)" : (p.code != null ? "code " + p.code : "–")), cls: "num", title: p.amount || ""},
              {text: time}], Object.assign({"data-seq": String(p.seq)}, fresh ? {class: "new"} : {}));
}

function addPayment(p) {
  if (p.seq <= maxSeq) return;
  maxSeq = p.seq;
  setCount(maxSeq);
  document.body.dataset.lastPaymentAt = String(Date.now());
  const body = document.getElementById("payments");
  body.insertBefore(paymentRow(p, true), body.firstChild);
  while (body.children.length > MAX_ROWS) body.removeChild(body.lastChild);
  flash(p.channel);
}

function drawTables() {
  const n = snap.node;
  document.getElementById("node-id").textContent = n.id;
  document.getElementById("node-meta").textContent = (n.alias ? n.alias + " · " : "") + "v" + n.version + " · listen " + n.listen.join(", ");
  const ch = document.getElementById("channels");
  ch.replaceChildren();
  for (const c of snap.channels) {
    const bar = el("div", {class: "bar"}); const fill = el("div"); fill.style.width = (100 * ratio(c.available, c.deposit)) + "%"; bar.appendChild(fill);
    ch.appendChild(row([{text: short(c.channel), title: c.channel}, {text: short(c.peer), title: c.peer}, {text: c.role}, {text: c.state},
                        {text: c.depositText, cls: "num", title: c.deposit}, {text: c.paidText, cls: "num", title: c.paid},
                        {text: c.availableText, cls: "num", title: c.available}, {node: bar}], {"data-channel-row": c.channel}));
  }
  document.getElementById("channels-meta").textContent = snap.channels.length + "";
  const pe = document.getElementById("peers");
  pe.replaceChildren();
  for (const p of snap.peers) {
    pe.appendChild(row([{text: short(p.id), title: p.id}, {text: p.state}, {text: ms(p.rttMs), cls: "num"},
                        {text: p.gossipScore == null ? "–" : p.gossipScore.toFixed(2), cls: "num"}], {"data-peer": p.id}));
  }
  drawHTLCs();
  const pay = document.getElementById("payments");
  pay.replaceChildren();
  for (const p of snap.payments.slice().reverse()) pay.appendChild(paymentRow(p, false));
  maxSeq = Math.max(maxSeq, snap.paymentsTotal);
  setCount(maxSeq);
}

function drawHTLCs() {
  const ht = document.getElementById("htlcs");
  ht.replaceChildren();
  for (const h of snap.htlcs.filter(h => h.state === "pending")) {
    ht.appendChild(row([{text: short(h.channel), title: h.channel}, {text: h.side}, {text: h.state},
                        {text: h.amountText || h.amount, cls: "num"}, {text: duration(h.expiresInMs), cls: "num", title: String(h.expiry)}]));
  }
}

async function load() {
  if (loading) { again = true; return; }
  loading = true;
  try {
    const r = await fetch("/api/snapshot", {cache: "no-store"});
    if (!r.ok) throw new Error("snapshot: HTTP " + r.status);
    snap = await r.json();
    drawGraph(); drawTables();
    document.body.dataset.loaded = String(Date.now());
  } catch (e) {
    document.getElementById("live").textContent = String(e.message || e);
  } finally {
    loading = false;
    if (again) { again = false; load(); }
  }
}
function reloadSoon() { if (!reloadTimer) reloadTimer = setTimeout(() => { reloadTimer = null; load(); }, 400); }

function connect() {
  const live = document.getElementById("live");
  const es = new EventSource("/events");
  es.addEventListener("hello", ev => {
    try { maxSeq = Math.min(maxSeq, JSON.parse(ev.data).payments); } catch (e) {}
    live.textContent = "live"; live.className = "on"; document.body.dataset.live = "1"; load(); });
  es.addEventListener("events.dropped", () => { live.textContent = "catching up"; live.className = ""; });
  for (const name of EVENTS) es.addEventListener(name, ev => {
    let d; try { d = JSON.parse(ev.data); } catch (e) { return; }
    if (d.record) addPayment(d.record);
    reloadSoon();
  });
  es.onerror = () => { live.textContent = "reconnecting"; live.className = ""; document.body.dataset.live = "0"; };
}
connect();
setInterval(() => { if (snap) { for (const h of snap.htlcs) if (h.expiresInMs != null) h.expiresInMs -= 1000; drawHTLCs(); } }, 1000);
</script>
</body>
</html>
"""#
}
