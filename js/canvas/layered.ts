// A fast layered layout for large DAG templates (elk's layered algorithm takes seconds on 1,000 nodes and a
// minute on 10,000). Left to right, in three linear-time passes plus sorts:
// 1. layers: the longest path from the sources (Kahn's topological order); nodes on a cycle (an invalid
//    document) go one layer after their placed predecessors, in model order;
// 2. order within a layer: one sweep of barycentres, each node after its predecessors' mean rank (model order
//    breaks ties), which keeps wires from a node's parents mostly straight;
// 3. placement, aspect-aware: a layer taller than `rows` nodes wraps into several columns ("grouped layer"), and
//    a graph much wider than the pane wraps its layers into bands, one below the other. `rows` and the number
//    of bands are chosen to make the whole graph fit a pane of the given aspect at the largest zoom, so a
//    fan-out of 10,000 or 100 layers of 100 fit the view as a block rather than a strip.
// Limits: edges are not routed (React Flow draws them between the handles); node sizes may differ (expanded
// groups), a column is as wide as its widest node; the pane's aspect is a guess when the caller has no pane.

export interface LayeredNode {
  id: string;
  width: number;
  height: number;
}

export interface LayeredOptions {
  /** the pane's width / height the layout should fit */
  aspect?: number;
  /** vertical gap between nodes of a column */
  nodeGap?: number;
  /** horizontal gap between columns (layers, or a wrapped layer's columns) */
  layerGap?: number;
  /** vertical gap between bands */
  bandGap?: number;
  /** node ids pinned to the first / last layer (a template's inputs and outputs) */
  first?: string[];
  last?: string[];
}

export interface LayeredResult {
  positions: Record<string, { x: number; y: number }>;
  /** each layer's bounding box, in layer order (for the overview's layer labels) */
  layers: { x: number; y: number; width: number; height: number; count: number }[];
  width: number;
  height: number;
}

/** Layer index of each node (longest path from the sources). */
export function assignLayers(ids: string[], edges: [string, string][]): Map<string, number> {
  const index = new Map(ids.map((id, i) => [id, i]));
  const out: number[][] = ids.map(() => []);
  const preds: number[][] = ids.map(() => []);
  const indeg = new Int32Array(ids.length);
  for (const [s, t] of edges) {
    const a = index.get(s);
    const b = index.get(t);
    if (a === undefined || b === undefined || a === b) continue;
    out[a].push(b);
    preds[b].push(a);
    indeg[b]++;
  }
  const layer = new Int32Array(ids.length).fill(-1);
  const queue: number[] = [];
  for (let i = 0; i < ids.length; i++) if (!indeg[i]) queue.push(i);
  for (let q = 0; q < queue.length; q++) {
    const a = queue[q];
    if (layer[a] < 0) layer[a] = 0;
    for (const b of out[a]) {
      layer[b] = Math.max(layer[b], layer[a] + 1);
      if (--indeg[b] === 0) queue.push(b);
    }
  }
  // what is left lies on a cycle (or after one): one layer after its placed predecessors, in model order
  for (let i = 0; i < ids.length; i++) {
    if (layer[i] >= 0 && indeg[i] <= 0) continue;
    let l = 0;
    for (const p of preds[i]) if (layer[p] >= 0 && indeg[p] <= 0) l = Math.max(l, layer[p] + 1);
    layer[i] = Math.max(layer[i], l);
    indeg[i] = 0;
  }
  return new Map(ids.map((id, i) => [id, layer[i]]));
}

