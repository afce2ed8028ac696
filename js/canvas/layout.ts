// Automatic layout. A DAG template is laid out left to right by elkjs (layered, port-aware); a Steps
// template by its stages, one column per stage. Nested templates are laid out first so that an expanded
// group node is sized to hold them. Positions go into the document's `layout.templates[...].nodes`.
// elk runs in a Web Worker where it can (elk.ts). A DAG of more than FAST_LAYOUT nodes is laid out by
// layered.ts instead (linear time, aspect-aware: wide layers wrap into columns, long graphs into bands), since
// elk takes seconds on 1,000 nodes and about a minute on 10,000; layered.ts itself runs in a worker where it can
// (layoutClient.ts), and the document is not copied whole (only its layout is new), so that opening 10,000 tasks
// leaves the main thread free.
import type { ElkExtendedEdge, ElkNode } from "elkjs/lib/elk-api";
import { elkLayout } from "./elk";
import { layeredPositions } from "./layoutClient";
import {
  FOOT,
  GROUP_HEADER,
  GROUP_PAD,
  GUTTER,
  HEADER,
  NODE_GAP,
  NODE_WIDTH,
  ROW,
  STAGE_GAP,
  stepHeight,
} from "./geometry";
import { inputPorts, outputPorts, portCounts } from "./ports";
import { isContainer } from "./scope";
import type { Graph, GraphNode, Position, Template, TemplateLayout } from "./types";

export const IO_WIDTH = 180;
/** DAG templates with more nodes than this are laid out by layered.ts, not elk. */
export const FAST_LAYOUT = 400;

export interface LayoutOptions {
  /** width / height of the pane the graph will be shown in (large DAGs are laid out to fit it) */
  aspect?: number;
}

export interface Size {
  width: number;
  height: number;
}

export function templateLayout(graph: Graph, template: string): TemplateLayout {
  return graph.layout?.templates?.[template] ?? {};
}

/** Whether the node `node` of template `owner` is drawn as an expanded group (with its template inside). */
export function isExpanded(graph: Graph, owner: string, node: GraphNode, stack: string[]): boolean {
  const t = graph.templates[node.template];
  if (!isContainer(t) || stack.includes(node.template)) return false;
  return !templateLayout(graph, owner).nodes?.[node.name]?.collapsed;
}

export function ioSize(rows: number): Size {
  return { width: IO_WIDTH, height: HEADER + Math.max(rows, 1) * ROW + FOOT };
}

/** The bounding box of a template's laid-out nodes (origin at 0,0). */
export function contentBox(graph: Graph, name: string, stack: string[]): Size {
  const t = graph.templates[name];
  const positions = templateLayout(graph, name).nodes ?? {};
  let width = 0;
  let height = 0;
  for (const node of t?.nodes ?? []) {
    const p = positions[node.name];
    if (!p) continue;
    const s = nodeSize(graph, name, node, stack);
    width = Math.max(width, p.x + s.width);
    height = Math.max(height, p.y + s.height);
  }
  return { width, height };
}

/** The drawn size of node `node` of template `owner`; `stack` holds the templates enclosing it. */
export function nodeSize(graph: Graph, owner: string, node: GraphNode, stack: string[]): Size {
  const t = graph.templates[node.template];
  const [ins, outs] = portCounts(t);
  const rows = Math.max(ins, outs);
  if (!isExpanded(graph, owner, node, stack)) return { width: NODE_WIDTH, height: stepHeight(rows) };
  const inner = contentBox(graph, node.template, [...stack, owner]);
  return {
    width: GUTTER * 2 + inner.width + GROUP_PAD * 2,
    height: GROUP_HEADER + Math.max(inner.height + GROUP_PAD * 2, rows * ROW + 24),
  };
}

