// The overview of a large graph: below OVERVIEW_ZOOM the canvas draws every node and wire into one <canvas>
// (Overview.tsx) instead of mounting thousands of DOM nodes. This module holds the drawing-independent part:
// when to switch, the scene in flow coordinates, culling to the viewport, styles by phase, hit testing.
import { type NodeHandle, Position } from "@xyflow/react";
import { declaredHandles, declaredSize } from "./handles";
import { runAll } from "./slices";
import type { EdgeKind } from "./types";
import type { FlowEdge, FlowNode, StepData } from "./view";

/** Graphs with more nodes than this render only what is in view, and switch to the overview when small. */
export const LARGE_GRAPH = 400;
/** Below this zoom a large graph is drawn as an overview. It is the zoom below which nodes would turn compact
 * (nodes.tsx COMPACT_ZOOM): the overview, with names, reads as well as compact nodes, and beyond it the DOM
 * would hold hundreds of nodes, each costing React Flow work on every frame. */
export const OVERVIEW_ZOOM = 0.45;
/** The zoom a click on the overview goes to: readable nodes, port names and badges. */
export const READABLE_ZOOM = 0.8;

export const showsOverview = (nodeCount: number, zoom: number): boolean =>
  nodeCount > LARGE_GRAPH && zoom < OVERVIEW_ZOOM;

export interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

export interface SceneNode extends Box {
  path: string;
  kind: "step" | "container" | "io" | "lane";
  label: string;
}

export interface SceneEdge extends Box {
  kind: EdgeKind;
  source: string; // node ids
  target: string;
}

export interface Scene {
  nodes: SceneNode[]; // in drawing order: lanes, groups (outer first), then steps and io nodes
  edges: SceneEdge[]; // (x0, y0) the source end, (x1, y1) the target end
  bounds: Box;
}

export interface Viewport {
  x: number;
  y: number;
  zoom: number;
}

const ORDER = { lane: 0, container: 1, step: 2, io: 2 } as const;

/** Where React Flow draws a wire's end at handle `h` of a node whose box is `s` (its getHandlePosition). */
function handlePoint(s: Box, h: NodeHandle): [number, number] {
  const x = s.x0 + h.x;
  const y = s.y0 + h.y;
  const w = h.width ?? 0;
  const hh = h.height ?? 0;
  if (h.position === Position.Left) return [x, y + hh / 2];
  if (h.position === Position.Right) return [x + w, y + hh / 2];
  if (h.position === Position.Top) return [x + w / 2, y];
  return [x + w / 2, y + hh];
}

/** The scene of a view: nodes at their absolute positions, and each wire's two ends at its handles. */
export function buildScene(nodes: FlowNode[], edges: FlowEdge[]): Scene {
  const out: { scene?: Scene } = {};
  runAll(sceneSteps(nodes, edges, out));
  return out.scene!;
}

/** buildScene as steps (one a node or wire, see slices.ts); `out.scene` is set at the end. */
export function* sceneSteps(
  nodes: FlowNode[],
  edges: FlowEdge[],
  result: { scene?: Scene },
): Generator<void, void, undefined> {
  const byId = new Map<string, { box: SceneNode; node: FlowNode; handles?: NodeHandle[] }>();
  const out: SceneNode[] = [];
  for (const n of nodes) {
    const parent = n.parentId ? byId.get(n.parentId)?.box : undefined;
    const x0 = n.position.x + (parent?.x0 ?? 0);
    const y0 = n.position.y + (parent?.y0 ?? 0);
    const { width, height } = declaredSize(n);
    const label = n.type === "lane" ? String(n.data.label) : n.type === "io" ? "" : (n.data as StepData).node.name;
    const box: SceneNode = { path: n.id, kind: n.type ?? "step", label, x0, y0, x1: x0 + width, y1: y0 + height };
    byId.set(n.id, { box, node: n });
    out.push(box);
    yield;
  }
  const end = (id: string, handle: string | null | undefined): [number, number] | null => {
    const entry = byId.get(id);
    if (!entry) return null;
    entry.handles ??= declaredHandles(entry.node);
    const h = entry.handles.find((x) => x.id === handle);
    return h ? handlePoint(entry.box, h) : null;
  };
  const sceneEdges: SceneEdge[] = [];
  for (const e of edges) {
    const a = end(e.source, e.sourceHandle);
    const b = end(e.target, e.targetHandle);
    if (a && b) {
      sceneEdges.push({
        kind: e.data?.edge.kind ?? "parameter",
        source: e.source,
        target: e.target,
        x0: a[0],
        y0: a[1],
        x1: b[0],
        y1: b[1],
      });
    }
    yield;
  }
  out.sort((a, b) => ORDER[a.kind] - ORDER[b.kind]); // stable: outer groups stay before inner ones
  const bounds = { x0: Infinity, y0: Infinity, x1: -Infinity, y1: -Infinity };
  for (const s of out) {
    bounds.x0 = Math.min(bounds.x0, s.x0);
    bounds.y0 = Math.min(bounds.y0, s.y0);
    bounds.x1 = Math.max(bounds.x1, s.x1);
    bounds.y1 = Math.max(bounds.y1, s.y1);
  }
  result.scene = { nodes: out, edges: sceneEdges, bounds };
}

