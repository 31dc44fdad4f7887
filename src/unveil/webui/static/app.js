// The board's public page (spec §11): reads this board's read-only /view/… answers and draws them.
// Plain JavaScript module, no build step. Everything it loads comes from the board's own origin
// (static/vendor/…): Leaflet (window.L), h3-js, Natural Earth land outlines.
//
// Cells: every committed cell of the chosen escrow, coloured by its state at the chosen step
// (discrepancy > inspected > opened > sealed). Only what is in view is drawn, and when more
// than LIMIT cells would be, coarser H3 cells are drawn instead, each with its own id and the
// state most of its cells have. Every drawn path carries data-cell, data-state (and, opened,
// data-phase); aggregates also data-cells (how many committed cells they hold).
// All text from the board is set as text (textContent), never as markup.

import * as h3 from "./vendor/h3-js/h3-js.es.js";

// The most cell paths drawn at once: 4,000, or ?paths=N (100 to 20,000) for a slower or faster machine.
const LIMIT = Math.min(20000, Math.max(100, Number(new URLSearchParams(location.search).get("paths")) || 4000));
const STATES = ["sealed", "opened", "inspected", "discrepancy"]; // weakest to strongest
const PHASE_COLOURS = ["#37b24d", "#ae3ec9", "#15aabf", "#ffd43b", "#a0522d", "#7048e8", "#f783ac", "#0b7285"]; // blue and red mean inspected and discrepancy
const STATE_COLOURS = { sealed: "#adb5bd", inspected: "#1971c2", discrepancy: "#e03131" };

const page = { summary: null, escrow: null, cells: null, tree: null, step: -1, sites: [], map: null, drawn: new Map(), renders: 0, timings: {} };

// ---- small helpers -------------------------------------------------------------------------

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined) continue;
    if (key === "class") node.className = value;
    else if (key.startsWith("data-") || key.startsWith("aria-") || key === "title" || key === "type") node.setAttribute(key, String(value));
    else node[key] = value;
  }
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(child === null || child === undefined ? "" : String(child)));
  return node;
}

async function getJSON(path) {
  const response = await fetch(path, { headers: { Accept: "application/json" }, credentials: "same-origin" });
  if (!response.ok) {
    let reason = "";
    try { reason = (await response.json()).reason || ""; } catch { /* not JSON */ }
    const error = new Error(`${path}: HTTP ${response.status} ${reason}`);
    error.status = response.status;
    error.reason = reason;
    throw error;
  }
  return response.json();
}

function yesNo(value) { return value ? "yes" : "no"; }
function short(hex) { return typeof hex === "string" && hex.length > 16 ? `${hex.slice(0, 12)}…` : hex; }
function fill(tbody, rows) {
  tbody.replaceChildren(...rows);
  if (!rows.length) tbody.append(el("tr", { class: "empty" }, el("td", { colSpan: 20 }, "none")));
}
function phaseColour(step) { return PHASE_COLOURS[((step % PHASE_COLOURS.length) + PHASE_COLOURS.length) % PHASE_COLOURS.length]; }
function colourOf(state, step) { return state === "opened" ? phaseColour(step) : STATE_COLOURS[state]; }

// ---- H3 hierarchy ----------------------------------------------------------------------------

// The parent of an H3 cell id at resolution r (r ≤ its own), by its bits: the resolution field
// (bits 52–55) set to r and the digits below r set to 7. Same answer as h3.cellToParent, faster.
export function parentOf(cell, r) {
  let hi = parseInt(cell.slice(0, cell.length - 8), 16);
  let lo = parseInt(cell.slice(-8), 16);
  const n = 3 * (15 - r);
  if (n >= 32) { lo = 0xffffffff; hi |= (1 << (n - 32)) - 1; } else { lo = (lo | (2 ** n - 1)) >>> 0; }
  hi = (hi & ~(0xf << 20)) | (r << 20);
  return hi.toString(16).padStart(7, "0") + (lo >>> 0).toString(16).padStart(8, "0");
}

