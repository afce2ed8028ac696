// The document drawn as React Flow nodes and edges: steps and tasks, expanded Steps/DAG groups with
// their inner nodes, the workflow's inputs/outputs, and Steps stage lanes.
import type { Edge, Node } from "@xyflow/react";
import { GROUP_HEADER, GROUP_PAD, GUTTER, NODE_WIDTH, STAGE_GAP } from "./geometry";
import { IO_WIDTH, contentBox, ioSize, isExpanded, nodeSize, templateLayout } from "./layout";
import { type Port, handleId, inputPorts, outputPorts } from "./ports";
import { joinPath } from "./scope";
import { runAll } from "./slices";
import type { Graph, GraphEdge, GraphNode, Template } from "./types";

export interface StepData extends Record<string, unknown> {
  path: string;
  scope: string;
  owner: string; // the template that holds the node
  ownerKind: Template["kind"];
  node: GraphNode;
  template: Template | undefined;
  inputs: Port[];
  outputs: Port[];
  expanded: boolean;
  expandable: boolean;
  wired: { ctlIn: boolean; ctlOut: boolean; withParam: boolean }; // option/control handles in use
  width: number;
  height: number;
}

export interface IoData extends Record<string, unknown> {
  path: string;
  side: "inputs" | "outputs";
  ports: Port[];
  height: number;
}

export interface LaneData extends Record<string, unknown> {
  label: string;
  width: number;
  height: number;
}

export interface EdgeData extends Record<string, unknown> {
  scope: string;
  edge: GraphEdge;
}

export type StepNode = Node<StepData, "step" | "container">;
export type FlowNode = StepNode | Node<IoData, "io"> | Node<LaneData, "lane">;
export type FlowEdge = Edge<EdgeData>;

export function edgeId(scope: string, e: GraphEdge): string {
  const end = (p: GraphEdge["source"]) => `${p.node}.${p.port ?? p.option ?? ""}`;
  return `${scope}|${e.kind}|${end(e.source)}>${end(e.target)}`;
}

export interface View {
  nodes: FlowNode[];
  edges: FlowEdge[];
}

/** Build the drawn view of `graph` (whose layout must hold positions: see `autoLayout`). */
export function buildView(graph: Graph): View {
  const out: View = { nodes: [], edges: [] };
  runAll(viewSteps(graph, out));
  return out;
}

/** buildView as steps (one a node or wire, see slices.ts), filling `out`: a large graph's view is built in
 * slices that leave the main thread free between them. */
export function* viewSteps(graph: Graph, out: View): Generator<void, void, undefined> {
  const { nodes, edges } = out;
  const entry = graph.templates[graph.entrypoint];
  if (!entry) return;

  const addScope = function* (
    scope: string,
    owner: string,
    stack: string[],
    parent: string | undefined,
  ): Generator<void, void, undefined> {
    const t = graph.templates[owner];
    const positions = templateLayout(graph, owner).nodes ?? {};
    const offset = parent ? { x: GUTTER + GROUP_PAD, y: GROUP_HEADER + GROUP_PAD } : { x: 0, y: 0 };
    if (t.kind === "steps") addLanes(graph, owner, t, stack, scope, parent, offset, nodes);
    const ctlIn = new Set<string>();
    const ctlOut = new Set<string>();
    const fanned = new Set<string>();
    for (const e of t.edges ?? []) {
      if (e.kind === "control") {
        ctlOut.add(e.source.node);
        ctlIn.add(e.target.node);
      }
      if (e.target.option === "with_param") fanned.add(e.target.node);
    }
    const known = new Map<Template | undefined, { inputs: Port[]; outputs: Port[] }>();
    const portsOf = (tt: Template | undefined) => {
      let p = known.get(tt);
      if (!p) known.set(tt, (p = { inputs: inputPorts(tt), outputs: outputPorts(tt) }));
      return p;
    };
    for (const node of t.nodes ?? []) {
      const path = joinPath(scope, node.name);
      const tt = graph.templates[node.template];
      const expanded = isExpanded(graph, owner, node, stack);
      const size = nodeSize(graph, owner, node, stack);
      const pos = positions[node.name] ?? { x: 0, y: 0 };
      nodes.push({
        id: path,
        type: expanded ? "container" : "step",
        position: { x: pos.x + offset.x, y: pos.y + offset.y },
        ...(parent ? { parentId: parent, extent: "parent" as const } : {}),
        style: { width: size.width, height: size.height },
        data: {
          path,
          scope,
          owner,
          ownerKind: t.kind,
          node,
          template: tt,
          inputs: portsOf(tt).inputs,
          outputs: portsOf(tt).outputs,
          expanded,
          expandable: !!tt && (tt.kind === "steps" || tt.kind === "dag") && !stack.includes(node.template),
          wired: { ctlIn: ctlIn.has(node.name), ctlOut: ctlOut.has(node.name), withParam: fanned.has(node.name) },
          width: size.width,
          height: size.height,
        },
      });
      if (expanded) yield* addScope(path, node.template, [...stack, owner], path);
      yield;
    }
    for (const e of t.edges ?? []) {
      edges.push(flowEdge(scope, e));
      yield;
    }
  };

  if (entry.kind === "steps" || entry.kind === "dag") {
    const positions = templateLayout(graph, graph.entrypoint).nodes ?? {};
    const box = contentBox(graph, graph.entrypoint, []);
    const ins = inputPorts(entry);
    const outs = outputPorts(entry);
    if (ins.length) {
      nodes.push({
        id: "@inputs",
        type: "io",
        position: positions["@inputs"] ?? { x: -IO_WIDTH - STAGE_GAP, y: 0 },
        data: { path: "@inputs", side: "inputs", ports: ins, height: ioSize(ins.length).height },
      });
    }
    if (outs.length) {
      nodes.push({
        id: "@outputs",
        type: "io",
        position: positions["@outputs"] ?? { x: box.width + STAGE_GAP, y: 0 },
        data: { path: "@outputs", side: "outputs", ports: outs, height: ioSize(outs.length).height },
      });
    }
    yield* addScope("", graph.entrypoint, [], undefined);
  }
}