/** The part of the flow a `width`×`height` pane shows at viewport `vp`. */
export function visibleBox(vp: Viewport, width: number, height: number): Box {
  return { x0: -vp.x / vp.zoom, y0: -vp.y / vp.zoom, x1: (width - vp.x) / vp.zoom, y1: (height - vp.y) / vp.zoom };
}

export const overlaps = (a: Box, b: Box): boolean => a.x0 <= b.x1 && a.x1 >= b.x0 && a.y0 <= b.y1 && a.y1 >= b.y0;

/** Whether a wire can cross `box` (its bounding box, with room for the curve's bulge, overlaps it). */
export function edgeInView(e: SceneEdge, box: Box): boolean {
  const bulge = Math.abs(e.x1 - e.x0) / 2 + 30;
  return (
    Math.min(e.x0, e.x1) - bulge <= box.x1 &&
    Math.max(e.x0, e.x1) + bulge >= box.x0 &&
    Math.min(e.y0, e.y1) <= box.y1 &&
    Math.max(e.y0, e.y1) >= box.y0
  );
}

/** How a node is painted: CSS custom properties of the canvas's theme (styles.css), resolved when drawing. */
export interface NodePaint {
  fill: string;
  stroke: string;
  width: number; // stroke width in screen pixels
}

const PHASE_FILL: Record<string, string> = {
  Succeeded: "--dfl-ok",
  Running: "--dfl-running",
  Failed: "--dfl-bad",
  Error: "--dfl-error",
  Pending: "--dfl-pending",
  Skipped: "--dfl-bg3",
  Omitted: "--dfl-bg3",
};

/** The paint of a node: filled with its phase's colour when it has one (monitor mode), outlined in red when
 * validation found problems, in the accent colour when selected. */
export function nodePaint(
  kind: SceneNode["kind"],
  phase: string | undefined,
  issues: boolean,
  selected: boolean,
): NodePaint {
  if (kind === "lane") return { fill: "--dfl-lane", stroke: "--dfl-border", width: 0 };
  const fill =
    (phase && PHASE_FILL[phase]) || (kind === "container" ? "--dfl-group" : kind === "io" ? "--dfl-bg2" : "--dfl-bg");
  const stroke = selected ? "--dfl-accent" : issues ? "--dfl-bad" : "--dfl-border";
  return { fill, stroke, width: selected || issues ? 2 : 1 };
}

export const paintKey = (p: NodePaint): string => `${p.fill}|${p.stroke}|${p.width}`;

/** The nodes in `box` (of `only`, when given), grouped by paint in first-drawn order, so that each group is
 * one fill and one stroke. */