/** The first spot at or below `pos` where a node of `size` overlaps no node of template `owner`. */
export function freeSpot(graph: Graph, owner: string, pos: { x: number; y: number }, size: Size, stack: string[]) {
  const positions = templateLayout(graph, owner).nodes ?? {};
  const boxes = (graph.templates[owner]?.nodes ?? [])
    .filter((n) => positions[n.name])
    .map((n) => {
      const p = positions[n.name];
      const s = nodeSize(graph, owner, n, stack);
      return { x0: p.x - 12, y0: p.y - 12, x1: p.x + s.width + 12, y1: p.y + s.height + 12 };
    });
  const spot = { ...pos };
  for (let tries = 0; tries < 500; tries++) {
    const hit = boxes.find(
      (b) => spot.x < b.x1 && spot.x + size.width > b.x0 && spot.y < b.y1 && spot.y + size.height > b.y0,
    );
    if (!hit) break;
    spot.y = hit.y1;
  }
  return spot;
}

function needsLayout(graph: Graph, name: string): boolean {
  const positions = templateLayout(graph, name).nodes ?? {};
  return (graph.templates[name]?.nodes ?? []).some((n) => !positions[n.name]);
}

/** Set template `name`'s node positions in `graph`, whose `layout` and `layout.templates` are its own (copied by
 * autoLayout): the template's layout is replaced, never modified, since the input document shares it. */
function setPositions(graph: Graph, name: string, positions: Record<string, Position>): void {
  const templates = graph.layout!.templates!;
  const tl = templates[name] ?? {};
  const old = tl.nodes ?? {};
  const nodes: NonNullable<TemplateLayout["nodes"]> = {};
  for (const [key, p] of Object.entries(positions)) {
    nodes[key] = { ...old[key], x: Math.round(p.x), y: Math.round(p.y) };
  }
  templates[name] = { ...tl, nodes };
}

/** Stage columns for a Steps template. */
function layoutSteps(graph: Graph, name: string, t: Template, stack: string[], io: boolean): Record<string, Position> {
  const ins = io ? inputPorts(t).length : 0;
  const outs = io ? outputPorts(t).length : 0;
  const stages = new Map<number, GraphNode[]>();
  for (const node of t.nodes ?? []) {
    const s = node.stage ?? 0;
    if (!stages.has(s)) stages.set(s, []);
    stages.get(s)!.push(node);
  }
  const positions: Record<string, Position> = {};
  let x = 0;
  if (ins) {
    positions["@inputs"] = { x: 0, y: 0 };
    x = IO_WIDTH + STAGE_GAP;
  }
  for (const s of [...stages.keys()].sort((a, b) => a - b)) {
    let y = 0;
    let width = 0;
    for (const node of stages.get(s)!) {
      const size = nodeSize(graph, name, node, stack);
      positions[node.name] = { x, y };
      y += size.height + NODE_GAP;
      width = Math.max(width, size.width);
    }
    x += width + STAGE_GAP;
  }
  if (outs) positions["@outputs"] = { x, y: 0 };
  return positions;
}