function addLanes(
  graph: Graph,
  owner: string,
  t: Template,
  stack: string[],
  scope: string,
  parent: string | undefined,
  offset: { x: number; y: number },
  out: FlowNode[],
) {
  const positions = templateLayout(graph, owner).nodes ?? {};
  const lanes = new Map<number, { x0: number; x1: number; y0: number; y1: number }>();
  for (const node of t.nodes ?? []) {
    const p = positions[node.name];
    if (!p) continue;
    const s = nodeSize(graph, owner, node, stack);
    const stage = node.stage ?? 0;
    const b = lanes.get(stage) ?? { x0: Infinity, x1: -Infinity, y0: Infinity, y1: -Infinity };
    lanes.set(stage, {
      x0: Math.min(b.x0, p.x),
      x1: Math.max(b.x1, p.x + s.width),
      y0: Math.min(b.y0, p.y),
      y1: Math.max(b.y1, p.y + s.height),
    });
  }
  const pad = 10;
  for (const [stage, b] of [...lanes.entries()].sort((a, c) => a[0] - c[0])) {
    out.push({
      id: `${scope}#stage-${stage}`,
      type: "lane",
      position: { x: b.x0 + offset.x - pad, y: b.y0 + offset.y - pad - 18 },
      ...(parent ? { parentId: parent } : {}),
      selectable: false,
      draggable: false,
      focusable: false,
      zIndex: -1,
      style: { width: b.x1 - b.x0 + 2 * pad, height: b.y1 - b.y0 + 2 * pad + 18 },
      data: {
        label: `stage ${stage + 1}`,
        width: Math.max(b.x1 - b.x0, NODE_WIDTH) + 2 * pad,
        height: b.y1 - b.y0 + 2 * pad + 18,
      },
    });
  }
}

function flowEdge(scope: string, e: GraphEdge): FlowEdge {
  const inner = (node: string) => node === "@inputs" || node === "@outputs";
  const nodeId = (node: string) => (inner(node) ? scope || node : joinPath(scope, node));
  let sourceHandle: string;
  let targetHandle: string;
  if (e.kind === "control") {
    sourceHandle = "ctl-out";
    targetHandle = "ctl-in";
  } else {
    const kind = e.kind;
    sourceHandle = handleId({
      role: e.source.node === "@inputs" && scope ? "inner-in" : "out",
      kind,
      port: e.source.port ?? "",
    });
    targetHandle =
      e.target.option === "with_param"
        ? handleId({ role: "with_param" })
        : handleId({
            role: e.target.node === "@outputs" && scope ? "inner-out" : "in",
            kind,
            port: e.target.port ?? "",
          });
  }
  return {
    id: edgeId(scope, e),
    source: nodeId(e.source.node),
    target: nodeId(e.target.node),
    sourceHandle,
    targetHandle,
    className: `dfl-edge dfl-edge-${e.kind}`,
    data: { scope, edge: e },
  };
}