export function layeredLayout(
  nodes: LayeredNode[],
  edges: [string, string][],
  options: LayeredOptions = {},
): LayeredResult {
  const { aspect = 1.6, nodeGap = 24, layerGap = 70, bandGap = 160 } = options;
  const first = new Set(options.first ?? []);
  const last = new Set(options.last ?? []);
  const ids = nodes.map((n) => n.id);
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const inner = edges.filter(([s, t]) => !first.has(s) && !first.has(t) && !last.has(s) && !last.has(t));
  const layerOf = assignLayers(
    ids.filter((id) => !first.has(id) && !last.has(id)),
    inner,
  );
  const shift = first.size ? 1 : 0;
  let top = -1;
  for (const l of layerOf.values()) top = Math.max(top, l);
  for (const id of first) layerOf.set(id, 0);
  for (const id of layerOf.keys()) if (!first.has(id)) layerOf.set(id, layerOf.get(id)! + shift);
  for (const id of last) layerOf.set(id, top + shift + 1);
  const layerCount = Math.max(0, ...layerOf.values()) + 1;
  const layers: string[][] = Array.from({ length: layerCount }, () => []);
  for (const id of ids) layers[layerOf.get(id)!].push(id); // model order within a layer

  // order: each node after the mean rank of its predecessors in the layers before (one sweep)
  const preds = new Map<string, string[]>();
  for (const [s, t] of edges) {
    if (!layerOf.has(s) || !layerOf.has(t) || layerOf.get(s)! >= layerOf.get(t)!) continue;
    if (!preds.has(t)) preds.set(t, []);
    preds.get(t)!.push(s);
  }
  const rank = new Map<string, number>();
  layers.forEach((layer, l) => {
    if (l > 0) {
      const key = new Map<string, number>();
      layer.forEach((id, i) => {
        const ps = preds.get(id);
        if (!ps?.length) key.set(id, Infinity);
        else {
          let sum = 0;
          for (const p of ps) sum += rank.get(p) ?? 0;
          key.set(id, sum / ps.length);
        }
        rank.set(id, i); // model order, the tie-break
      });
      const nodesWithout = layer.filter((id) => key.get(id) === Infinity);
      const placed = layer.filter((id) => key.get(id) !== Infinity);
      placed.sort((a, b) => key.get(a)! - key.get(b)! || rank.get(a)! - rank.get(b)!);
      // nodes without predecessors keep their model position among the others, roughly
      layer.splice(0, layer.length, ...mergeByModelOrder(placed, nodesWithout, rank));
    }
    layer.forEach((id, i) => rank.set(id, i / Math.max(1, layer.length - 1)));
  });

  // placement: choose the rows of a column and the number of bands for the largest zoom at `aspect`
  const maxW = Math.max(1, ...nodes.map((n) => n.width));
  const meanH = nodes.length ? nodes.reduce((s, n) => s + n.height, 0) / nodes.length : 1;
  const cellW = maxW + layerGap;
  const cellH = meanH + nodeGap;
  const widest = Math.max(1, ...layers.map((l) => l.length));
  let best = { rows: widest, bands: 1, score: -Infinity };
  const rowOptions = new Set<number>([widest]);
  for (let r = 1; r < widest; r = Math.ceil(r * 1.15 + 1)) rowOptions.add(r);
  for (const rows of rowOptions) {
    const columns = layers.map((l) => Math.max(1, Math.ceil(l.length / rows)));
    const totalColumns = columns.reduce((a, b) => a + b, 0);
    const colRows = Math.min(rows, widest);
    for (let bands = 1; bands <= Math.max(1, Math.min(layers.length, 256)); bands++) {
      const perBand = Math.ceil(totalColumns / bands);
      if (bands > 1 && perBand < 2) break;
      const width = perBand * cellW;
      const height = bands * colRows * cellH + (bands - 1) * bandGap;
      const score = Math.min(aspect / width, 1 / height); // the zoom that fits, up to a constant
      if (score > best.score * 1.0001) best = { rows, bands, score };
    }
  }

  // columns: each layer split into ceil(n / rows) columns, then the columns cut into bands (never inside a layer
  // unless a layer alone is wider than a band)
  const columns: { layer: number; ids: string[] }[] = [];
  layers.forEach((layer, l) => {
    for (let i = 0; i < layer.length; i += best.rows) columns.push({ layer: l, ids: layer.slice(i, i + best.rows) });
    if (!layer.length) columns.push({ layer: l, ids: [] });
  });
  const perBand = Math.ceil(columns.length / best.bands);
  const bandsOf: (typeof columns)[] = [];
  let current: typeof columns = [];
  for (const col of columns) {
    const layerStarts = !current.length || current[current.length - 1].layer !== col.layer;
    if (current.length >= perBand && layerStarts) {
      bandsOf.push(current);
      current = [];
    } else if (current.length >= perBand * 1.5) {
      bandsOf.push(current); // a layer wider than a band and a half is cut
      current = [];
    }
    current.push(col);
  }
  if (current.length) bandsOf.push(current);

  const positions: Record<string, { x: number; y: number }> = {};
  const boxes = new Map<number, { x0: number; y0: number; x1: number; y1: number; count: number }>();
  let y = 0;
  let width = 0;
  for (const band of bandsOf) {
    const heights = band.map((c) => c.ids.reduce((s, id) => s + byId.get(id)!.height + nodeGap, -nodeGap));
    const bandHeight = Math.max(0, ...heights);
    let x = 0;
    band.forEach((col, i) => {
      const colWidth = Math.max(0, ...col.ids.map((id) => byId.get(id)!.width));
      let cy = y + (bandHeight - heights[i]) / 2; // centred in its band
      for (const id of col.ids) {
        positions[id] = { x, y: cy };
        cy += byId.get(id)!.height + nodeGap;
      }
      if (col.ids.length) {
        const b = boxes.get(col.layer) ?? { x0: Infinity, y0: Infinity, x1: -Infinity, y1: -Infinity, count: 0 };
        b.x0 = Math.min(b.x0, x);
        b.x1 = Math.max(b.x1, x + colWidth);
        b.y0 = Math.min(b.y0, y + (bandHeight - heights[i]) / 2);
        b.y1 = Math.max(b.y1, cy - nodeGap);
        b.count += col.ids.length;
        boxes.set(col.layer, b);
      }
      x += colWidth + layerGap;
    });
    width = Math.max(width, x - layerGap);
    y += bandHeight + bandGap;
  }
  const out = [...boxes.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([, b]) => ({ x: b.x0, y: b.y0, width: b.x1 - b.x0, height: b.y1 - b.y0, count: b.count }));
  return { positions, layers: out, width, height: Math.max(0, y - bandGap) };
}

/** `placed` (sorted) with `others` put back near their model position (`rank` holds the model index). */
function mergeByModelOrder(placed: string[], others: string[], rank: Map<string, number>): string[] {
  if (!others.length) return placed;
  if (!placed.length) return others;
  const out: string[] = [];
  let j = 0;
  for (let i = 0; i < placed.length; i++) {
    // an unplaced node goes where its model index falls among all the layer's nodes
    while (j < others.length && rank.get(others[j])! <= i + j) out.push(others[j++]);
    out.push(placed[i]);
  }
  while (j < others.length) out.push(others[j++]);
  return out;
}
