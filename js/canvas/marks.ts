// Performance marks for the benchmarks (benchmarks/lab_open.py reads them back with
// performance.getEntriesByType("mark")): the stages of opening a document (text in, parsed, laid out, first
// overview frame) and of following a run. A mark is kept once per name until the page clears them, so a mark
// placed on every frame costs a lookup, not an entry.
const placed = new Set<string>();

/** Place the mark `name` unless it is already there (cleared by performance.clearMarks from the page). */
export function mark(name: string): void {
  if (typeof performance === "undefined" || !performance.mark) return;
  if (placed.has(name) && performance.getEntriesByName(name, "mark").length) return;
  placed.add(name);
  performance.mark(name);
}
