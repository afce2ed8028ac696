// Performance marks for the benchmarks (benchmarks/lab_open.py reads them back with
// performance.getEntriesByType("mark")): the stages of opening a document (text in, parsed, laid out, first
// overview frame) and of following a run. A mark is kept once per name until the page clears them, so a mark
// placed on every frame costs a lookup, not an entry.
const placed = new Set<string>();

/** Place the mark `name` unless it is already there (cleared by performance.clearMarks from the page). */
export function mark(name: string): void {
  if (typeof performance === "undefined" || !performance.mark) return;
  // the marks alone (a handful), not getEntriesByName: that took 40 ms with thousands of resource timings
  if (placed.has(name) && performance.getEntriesByType("mark").some((m) => m.name === name)) return;
  placed.add(name);
  performance.mark(name);
}