async function layoutDag(
  graph: Graph,
  name: string,
  t: Template,
  stack: string[],
  io: boolean,
  options: LayoutOptions,
) {
  if ((t.nodes?.length ?? 0) > FAST_LAYOUT) return layoutLarge(graph, name, t, stack, io, options);
  const children: ElkNode[] = [];
  const portIds = new Set<string>();
  const addNode = (id: string, size: Size, ins: string[], outs: string[]) => {
    const ports = [
      ...ins.map((p, i) => ({
        id: `${id}|in|${p}`,
        layoutOptions: { "elk.port.side": "WEST", "elk.port.index": String(i) },
      })),
      ...outs.map((p, i) => ({
        id: `${id}|out|${p}`,
        layoutOptions: { "elk.port.side": "EAST", "elk.port.index": String(i) },
      })),
    ];
    ports.forEach((p) => portIds.add(p.id));
    children.push({ id, ...size, ports, layoutOptions: { "elk.portConstraints": "FIXED_ORDER" } });
  };
  for (const node of t.nodes ?? []) {
    const tt = graph.templates[node.template];
    addNode(
      node.name,
      nodeSize(graph, name, node, stack),
      inputPorts(tt).map((p) => p.name),
      outputPorts(tt).map((p) => p.name),
    );
  }
  if (io) {
    const ins = inputPorts(t).map((p) => p.name);
    const outs = outputPorts(t).map((p) => p.name);
    if (ins.length) addNode("@inputs", ioSize(ins.length), [], ins);
    if (outs.length) addNode("@outputs", ioSize(outs.length), outs, []);
  }
  const names = new Set(children.map((c) => c.id));
  const edges: ElkExtendedEdge[] = [];
  (t.edges ?? []).forEach((e, i) => {
    if (!names.has(e.source.node) || !names.has(e.target.node)) return;
    const sp = e.source.port ? `${e.source.node}|out|${e.source.port}` : e.source.node;
    const tp = e.target.port ? `${e.target.node}|in|${e.target.port}` : e.target.node;
    edges.push({
      id: `e${i}`,
      sources: [portIds.has(sp) ? sp : e.source.node],
      targets: [portIds.has(tp) ? tp : e.target.node],
    });
  });
  const result = await elkLayout({
    id: "root",
    layoutOptions: {
      "elk.algorithm": "layered",
      "elk.direction": "RIGHT",
      "elk.spacing.nodeNode": String(NODE_GAP),
      "elk.layered.spacing.nodeNodeBetweenLayers": String(STAGE_GAP),
      "elk.layered.crossingMinimization.semiInteractive": "true",
      "elk.layered.considerModelOrder.strategy": "NODES_AND_EDGES",
    },
    children,
    edges,
  });
  const positions: Record<string, Position> = {};
  for (const c of result.children ?? []) positions[c.id] = { x: c.x ?? 0, y: c.y ?? 0 };
  return positions;
}

/** A large DAG template, by layered.ts (no port-aware ordering: a node's ports keep their fixed order anyway). */
function layoutLarge(graph: Graph, name: string, t: Template, stack: string[], io: boolean, options: LayoutOptions) {
  const nodes = (t.nodes ?? []).map((node) => ({ id: node.name, ...nodeSize(graph, name, node, stack) }));
  const first: string[] = [];
  const last: string[] = [];
  if (io) {
    const ins = inputPorts(t).length;
    const outs = outputPorts(t).length;
    if (ins) {
      nodes.push({ id: "@inputs", ...ioSize(ins) });
      first.push("@inputs");
    }
    if (outs) {
      nodes.push({ id: "@outputs", ...ioSize(outs) });
      last.push("@outputs");
    }
  }
  const edges: [string, string][] = (t.edges ?? []).map((e) => [e.source.node, e.target.node]);
  return layeredPositions(nodes, edges, { aspect: options.aspect, first, last });
}

/**
 * Lay out every template that has nodes without a position (or every template when `force`), inner
 * templates first. Returns a new document; the input is not modified.
 */
export async function autoLayout(input: Graph, force = false, options: LayoutOptions = {}): Promise<Graph> {
  return (await layoutChanges(input, force, options)).graph;
}

/**
 * autoLayout, saying whether it placed anything: `changed` false returns the input itself. The document is not
 * copied: the result shares everything with the input but its `layout`, `layout.templates` and the layouts of
 * the templates it placed (documents are never modified in place: edit.ts copies them).
 */
export async function layoutChanges(
  input: Graph,
  force = false,
  options: LayoutOptions = {},
): Promise<{ graph: Graph; changed: boolean }> {
  const graph: Graph = { ...input, layout: { ...input.layout, templates: { ...input.layout?.templates } } };
  let changed = false;
  const done = new Set<string>();
  const visit = async (name: string, stack: string[]) => {
    const t = graph.templates[name];
    if (!isContainer(t) || done.has(name)) return;
    done.add(name);
    for (const node of t.nodes ?? []) {
      if (isExpanded(graph, name, node, stack)) await visit(node.template, [...stack, name]);
    }
    const top = stack.length === 0;
    if (!force && !needsLayout(graph, name)) return;
    let positions: Record<string, Position>;
    if (t.kind === "steps") {
      positions = layoutSteps(graph, name, t, stack, top);
    } else {
      positions = await layoutDag(graph, name, t, stack, top, options);
    }
    setPositions(graph, name, positions);
    changed = true;
  };
  await visit(graph.entrypoint, []);
  return changed ? { graph, changed } : { graph: input, changed };
}
