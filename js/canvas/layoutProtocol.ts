// The messages between the canvas and its layout worker (layoutWorker.ts, started by layoutClient.ts), kept
// cheap to copy: a structured clone of 10,000 small objects costs the main thread tens of ms, typed arrays a
// copy of their bytes. A request carries the node ids once, their sizes in one Float64Array and the edges as
// index pairs in one Int32Array; the answer carries only the positions, x and y interleaved in node order, in a
// transferred Float64Array (no copy at all). Pure functions, run alike in the worker, on the main thread (the
// fallback when no worker can start) and in the unit tests.
import { type LayeredNode, type LayeredOptions, layeredLayout } from "./layered";

export interface LayoutRequest {
  id: number;
  ids: string[];
  sizes: Float64Array; // width, height of each node, in `ids` order
  edges: Int32Array; // source index, target index of each edge (edges to unknown nodes dropped)
  options: LayeredOptions;
}

export interface LayoutAnswer {
  id: number;
  xy: Float64Array; // x, y of each node, in the request's `ids` order
  error?: string;
}

export function encodeRequest(
  id: number,
  nodes: LayeredNode[],
  edges: [string, string][],
  options: LayeredOptions,
): LayoutRequest {
  const ids = nodes.map((n) => n.id);
  const index = new Map(ids.map((x, i) => [x, i]));
  const sizes = new Float64Array(nodes.length * 2);
  nodes.forEach((n, i) => {
    sizes[2 * i] = n.width;
    sizes[2 * i + 1] = n.height;
  });
  const pairs: number[] = [];
  for (const [s, t] of edges) {
    const a = index.get(s);
    const b = index.get(t);
    if (a !== undefined && b !== undefined) pairs.push(a, b);
  }
  return { id, ids, sizes, edges: Int32Array.from(pairs), options };
}

/** Run a request (in the worker, or on the main thread): layered.ts's layout, its positions packed. */
export function answer(req: LayoutRequest): LayoutAnswer {
  const nodes: LayeredNode[] = req.ids.map((id, i) => ({ id, width: req.sizes[2 * i], height: req.sizes[2 * i + 1] }));
  const edges: [string, string][] = [];
  for (let k = 0; k < req.edges.length; k += 2) edges.push([req.ids[req.edges[k]], req.ids[req.edges[k + 1]]]);
  const { positions } = layeredLayout(nodes, edges, req.options);
  const xy = new Float64Array(req.ids.length * 2);
  req.ids.forEach((id, i) => {
    const p = positions[id];
    xy[2 * i] = p?.x ?? 0;
    xy[2 * i + 1] = p?.y ?? 0;
  });
  return { id: req.id, xy };
}

/** The positions of an answer, by node id. */
export function decodeAnswer(ids: string[], a: LayoutAnswer): Record<string, { x: number; y: number }> {
  const out: Record<string, { x: number; y: number }> = {};
  ids.forEach((id, i) => {
    out[id] = { x: a.xy[2 * i], y: a.xy[2 * i + 1] };
  });
  return out;
}