export function batchNodes(
  scene: Scene,
  box: Box,
  paintOf: (n: SceneNode) => NodePaint,
  only?: ReadonlySet<string>,
): { paint: NodePaint; nodes: SceneNode[] }[] {
  const groups = new Map<string, { paint: NodePaint; nodes: SceneNode[] }>();
  for (const n of scene.nodes) {
    if (!overlaps(n, box) || (only && !only.has(n.path))) continue;
    const paint = paintOf(n);
    const key = `${ORDER[n.kind]}|${paintKey(paint)}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { paint, nodes: [] }));
    g.nodes.push(n);
  }
  return [...groups.values()];
}

/** `box` grown by `f` of its size on every side. */
export const grown = (b: Box, f: number): Box => {
  const dx = (b.x1 - b.x0) * f;
  const dy = (b.y1 - b.y0) * f;
  return { x0: b.x0 - dx, y0: b.y0 - dy, x1: b.x1 + dx, y1: b.y1 + dy };
};

export interface HandOver {
  hide: string[]; // nodes React Flow lets go of (the overview draws them)
  show: string[]; // nodes React Flow takes (and mounts)
  waiting: number; // hidden nodes in view still waiting after this frame's share
}

export interface HandOverLimits {
  mount: number; // nodes given to React Flow this frame: each mounts as DOM
  unmount: number; // nodes taken from it this frame: each unmounts
}

/** How far ahead of the view (a fraction of it on each side) React Flow is given nodes once the view is still:
 * a short pan then finds them mounted already. */
const AHEAD = 0.1;
/** Beyond this margin around the view (a fraction of it on each side) React Flow lets go of nodes. */
const KEEP = 0.2;

/**
 * This frame's share of the hand-over between React Flow and the overview, within `limits`. Zoomed out
 * (`overview`), every node it holds goes to the overview. Zoomed in, React Flow takes the hidden nodes in `view`
 * first, then, once none waits, those within AHEAD of it, and lets go of those beyond KEEP. React Flow mounts
 * every node it holds (it does not cull), so the share is what this frame mounts and unmounts.
 */
export function handOver(
  scene: Scene,
  hidden: ReadonlySet<string>,
  overview: boolean,
  view: Box,
  limits: HandOverLimits,
): HandOver {
  const out: HandOver = { hide: [], show: [], waiting: 0 };
  const zone = grown(view, KEEP);
  const ahead = grown(view, AHEAD);
  const next: string[] = [];
  for (const n of scene.nodes) {
    if (!hidden.has(n.path)) {
      if (out.hide.length < limits.unmount && (overview || !overlaps(n, zone))) out.hide.push(n.path);
    } else if (overview) {
      continue;
    } else if (overlaps(n, view)) {
      if (out.show.length < limits.mount) out.show.push(n.path);
      else out.waiting++;
    } else if (next.length < limits.mount && overlaps(n, ahead)) {
      next.push(n.path);
    }
  }
  if (!out.waiting) out.show.push(...next.slice(0, limits.mount - out.show.length));
  return out;
}

/**
 * What React Flow holds: the nodes not `hidden`, plus hidden copies (`copyOf`) of the hidden nodes it must
 * still know: selected ones (so that the selection survives the hand-over), the groups around a node it
 * holds, and the far ends of wires from the nodes it shows (so that it draws those wires; a hidden node is not
 * mounted); and the edges with a shown end (or selected). The rest it never sees, so its own work each frame
 * follows the view, not the size of the graph.
 */
export function held(
  nodes: FlowNode[],
  edges: FlowEdge[],
  hidden: ReadonlySet<string>,
  copyOf: (n: FlowNode) => FlowNode,
): { nodes: FlowNode[]; edges: FlowEdge[] } {
  if (!hidden.size) return { nodes, edges };
  const heldEdges = edges.filter((e) => e.selected || !hidden.has(e.source) || !hidden.has(e.target));
  const needed = new Set<string>();
  for (const e of heldEdges) {
    needed.add(e.source);
    needed.add(e.target);
  }
  for (const n of nodes) if (n.selected) needed.add(n.id);
  let parentOf: Map<string, string | undefined> | undefined;
  for (const n of nodes) {
    if (!n.parentId || (hidden.has(n.id) && !needed.has(n.id))) continue;
    parentOf ??= new Map(nodes.map((m) => [m.id, m.parentId]));
    for (let p: string | undefined = n.parentId; p && !needed.has(p); p = parentOf.get(p)) needed.add(p);
  }
  const heldNodes: FlowNode[] = [];
  for (const n of nodes) {
    if (!hidden.has(n.id)) heldNodes.push(n);
    else if (needed.has(n.id)) heldNodes.push(copyOf(n));
  }
  return { nodes: heldNodes, edges: heldEdges };
}

/** The topmost step (or group, io node) at flow point (x, y). */
export function nodeAt(scene: Scene, x: number, y: number): SceneNode | undefined {
  for (let i = scene.nodes.length - 1; i >= 0; i--) {
    const n = scene.nodes[i];
    if (n.kind !== "lane" && x >= n.x0 && x <= n.x1 && y >= n.y0 && y <= n.y1) return n;
  }
  return undefined;
}

/** The viewport that shows flow point (x, y) at the centre of a `width`×`height` pane at `zoom`. */
export const centredOn = (x: number, y: number, zoom: number, width: number, height: number): Viewport => ({
  x: width / 2 - x * zoom,
  y: height / 2 - y * zoom,
  zoom,
});