// A tree of groups: level r holds the distinct parents at resolution r of the committed cells;
// the last level (the cells' own resolution) holds the cells. A group: {id, r, children, cell
// (its index into the cell arrays, for a cell), centre, boundary, tallies (per step)}. Each
// parent is computed once: a cell's walk up stops at the first group already known.
function buildTree(cells) {
  const R = cells.resolution;
  const levels = Array.from({ length: R + 1 }, () => new Map());
  cells.ids.forEach((id, index) => {
    if (levels[R].has(id)) return; // a repeated id: drawn once
    let child = { id, r: R, children: [], cell: index };
    levels[R].set(id, child);
    for (let r = R - 1; r >= 0; r -= 1) {
      const pid = parentOf(id, r);
      const known = levels[r].get(pid);
      if (known) { known.children.push(child); return; }
      const parent = { id: pid, r, children: [child], cell: -1 };
      levels[r].set(pid, parent);
      child = parent;
    }
  });
  return levels;
}

function centre(group) { return (group.centre ??= h3.cellToLatLng(group.id)); }
function boundary(group) { return (group.boundary ??= h3.cellToBoundary(group.id)); }

// The state of cell `index` at step s (spec: the strongest that applies among events with step ≤ s).
function stateAt(index, s) {
  const c = page.cells;
  if (c.discrepancy[index] >= 0 && c.discrepancy[index] <= s) return 3;
  if (c.inspected[index] >= 0 && c.inspected[index] <= s) return 2;
  if (c.opened[index] >= 0 && c.opened[index] <= s) return 1;
  return 0;
}

// How many of a group's cells are in each state at step s, and how many each phase opened (of
// those opened, not stronger): a cell's own, or the sum of its children's (cached per step).
function counts(group, s) {
  group.tallies ??= new Map();
  let c = group.tallies.get(s);
  if (c) return c;
  c = { states: [0, 0, 0, 0], phases: new Map(), count: 0 };
  const add = (cell) => {
    const state = stateAt(cell, s);
    c.states[state] += 1;
    c.count += 1;
    if (state === 1) { const step = page.cells.opened[cell]; c.phases.set(step, (c.phases.get(step) || 0) + 1); }
  };
  if (group.cell >= 0) add(group.cell);
  for (const child of group.children) {
    if (child.cell >= 0) { add(child.cell); continue; } // a cell: counted here, nothing cached for it
    const d = counts(child, s);
    for (let k = 0; k < 4; k += 1) c.states[k] += d.states[k];
    for (const [step, n] of d.phases) c.phases.set(step, (c.phases.get(step) || 0) + n);
    c.count += d.count;
  }
  group.tallies.set(s, c);
  return c;
}

// {state, phase step or -1, count} of a group at step s: its cell's own for a cell, else the
// state most of its cells have (a tie goes to the stronger) and the phase most of its opened
// cells were opened by (a tie goes to the earlier).
function tally(group, s) {
  const c = counts(group, s);
  let state = 0;
  for (let k = 1; k < 4; k += 1) if (c.states[k] >= c.states[state]) state = k;
  let phase = -1, best = 0;
  for (const [step, n] of c.phases) if (n > best || (n === best && step < phase)) { phase = step; best = n; }
  return { state: STATES[state], phase, count: c.count, discrepancies: c.states[3] };
}

// The groups to draw for the map's view: the finest level at which at most LIMIT groups are in
// view, walking down from the coarsest level through the children of what is in view only.
function groupsInView() {
  const bounds = page.map.getBounds();
  const levels = page.tree;
  const R = levels.length - 1;
  const padded = (r) => {
    const pad = (h3.getHexagonEdgeLengthAvg(r, "km") * 2.5) / 111;
    return L.latLngBounds([bounds.getSouth() - pad, bounds.getWest() - pad * 2], [bounds.getNorth() + pad, bounds.getEast() + pad * 2]);
  };
  let current = [...levels[0].values()].filter((g) => padded(0).contains(centre(g)));
  let level = 0;
  while (level < R) {
    const area = padded(level + 1);
    const next = [];
    for (const group of current) for (const child of group.children) if (area.contains(centre(child))) next.push(child);
    if (next.length > LIMIT) break;
    current = next;
    level += 1;
  }
  return { groups: current, level, resolution: R };
}

// ---- map ---------------------------------------------------------------------------------------

function initMap() {
  const map = L.map("map", { zoomSnap: 0.25, preferCanvas: false, attributionControl: true, worldCopyJump: false });
  map.attributionControl.setPrefix("Leaflet");
  map.attributionControl.addAttribution("Land: Natural Earth");
  map.createPane("land").style.zIndex = 250;
  map.setView([20, 0], 2);
  page.renderer = L.svg({ padding: 0.2 });
  page.landRenderer = L.svg({ pane: "land" });
  page.sitesLayer = L.layerGroup().addTo(map);
  map.on("moveend", () => drawCells());
  page.map = map;
  getJSON("static/vendor/natural-earth/land-110m.geojson")
    .then((land) => L.geoJSON(land, { renderer: page.landRenderer, pane: "land", interactive: false, className: "land" }).addTo(map))
    .catch((error) => setText("map-status", `Land outlines not loaded: ${error.message}`));
  return map;
}

