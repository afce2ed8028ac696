// Where each node's handles are, computed from the geometry the node components and styles.css draw them
// with. React Flow otherwise learns a node's size and handles only by measuring its DOM, so a large graph
// would have to mount every node once, visible or not, before it can draw an edge; given these, it mounts
// only the nodes in view (and the overview draws the rest).
import { type InternalNode, type NodeHandle, Position, useStoreApi } from "@xyflow/react";
import { useState } from "react";
import { GUTTER, groupRowY, rowY } from "./geometry";
import { IO_WIDTH } from "./layout";
import { type Port, handleId } from "./ports";
import { runAll } from "./slices";
import type { FlowNode, IoData, StepData } from "./view";

// Sizes from styles.css (`.dfl-handle` and its variants); a handle turned 45° takes its diagonal.
const PORT = 11;
const CONTROL = 8;
const OPTION = 9 * Math.SQRT2;
const portSize = (p: Port) => (p.kind === "artifact" ? PORT * Math.SQRT2 : PORT);
const BORDER = 1; // handles sit in the node's padding box, inside its 1 px border
const GROUP_BORDER = 1.5;

/** A handle whose centre is at (cx, cy) of the node box, `size` across. */
function at(
  id: string,
  type: "source" | "target",
  position: Position,
  cx: number,
  cy: number,
  size: number,
): NodeHandle {
  return { id, type, position, x: cx - size / 2, y: cy - size / 2, width: size, height: size };
}

function controlHandles(d: StepData, b: number): NodeHandle[] {
  const hs = [at("opt:with_param", "target", Position.Top, b + 34, b, OPTION)];
  if (d.ownerKind === "dag") {
    hs.push(at("ctl-in", "target", Position.Left, b, b + 14, CONTROL));
    hs.push(at("ctl-out", "source", Position.Right, d.width - b, b + 14, CONTROL));
  }
  return hs;
}

/** The handles of a drawn node, in node coordinates (React Flow's `Node.handles`). */
export function declaredHandles(n: FlowNode): NodeHandle[] {
  if (n.type === "lane") return [];
  if (n.type === "io") {
    const d = n.data as IoData;
    const inputs = d.side === "inputs";
    return d.ports.map((p, i) =>
      inputs
        ? at(
            handleId({ role: "out", kind: p.kind, port: p.name }),
            "source",
            Position.Right,
            IO_WIDTH - BORDER,
            BORDER + rowY(i),
            portSize(p),
          )
        : at(
            handleId({ role: "in", kind: p.kind, port: p.name }),
            "target",
            Position.Left,
            BORDER,
            BORDER + rowY(i),
            portSize(p),
          ),
    );
  }
  const d = n.data as StepData;
  if (n.type === "step") {
    const b = BORDER;
    return [
      ...controlHandles(d, b),
      ...d.inputs.map((p, i) =>
        at(handleId({ role: "in", kind: p.kind, port: p.name }), "target", Position.Left, b, b + rowY(i), portSize(p)),
      ),
      ...d.outputs.map((p, i) =>
        at(
          handleId({ role: "out", kind: p.kind, port: p.name }),
          "source",
          Position.Right,
          d.width - b,
          b + rowY(i),
          portSize(p),
        ),
      ),
    ];
  }
  // An expanded group: outer handles on its sides, inner ones on its gutters (translated by half their size
  // away from the gutter line, as React Flow's left/right handle classes do).
  const b = GROUP_BORDER;
  const hs = controlHandles(d, b);
  d.inputs.forEach((p, i) => {
    const s = portSize(p);
    hs.push(at(handleId({ role: "in", kind: p.kind, port: p.name }), "target", Position.Left, b, b + groupRowY(i), s));
    hs.push(
      at(
        handleId({ role: "inner-in", kind: p.kind, port: p.name }),
        "source",
        Position.Right,
        b + GUTTER + PORT,
        b + groupRowY(i),
        s,
      ),
    );
  });
  d.outputs.forEach((p, i) => {
    const s = portSize(p);
    hs.push(
      at(
        handleId({ role: "inner-out", kind: p.kind, port: p.name }),
        "target",
        Position.Left,
        d.width - b - GUTTER - PORT,
        b + groupRowY(i),
        s,
      ),
    );
    hs.push(
      at(
        handleId({ role: "out", kind: p.kind, port: p.name }),
        "source",
        Position.Right,
        d.width - b,
        b + groupRowY(i),
        s,
      ),
    );
  });
  return hs;
}

/** The drawn size of a node (what React Flow would measure). */
export function declaredSize(n: FlowNode): { width: number; height: number } {
  if (n.type === "io") return { width: IO_WIDTH, height: (n.data as IoData).height };
  return { width: Number(n.style?.width ?? 0), height: Number(n.style?.height ?? 0) };
}

/** `nodes` with their sizes and handles declared, so that React Flow needs to mount only what is in view. */
export function withDeclaredGeometry(nodes: FlowNode[]): FlowNode[] {
  const out: FlowNode[] = [];
  runAll(declaredGeometrySteps(nodes, out));
  return out;
}

/** withDeclaredGeometry as steps (one a node, see slices.ts), appending to `out`. */
export function* declaredGeometrySteps(nodes: FlowNode[], out: FlowNode[]): Generator<void, void, undefined> {
  for (const n of nodes) {
    out.push({ ...n, measured: declaredSize(n), handles: declaredHandles(n) } as FlowNode);
    yield;
  }
}

/** Whether React Flow knows, without measuring, what measuring node `n` would tell it: its size and handles. */
export const isDeclared = (n: InternalNode): boolean =>
  !!(n.handles && n.measured.width && n.measured.height && n.internals.handleBounds);

type Measure = ReturnType<ReturnType<typeof useStoreApi>["getState"]>["updateNodeInternals"];

/**
 * Keep React Flow from measuring the nodes whose size and handles are declared (`withDeclaredGeometry`). It
 * observes every node it mounts with a ResizeObserver, whose first report re-reads the node's box and each of
 * its handles' from the DOM and then re-renders every node and edge it holds, although nothing changed: in a
 * large graph's hand-over that doubled the work of each batch of mounted nodes. Call it in a component inside
 * the `ReactFlowProvider` that renders before `<ReactFlow>` does (its observer keeps the store's function of
 * its first render).
 */
export function useDeclaredGeometry(): void {
  const store = useStoreApi();
  useState(() => {
    const measure = store.getState().updateNodeInternals;
    const measureUndeclared: Measure = (updates, params) => {
      const { nodeLookup } = store.getState();
      const needed: typeof updates = new Map();
      for (const [id, update] of updates) {
        const n = nodeLookup.get(id);
        if (!n || !isDeclared(n)) needed.set(id, update);
      }
      if (needed.size) measure(needed, params);
    };
    store.setState({ updateNodeInternals: measureUndeclared });
    return true;
  });
}
