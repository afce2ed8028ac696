// Two runs compared on the graph, for every host of the monitor (the lab's tab, the notebook widget): the
// node marks of a comparison (dflow_lab.runview.compare.compare_runs), its summary line, and a step panel
// with the other run's side — per item inside a fan-out group. The host fetches; these only combine.
import type { KeyedStore } from "./store";
import type { NodeStatus, StepDetails } from "./types";

export type CompareState = "changed" | "unchanged" | "added" | "removed";

/** Two runs compared node by node: `a` the other run, `b` the shown one. A fan-out's entry lists its
 * changed items (index → state and fields; the others are unchanged) and counts them by state. */
export interface Comparison {
  a: string;
  b: string;
  paths: Record<
    string,
    {
      state: CompareState;
      fields: string[];
      duration: { a: number | null; b: number | null };
      items?: Record<string, { state: CompareState; fields?: string[] }>;
      item_counts?: Partial<Record<CompareState, number>>;
    }
  >;
  counts: Partial<Record<CompareState, number>>;
}

/** The status changes that draw comparison `next` on the graph (null: none), clearing the marks of `prev`. */
export function compareMarks(
  status: KeyedStore<NodeStatus>,
  prev: Comparison | null,
  next: Comparison | null,
): Record<string, NodeStatus> {
  const out: Record<string, NodeStatus> = {};
  for (const path of Object.keys(prev?.paths ?? {})) {
    const s = status.get(path);
    if (s) out[path] = { ...s, compare: null };
  }
  for (const [path, e] of Object.entries(next?.paths ?? {})) {
    const s = out[path] ?? status.get(path) ?? { phase: "Pending" as const };
    out[path] = { ...s, compare: { state: e.state, fields: e.fields, other: next!.a } };
  }
  return out;
}

/** "Compared with X: 2 changed, 2 unchanged, 0 added, 0 removed". */
export function compareSummary(c: Comparison): string {
  const n = c.counts;
  return (
    `Compared with ${c.a}: ${n.changed ?? 0} changed, ${n.unchanged ?? 0} unchanged, ` +
    `${n.added ?? 0} added, ${n.removed ?? 0} removed`
  );
}

/** The step panel `d` of the shown run with the other run's side `other` of the same step (or item). */
export function withComparison(d: StepDetails, other: StepDetails | null, c: Comparison | null): StepDetails {
  const entry = c?.paths[d.path];
  if (!c || !entry) return d;
  const item = d.item ?? null;
  const perItem = item !== null && entry.items !== undefined;
  const itemEntry = perItem ? entry.items![String(item)] : undefined;
  return {
    ...d,
    compare: {
      run: c.a,
      state: perItem ? (itemEntry?.state ?? "unchanged") : entry.state,
      fields: perItem ? (itemEntry?.fields ?? []) : entry.fields,
      duration: perItem ? (other?.duration ?? null) : entry.duration.a,
      details: other,
      items: entry.items,
      itemCounts: entry.item_counts,
    },
  };
}
