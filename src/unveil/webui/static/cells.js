// The committed cells of one escrow as the board's view gives them (spec §11, GET
// /view/escrows/{id}/cells), and their H3 hierarchy: pure functions, no page, no map.
//
// cells: {resolution, steps, ids, opened, inspected, discrepancy}, the last three Int32Arrays
// of steps (-1: never), index k for the k-th line of cells.txt.

import * as h3 from "./vendor/h3-js/h3-js.es.js";

export const STATES = ["sealed", "opened", "inspected", "discrepancy"]; // weakest to strongest

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
export function buildTree(cells) {
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

export function centre(group) { return (group.centre ??= h3.cellToLatLng(group.id)); }
export function boundary(group) { return (group.boundary ??= h3.cellToBoundary(group.id)); }

// The state of cell `index` at step s (spec: the strongest that applies among events with step ≤ s).
export function stateAt(c, index, s) {
  if (c.discrepancy[index] >= 0 && c.discrepancy[index] <= s) return 3;
  if (c.inspected[index] >= 0 && c.inspected[index] <= s) return 2;
  if (c.opened[index] >= 0 && c.opened[index] <= s) return 1;
  return 0;
}

// How many of a group's cells are in each state at step s, and how many each phase opened (of
// those opened, not stronger): a cell's own, or the sum of its children's (cached per step).
function counts(cells, group, s) {
  group.tallies ??= new Map();
  let c = group.tallies.get(s);
  if (c) return c;
  c = { states: [0, 0, 0, 0], phases: new Map(), count: 0 };
  const add = (cell) => {
    const state = stateAt(cells, cell, s);
    c.states[state] += 1;
    c.count += 1;
    if (state === 1) { const step = cells.opened[cell]; c.phases.set(step, (c.phases.get(step) || 0) + 1); }
  };
  if (group.cell >= 0) add(group.cell);
  for (const child of group.children) {
    if (child.cell >= 0) { add(child.cell); continue; } // a cell: counted here, nothing cached for it
    const d = counts(cells, child, s);
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
export function tally(cells, group, s) {
  const c = counts(cells, group, s);
  let state = 0;
  for (let k = 1; k < 4; k += 1) if (c.states[k] >= c.states[state]) state = k;
  let phase = -1, best = 0;
  for (const [step, n] of c.phases) if (n > best || (n === best && step < phase)) { phase = step; best = n; }
  return { state: STATES[state], phase, count: c.count, discrepancies: c.states[3] };
}

// Whether a cells answer can be drawn: rows [H3 id of its resolution, step, step, step].
export function validCells(answer) {
  const r = answer.resolution;
  if (!Number.isInteger(r) || r < 0 || r > 15 || !Array.isArray(answer.cells)) return false;
  return answer.cells.every((row) => Array.isArray(row) && row.length >= 4 && typeof row[0] === "string" && /^8[0-9a-f]{14}$/.test(row[0])
    && parseInt(row[0][1], 16) === r && row.slice(1, 4).every(Number.isInteger) && h3.isValidCell(row[0]));
}
