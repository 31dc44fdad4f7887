// The board's public page (spec §11): reads this board's read-only /view/… answers and draws them.
// Plain JavaScript module, no build step. Everything it loads comes from the board's own origin
// (static/vendor/…): Leaflet (window.L), h3-js, Natural Earth land outlines.
//
// Cells: every committed cell of the chosen escrow, coloured by its state at the chosen step
// (discrepancy > inspected > opened > sealed). Only what is in view is drawn, and when more
// than LIMIT cells would be, coarser H3 cells are drawn instead, each with its own id and the
// state most of its cells have. Every drawn path carries data-cell, data-state (and, opened,
// data-phase); aggregates also data-cells (how many committed cells they hold).
// All text from the board is set as text (textContent), never as markup. The cells and their
// H3 hierarchy: cells.js; the tables: tables.js.

import * as h3 from "./vendor/h3-js/h3-js.es.js";
import { STATES, boundary, buildTree, centre, parentOf, stateAt, tally, validCells } from "./cells.js";
import { drawEvents, drawReveals, el, getJSON, loadAgreements, loadCheckpoints, loadLog } from "./tables.js";

// The most cell paths drawn at once: 4,000, or ?paths=N (100 to 20,000) for a slower or faster machine.
const LIMIT = Math.min(20000, Math.max(100, Number(new URLSearchParams(location.search).get("paths")) || 4000));
const PHASE_COLOURS = ["#37b24d", "#ae3ec9", "#15aabf", "#ffd43b", "#a0522d", "#7048e8", "#f783ac", "#0b7285"]; // blue and red mean inspected and discrepancy
const STATE_COLOURS = { sealed: "#adb5bd", inspected: "#1971c2", discrepancy: "#e03131" };

const page = { summary: null, escrow: null, cells: null, tree: null, step: -1, sites: [], map: null, drawn: new Map(), renders: 0, timings: {} };

function phaseColour(step) { return PHASE_COLOURS[((step % PHASE_COLOURS.length) + PHASE_COLOURS.length) % PHASE_COLOURS.length]; }
function colourOf(state, step) { return state === "opened" ? phaseColour(step) : STATE_COLOURS[state]; }

// The groups to draw for the map's view: the finest level at which at most LIMIT groups are in
// view, walking down from the coarsest level through the children of what is in view only.
function groupsInView() {
  const bounds = page.map.getBounds();
  const levels = page.tree;
  const R = levels.length - 1;
  // the view widened by a little more than a cell of resolution r, so that a cell whose centre is
  // just outside but which shows at the edge is drawn (degrees of longitude shrink with latitude)
  const widest = Math.max(Math.abs(bounds.getNorth()), Math.abs(bounds.getSouth()));
  const stretch = 1 / Math.max(Math.cos((Math.min(widest, 85) * Math.PI) / 180), 0.05);
  const padded = (r) => {
    const pad = (h3.getHexagonEdgeLengthAvg(r, "km") * 2.5) / 111;
    return L.latLngBounds([bounds.getSouth() - pad, bounds.getWest() - pad * stretch], [bounds.getNorth() + pad, bounds.getEast() + pad * stretch]);
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
  for (const group of groups) tally(page.cells, group, page.step);
  const t2 = performance.now();
  const aggregate = level !== resolution;
  const wanted = new Set(groups.map((g) => g.id));
  for (const [id, entry] of page.drawn) if (!wanted.has(id)) { entry.layer.remove(); page.drawn.delete(id); }
  for (const group of groups) {
    const t = tally(page.cells, group, page.step);
    let entry = page.drawn.get(group.id);
    if (!entry) {
      const layer = L.polygon(boundary(group), { renderer: page.renderer, noClip: true, smoothFactor: 0, ...styleOf(t) });
      layer.bindPopup(() => cellPopup(group, tally(page.cells, group, page.step)));
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
    // its ring shows its cell's state when stronger than opened (a site hides its cell's colour)
    const index = page.cellIndex ? page.cellIndex.get(site.cell) : undefined;
    const state = index === undefined ? "opened" : STATES[stateAt(page.cells, index, page.step)];
    const icon = L.divIcon({ className: `site-marker site-${state}`, iconSize: [14, 14], html: "" });
    const marker = L.marker([site.lat, site.lon], { icon, title: `${site.site_id} ${site.name || ""}`, keyboard: true, zIndexOffset: 1000 });
    marker.bindPopup(() => sitePopup(site), { maxWidth: 420 });
    marker.addTo(page.sitesLayer);
    const node = marker.getElement();
    if (node) { node.setAttribute("data-site", site.site_id); node.setAttribute("data-state", state); }
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
    el("li", {}, el("span", { class: "swatch site" }), "revealed site"), el("li", {}, el("span", { class: "swatch site site-inspected" }), "inspected site"),
    el("li", {}, el("span", { class: "swatch site site-discrepancy" }), "site with a discrepancy"));
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
  mapNode.dataset.escrow = escrow.escrow_id;
  for (const entry of page.drawn.values()) entry.layer.remove();
  page.drawn.clear();
  page.tree = null;
  page.cellIndex = null;
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
  const grid = (escrow.grid && escrow.grid.type) || "h3";
  const usable = cells.status === "fulfilled" && grid === "h3" && validCells(cells.value);
  if (usable) {
    const rows = cells.value.cells || [];
    const n = rows.length;
    page.cells = { resolution: cells.value.resolution, steps: cells.value.steps || [], ids: new Array(n), opened: new Int32Array(n), inspected: new Int32Array(n), discrepancy: new Int32Array(n) };
    rows.forEach((row, k) => { page.cells.ids[k] = row[0]; page.cells.opened[k] = row[1]; page.cells.inspected[k] = row[2]; page.cells.discrepancy[k] = row[3]; });
    page.timings.parsed = performance.now();
    page.cellIndex = new Map(page.cells.ids.map((id, k) => [id, k]));
    page.tree = buildTree(page.cells);
    page.timings.tree = performance.now();
    fitTerritory();
    page.timings.firstDraw = page.timings.lastDraw;
    page.timings.fitted = performance.now();
  } else {
    page.cells = null;
    let why;
    if (grid !== "h3") why = `the escrow's grid is "${grid}", not H3: its cells have no shape to draw`;
    else if (cells.status === "fulfilled") why = "the board's list of cells is not a list of H3 cells of one resolution";
    else if (cells.reason.reason === "cells-missing") why = "this board does not hold the escrow's list of cells (cells.txt)";
    else why = cells.reason.message;
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
  const show = (escrow) => loadEscrow(escrow).catch((error) => setText("map-status", `This escrow could not be shown: ${error.message}`));
  select.onchange = () => show(escrows[Number(select.value)]);
  document.getElementById("log-earlier").onclick = () => loadLog(s.size, true);
  const first = Math.max(0, escrows.findIndex((e) => e.purpose === "declaration" && e.cells_held));
  select.value = String(first);
  const side = Promise.allSettled([loadLog(s.size, false), loadCheckpoints(), loadAgreements()]);
  if (escrows.length) await show(escrows[first]);
  else setText("map-status", "No escrow published on this board yet.");
  const failed = (await side).filter((r) => r.status === "rejected");
  if (failed.length) setText("board-status", `${document.getElementById("board-status").textContent} Not shown: ${failed.map((r) => r.reason.message).join("; ")}.`);
  page.timings.ready = performance.now();
  document.body.dataset.ready = "yes";
}

window.unveilPage = { page, parentOf, stateAt: (index, s) => STATES[stateAt(page.cells, index, s)] }; // for tests and benches
if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
