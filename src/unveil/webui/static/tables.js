// The page's tables (spec §11 views): reveals, inspections and discrepancies, the log,
// checkpoints, agreements and draws, and the small DOM helpers the page shares. Everything from
// the board is set as text (textContent), never as markup.

export function el(tag, attrs = {}, ...children) {
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

export async function getJSON(path) {
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

export function yesNo(value) { return value ? "yes" : "no"; }
export function short(hex) { return typeof hex === "string" && hex.length > 16 ? `${hex.slice(0, 12)}…` : hex; }
export function fill(tbody, rows) {
  tbody.replaceChildren(...rows);
  if (!rows.length) tbody.append(el("tr", { class: "empty" }, el("td", { colSpan: 20 }, "none")));
}

export function drawReveals(escrow) {
  const rows = (escrow.steps || []).map((st) => el("tr", { "data-step": st.step },
    el("td", { class: "num" }, st.step), el("td", {}, st.phase), el("td", { class: "num" }, st.index), el("td", {}, st.time),
    el("td", { title: st.sha256, class: "hash" }, short(st.sha256)), el("td", { class: "num" }, st.openings), el("td", {}, yesNo(st.final)),
    el("td", {}, ...(st.verifications && st.verifications.length
      ? st.verifications.map((v) => el("span", { class: v.valid ? "ok verdict" : "bad verdict", title: `entry ${v.index}, ${v.time}` },
        `${v.author}: ${v.valid ? "valid" : "INVALID"}${v.problems ? ` (${v.problems} problems)` : ""}`))
      : ["not verified yet"]))));
  fill(document.querySelector("#reveals tbody"), rows);
}

export function drawEvents(events) {
  fill(document.querySelector("#inspections tbody"), (events.inspections || []).map((e) => el("tr", { "data-cell": e.cell },
    el("td", { class: "num" }, e.index), el("td", {}, e.time), el("td", {}, e.author), el("td", {}, e.phase), el("td", { class: "hash" }, e.cell),
    el("td", {}, e.site_id ?? ""), el("td", { class: e.outcome === "confirmed" ? "ok" : "bad" }, e.outcome), el("td", {}, e.detail ?? ""), el("td", {}, yesNo(e.final)))));
  fill(document.querySelector("#discrepancies tbody"), (events.discrepancies || []).map((e) => el("tr", { "data-cell": e.cell },
    el("td", { class: "num" }, e.index), el("td", {}, e.time), el("td", {}, e.author), el("td", {}, e.id), el("td", {}, e.phase), el("td", { class: "hash" }, e.cell),
    el("td", {}, e.detail ?? ""), el("td", {}, yesNo(e.intel_predates_reveal)), el("td", {}, yesNo(e.resolved)), el("td", {}, yesNo(e.final)))));
}

const log = { start: null }; // the first index shown

export async function loadLog(size, earlier) {
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

export async function loadCheckpoints() {
  const answer = await getJSON("view/checkpoints");
  const latest = answer.latest || {};
  const pairs = [["latest checkpoint size", `${latest.size ?? "—"} entries`], ["root", latest.root ?? "—"],
    ["cosigned by", (latest.cosigners || []).join(", ") || "nobody yet"], ["final size (quorum)", `${answer.final_size ?? 0} entries`]];
  document.getElementById("checkpoint").replaceChildren(...pairs.flatMap(([k, v]) => [el("dt", {}, k), el("dd", { class: k === "root" ? "hash" : "" }, v)]));
  fill(document.querySelector("#witnesses tbody"), (answer.witnesses || []).map((w) => el("tr", {}, el("td", {}, w.witness), el("td", { class: "num" }, w.size), el("td", {}, yesNo(w.final)))));
}

// Items per custody step: all of them, then per category (when the view gives categories).
function itemsTable(agreement) {
  const byCategory = agreement.items_by_category || [];
  const categories = [...new Set(byCategory.map((i) => i.category))].sort();
  const count = new Map(byCategory.map((i) => [`${i.state}\u0000${i.category}`, i.count]));
  return el("table", { class: "items-by-step" }, el("caption", {}, "Items by custody step (counts)"),
    el("thead", {}, el("tr", {}, el("th", {}, "step"), el("th", {}, "all items"), ...categories.map((c) => el("th", {}, c)))),
    el("tbody", {}, ...(agreement.items || []).map((i) => el("tr", { "data-custody-step": i.state },
      el("td", {}, i.state ?? ""), el("td", { class: "num" }, i.count),
      ...categories.map((c) => el("td", { class: "num", "data-category": c }, count.get(`${i.state}\u0000${c}`) ?? 0))))));
}

export async function loadAgreements() {
  const answer = await getJSON("view/agreements");
  const blocks = (answer.agreements || []).map((a) => el("article", { class: "agreement", "data-agreement": a.id },
    el("h3", {}, `Agreement ${a.id}`, el("span", { class: "muted" }, ` — ${a.status ?? ""}`)),
    el("table", {}, el("caption", {}, "Obligations"), el("thead", {}, el("tr", {}, el("th", {}, "obligation"), el("th", {}, "party"), el("th", {}, "state"), el("th", {}, "due"))),
      el("tbody", {}, ...(a.obligations || []).map((o) => el("tr", { "data-obligation": o.id }, el("td", {}, o.id), el("td", {}, o.party), el("td", { class: `state-${o.state}` }, o.state), el("td", {}, o.due ?? "—"))))),
    itemsTable(a)));
  document.getElementById("agreements").replaceChildren(...(blocks.length ? blocks : [el("p", { class: "muted" }, "No agreement on this board.")]));
  fill(document.querySelector("#draws tbody"), (answer.draws || []).map((d) => el("tr", {}, el("td", {}, d.context), el("td", {}, d.escrow_id ?? ""), el("td", { class: "num" }, d.n),
    el("td", { class: "hash" }, (d.selection || []).join(", ")), el("td", { class: d.recomputed ? "ok" : "bad" }, yesNo(d.recomputed)), el("td", {}, yesNo(d.final)))));
}