function setText(id, text) { document.getElementById(id).textContent = text; }

function cellPopup(group, t) {
  const rows = [["cell", group.id], ["state", t.state]];
  if (t.phase >= 0) rows.push(["phase", page.cells.steps[t.phase]]);
  if (group.r !== page.cells.resolution) {
    rows.push(["aggregate of", `${t.count} committed cells (H3 resolution ${group.r})`]);
    if (t.discrepancies) rows.push(["discrepancies", `${t.discrepancies} of its cells`]);
  }
  return el("dl", { class: "popup" }, ...rows.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
}

function styleOf(t) {
  // a discrepancy, or an aggregate hiding one, is outlined red so that a single cell stands out
  const flagged = t.discrepancies > 0;
  return { color: flagged ? STATE_COLOURS.discrepancy : "#343a40", weight: flagged ? 2.5 : 0.5, opacity: flagged ? 1 : 0.6,
    fillColor: colourOf(t.state, t.phase), fillOpacity: t.state === "sealed" ? 0.35 : 0.75 };
}

function mark(layer, group, t, aggregate) {
  const path = layer.getElement();
  if (!path) return;
  path.setAttribute("data-cell", group.id);
  path.setAttribute("data-state", t.state);
  if (t.phase >= 0 && t.state === "opened") path.setAttribute("data-phase", page.cells.steps[t.phase]);
  else path.removeAttribute("data-phase");
  if (aggregate) path.setAttribute("data-cells", String(t.count)); else path.removeAttribute("data-cells");
  if (aggregate && t.discrepancies) path.setAttribute("data-discrepancies", String(t.discrepancies)); else path.removeAttribute("data-discrepancies");
  path.classList.add("cell");
  path.classList.toggle("aggregate", aggregate);
}

function drawCells() {
  if (!page.tree) return;
  const started = performance.now();
  const { groups, level, resolution } = groupsInView();
  const t1 = performance.now();
  for (const group of groups) tally(group, page.step);
  const t2 = performance.now();
  const aggregate = level !== resolution;
  const wanted = new Set(groups.map((g) => g.id));
  for (const [id, entry] of page.drawn) if (!wanted.has(id)) { entry.layer.remove(); page.drawn.delete(id); }
  for (const group of groups) {
    const t = tally(group, page.step);
    let entry = page.drawn.get(group.id);
    if (!entry) {
      const layer = L.polygon(boundary(group), { renderer: page.renderer, ...styleOf(t) });
      layer.bindPopup(() => cellPopup(group, tally(group, page.step)));
      layer.addTo(page.map);
      entry = { layer, key: null };
      page.drawn.set(group.id, entry);
    }
    const key = `${t.state}/${t.phase}/${t.discrepancies}`;
    if (entry.key !== key) {
      entry.layer.setStyle(styleOf(t));
      if (t.discrepancies) entry.layer.bringToFront(); // its red outline above its neighbours'
      entry.key = key;
    }
    mark(entry.layer, group, t, aggregate);
  }
  page.renders += 1;
  const mapNode = document.getElementById("map");
  mapNode.dataset.level = String(level);
  mapNode.dataset.drawn = String(groups.length);
  mapNode.dataset.renders = String(page.renders);
  mapNode.dataset.drawMs = (performance.now() - started).toFixed(1);
  page.timings.lastDraw = { view: t1 - started, tally: t2 - t1, layers: performance.now() - t2 };
  setText("map-status", `${page.cells.ids.length.toLocaleString("en")} committed cells (H3 resolution ${resolution}); ${groups.length.toLocaleString("en")} drawn`
    + (aggregate ? ` as coarser cells of resolution ${level} — zoom in for single cells` : "") + ".");
}

function drawSites() {
  page.sitesLayer.clearLayers();
  for (const site of page.sites) {
    if (site.step > page.step || typeof site.lat !== "number" || typeof site.lon !== "number") continue;
    const icon = L.divIcon({ className: "site-marker", iconSize: [14, 14], html: "" });
    const marker = L.marker([site.lat, site.lon], { icon, title: `${site.site_id} ${site.name || ""}`, keyboard: true, zIndexOffset: 1000 });
    marker.bindPopup(() => sitePopup(site), { maxWidth: 420 });
    marker.addTo(page.sitesLayer);
    const node = marker.getElement();
    if (node) node.setAttribute("data-site", site.site_id);
  }
}

function sitePopup(site) {
  const items = (site.items || []).map((item) => el("tr", {}, el("td", {}, item.category), el("td", { class: "num" }, item.quantity),
    el("td", {}, item.unit), el("td", {}, item.type ?? ""), el("td", {}, (item.serials || []).join(", "))));
  return el("div", { class: "site-popup", "data-site": site.site_id },
    el("h3", {}, `${site.site_id} — ${site.name || "(unnamed)"}`),
    el("p", {}, `${site.kind || "site"}, revealed in ${site.phase}; cell ${site.cell}`),
    el("table", { class: "items" }, el("thead", {}, el("tr", {}, el("th", {}, "category"), el("th", {}, "quantity"), el("th", {}, "unit"), el("th", {}, "type"), el("th", {}, "serials"))),
      el("tbody", {}, ...(items.length ? items : [el("tr", {}, el("td", { colSpan: 5 }, "no declared items"))]))));
}

// ---- timeline -------------------------------------------------------------------------------

function drawTimeline() {
  const nav = document.getElementById("timeline");
  const steps = page.escrow.steps || [];
  const button = (s, label, detail) => el("button", { type: "button", "data-step": s, title: detail, "aria-pressed": String(s === page.step), class: s === page.step ? "active" : "" }, label);
  nav.replaceChildren(el("span", { class: "muted" }, "Step: "), button(-1, "committed", "before any reveal: every cell sealed"),
    ...steps.map((st) => button(st.step, st.phase, `${st.phase}: revealed at entry ${st.index}, ${st.time}, ${st.openings} openings`)));
  nav.onclick = (event) => {
    const target = event.target.closest("button[data-step]");
    if (target) setStep(Number(target.dataset.step));
  };
}

function drawLegend() {
  const swatch = (colour, label, cls) => el("li", { class: cls }, el("span", { class: "swatch", "data-colour": colour }), label);
  const items = [swatch(STATE_COLOURS.sealed, "sealed", "sealed")];
  (page.escrow.steps || []).forEach((st) => items.push(swatch(phaseColour(st.step), `opened in ${st.phase}`, "opened")));
  items.push(swatch(STATE_COLOURS.inspected, "inspected", "inspected"), swatch(STATE_COLOURS.discrepancy, "discrepancy", "discrepancy"),
    el("li", {}, el("span", { class: "swatch site" }), "revealed site"));
  document.getElementById("legend").replaceChildren(...items);
  // colours are set through the CSSOM (no inline style attribute under the page's policy)
  for (const span of document.querySelectorAll("#legend .swatch[data-colour]")) span.style.backgroundColor = span.dataset.colour;
}

function setStep(s) {
  page.step = s;
  for (const b of document.querySelectorAll("#timeline button")) {
    const on = Number(b.dataset.step) === s;
    b.classList.toggle("active", on);
    b.setAttribute("aria-pressed", String(on));
  }
  page.map.closePopup();
  drawCells();
  drawSites();
  document.getElementById("map").dataset.step = String(s);
}

// ---- escrow ---------------------------------------------------------------------------------

async function loadEscrow(escrow) {
  page.escrow = escrow;
  page.step = escrow.steps && escrow.steps.length ? escrow.steps[escrow.steps.length - 1].step : -1;
  const mapNode = document.getElementById("map");
  delete mapNode.dataset.step;
  for (const entry of page.drawn.values()) entry.layer.remove();
  page.drawn.clear();
  page.tree = null;
  page.sites = [];
  page.sitesLayer.clearLayers();
  drawTimeline();
  drawLegend();
  drawReveals(escrow);
  const id = encodeURIComponent(escrow.escrow_id);
  const [cells, sites, events] = await Promise.allSettled([getJSON(`view/escrows/${id}/cells`), getJSON(`view/escrows/${id}/sites`), getJSON(`view/escrows/${id}/events`)]);
  if (sites.status === "fulfilled") page.sites = sites.value.sites || [];
  if (events.status === "fulfilled") drawEvents(events.value); else drawEvents({ inspections: [], discrepancies: [] });
  page.timings.events = performance.now();
  page.timings.fetched = performance.now();
  if (cells.status === "fulfilled") {
    const rows = cells.value.cells || [];
    const n = rows.length;
    page.cells = { resolution: cells.value.resolution, steps: cells.value.steps || [], ids: new Array(n), opened: new Int32Array(n), inspected: new Int32Array(n), discrepancy: new Int32Array(n) };
    rows.forEach((row, k) => { page.cells.ids[k] = row[0]; page.cells.opened[k] = row[1]; page.cells.inspected[k] = row[2]; page.cells.discrepancy[k] = row[3]; });
    page.timings.parsed = performance.now();
    page.tree = buildTree(page.cells);
    page.timings.tree = performance.now();
    fitTerritory();
    page.timings.firstDraw = page.timings.lastDraw;
    page.timings.fitted = performance.now();
  } else {
    page.cells = null;
    const why = cells.reason.reason === "cells-missing" ? "this board does not hold the escrow's list of cells (cells.txt)" : cells.reason.message;
    setText("map-status", `Cells not shown: ${why}.`);
    const located = page.sites.filter((s) => typeof s.lat === "number");
    if (located.length) page.map.fitBounds(L.latLngBounds(located.map((s) => [s.lat, s.lon])).pad(0.5));
  }
  setStep(page.step);
  page.timings.drawn = performance.now();
}

// Fit the map to the committed cells: the union of the hexes of the finest level with at most
// a few thousand groups.
function fitTerritory() {
  let level = 0;
  while (level + 1 < page.tree.length && page.tree[level + 1].size <= 3000) level += 1;
  const points = [];
  for (const group of page.tree[level].values()) points.push(...boundary(group));
  if (points.length) page.map.fitBounds(L.latLngBounds(points), { animate: false });
}

// ---- tables ---------------------------------------------------------------------------------

function drawReveals(escrow) {
  const rows = (escrow.steps || []).map((st) => el("tr", { "data-step": st.step },
    el("td", { class: "num" }, st.step), el("td", {}, st.phase), el("td", { class: "num" }, st.index), el("td", {}, st.time),
    el("td", { title: st.sha256, class: "hash" }, short(st.sha256)), el("td", { class: "num" }, st.openings), el("td", {}, yesNo(st.final)),
    el("td", {}, ...(st.verifications && st.verifications.length
      ? st.verifications.map((v) => el("span", { class: v.valid ? "ok verdict" : "bad verdict", title: `entry ${v.index}, ${v.time}` },
        `${v.author}: ${v.valid ? "valid" : "INVALID"}${v.problems ? ` (${v.problems} problems)` : ""}`))
      : ["not verified yet"]))));
  fill(document.querySelector("#reveals tbody"), rows);
}

function drawEvents(events) {
  fill(document.querySelector("#inspections tbody"), (events.inspections || []).map((e) => el("tr", { "data-cell": e.cell },
    el("td", { class: "num" }, e.index), el("td", {}, e.time), el("td", {}, e.author), el("td", {}, e.phase), el("td", { class: "hash" }, e.cell),
    el("td", {}, e.site_id ?? ""), el("td", { class: e.outcome === "confirmed" ? "ok" : "bad" }, e.outcome), el("td", {}, e.detail ?? ""), el("td", {}, yesNo(e.final)))));
  fill(document.querySelector("#discrepancies tbody"), (events.discrepancies || []).map((e) => el("tr", { "data-cell": e.cell },
    el("td", { class: "num" }, e.index), el("td", {}, e.time), el("td", {}, e.author), el("td", {}, e.id), el("td", {}, e.phase), el("td", { class: "hash" }, e.cell),
    el("td", {}, e.detail ?? ""), el("td", {}, yesNo(e.intel_predates_reveal)), el("td", {}, yesNo(e.resolved)), el("td", {}, yesNo(e.final)))));
}

const log = { start: null };

async function loadLog(earlier) {
  const size = page.summary.size;
  const end = earlier ? log.start : size;
  const start = Math.max(0, end - 200);
  const body = document.querySelector("#log tbody");
  if (!earlier) body.replaceChildren();
  if (end > start) {
    const answer = await getJSON(`view/log?start=${start}&end=${end}`);
    const rows = (answer.entries || []).slice().reverse().map((e) => el("tr", { "data-index": e.index, class: e.final ? "final" : "pending" },
      el("td", { class: "num" }, e.index), el("td", {}, e.time), el("td", {}, e.author), el("td", {}, e.role ?? ""), el("td", {}, e.kind),
      el("td", {}, e.escrow_id ?? ""), el("td", {}, e.summary ?? ""), el("td", {}, yesNo(e.final))));
    body.append(...rows);
  }
  log.start = start;
  document.getElementById("log-earlier").hidden = start === 0;
}

async function loadCheckpoints() {
  const answer = await getJSON("view/checkpoints");
  const latest = answer.latest || {};
  const pairs = [["latest checkpoint size", `${latest.size ?? "—"} entries`], ["root", latest.root ?? "—"],
    ["cosigned by", (latest.cosigners || []).join(", ") || "nobody yet"], ["final size (quorum)", `${answer.final_size ?? 0} entries`]];
  document.getElementById("checkpoint").replaceChildren(...pairs.flatMap(([k, v]) => [el("dt", {}, k), el("dd", { class: k === "root" ? "hash" : "" }, v)]));
  fill(document.querySelector("#witnesses tbody"), (answer.witnesses || []).map((w) => el("tr", {}, el("td", {}, w.witness), el("td", { class: "num" }, w.size), el("td", {}, yesNo(w.final)))));
}

async function loadAgreements() {
  const answer = await getJSON("view/agreements");
  const blocks = (answer.agreements || []).map((a) => el("article", { class: "agreement", "data-agreement": a.id },
    el("h3", {}, `Agreement ${a.id}`, el("span", { class: "muted" }, ` — ${a.status ?? ""}`)),
    el("table", {}, el("caption", {}, "Obligations"), el("thead", {}, el("tr", {}, el("th", {}, "obligation"), el("th", {}, "party"), el("th", {}, "state"), el("th", {}, "due"))),
      el("tbody", {}, ...(a.obligations || []).map((o) => el("tr", { "data-obligation": o.id }, el("td", {}, o.id), el("td", {}, o.party), el("td", { class: `state-${o.state}` }, o.state), el("td", {}, o.due ?? "—"))))),
    el("table", {}, el("caption", {}, "Items by custody step"), el("thead", {}, el("tr", {}, el("th", {}, "step"), el("th", {}, "items (count)"))),
      el("tbody", {}, ...(a.items || []).map((i) => el("tr", {}, el("td", {}, i.state ?? i.step ?? ""), el("td", { class: "num" }, i.count)))))));
  document.getElementById("agreements").replaceChildren(...(blocks.length ? blocks : [el("p", { class: "muted" }, "No agreement on this board.")]));
  fill(document.querySelector("#draws tbody"), (answer.draws || []).map((d) => el("tr", {}, el("td", {}, d.context), el("td", {}, d.escrow_id ?? ""), el("td", { class: "num" }, d.n),
    el("td", { class: "hash" }, (d.selection || []).join(", ")), el("td", { class: d.recomputed ? "ok" : "bad" }, yesNo(d.recomputed)), el("td", {}, yesNo(d.final)))));
}

// ---- start ------------------------------------------------------------------------------------

async function start() {
  initMap();
  try {
    page.summary = await getJSON("view/summary");
  } catch (error) {
    setText("board-status", `The board's view could not be read: ${error.message}`);
    document.body.dataset.ready = "error";
    return;
  }
  const s = page.summary;
  setText("origin", s.origin);
  setText("board-status", `${s.size} entries logged, ${s.final_size} final; quorum: ${(s.quorum || []).join(", ") || "none"}.`);
  const escrows = s.escrows || [];
  const select = document.getElementById("escrow");
  select.replaceChildren(...escrows.map((e, k) => el("option", { value: String(k) }, `${e.escrow_id} (${e.purpose}, ${e.host})`)));
  document.getElementById("escrow-choice").hidden = escrows.length < 2;
  select.onchange = () => loadEscrow(escrows[Number(select.value)]);
  document.getElementById("log-earlier").onclick = () => loadLog(true);
  const first = Math.max(0, escrows.findIndex((e) => e.purpose === "declaration" && e.cells_held));
  select.value = String(first);
  const side = Promise.allSettled([loadLog(false), loadCheckpoints(), loadAgreements()]);
  if (escrows.length) await loadEscrow(escrows[first]);
  else setText("map-status", "No escrow published on this board yet.");
  const failed = (await side).filter((r) => r.status === "rejected");
  if (failed.length) setText("board-status", `${document.getElementById("board-status").textContent} Not shown: ${failed.map((r) => r.reason.message).join("; ")}.`);
  page.timings.ready = performance.now();
  document.body.dataset.ready = "yes";
}

window.unveilPage = { page, parentOf, stateAt: (index, s) => STATES[stateAt(index, s)] };
if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
