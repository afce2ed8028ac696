// Graph documents shared by the canvas unit tests (the shapes of docs/graph-format.md).
import { setElkScript } from "../canvas/elk";
import { bundledElkScript } from "../canvas/elkScript";
import type { Graph, Template } from "../canvas/types";

// the tests lay out with elk as the lab extension does: its script bundled as text (elk.ts)
setElkScript(bundledElkScript);

export const squaresOp: Template = {
  kind: "python",
  op: "tutorial_ops:Squares",
  inputs: { parameters: { n: { type: "int" } } },
  outputs: { parameters: { count: { type: "int" } }, artifacts: { table: { type: "pathlib.Path" } } },
};
export const totalOp: Template = {
  kind: "python",
  op: "tutorial_ops:Total",
  inputs: { parameters: { scale: { type: "float" } }, artifacts: { table: { type: "pathlib.Path" } } },
  outputs: { parameters: { total: { type: "float" } } },
};
export const describeOp: Template = {
  kind: "python",
  op: "tutorial_ops:Describe",
  inputs: { parameters: { value: { type: "float" } } },
  outputs: { parameters: { text: { type: "str" } } },
};

export function stepsGraph(): Graph {
  return {
    version: 1,
    name: "squares",
    entrypoint: "main",
    templates: {
      main: {
        kind: "steps",
        nodes: [
          { name: "squares", template: "squares", stage: 0, parameters: { n: 4 } },
          { name: "total", template: "total", stage: 1, parameters: { scale: 0.5 } },
        ],
        edges: [
          { kind: "artifact", source: { node: "squares", port: "table" }, target: { node: "total", port: "table" } },
        ],
      },
      squares: squaresOp,
      total: totalOp,
    },
  };
}

/** A DAG whose middle task runs a nested Steps template. */
export function nestedGraph(): Graph {
  return {
    version: 1,
    name: "nested",
    entrypoint: "main",
    templates: {
      main: {
        kind: "dag",
        inputs: { parameters: { n: { type: "int", default: 3 } } },
        outputs: { parameters: { text: { type: "str" } } },
        nodes: [
          { name: "inner", template: "pipeline" },
          { name: "describe", template: "describe" },
        ],
        edges: [
          { kind: "parameter", source: { node: "@inputs", port: "n" }, target: { node: "inner", port: "n" } },
          { kind: "parameter", source: { node: "inner", port: "total" }, target: { node: "describe", port: "value" } },
          { kind: "parameter", source: { node: "describe", port: "text" }, target: { node: "@outputs", port: "text" } },
        ],
      },
      pipeline: {
        kind: "steps",
        inputs: { parameters: { n: { type: "int" } } },
        outputs: { parameters: { total: { type: "float" } } },
        nodes: [
          { name: "squares", template: "squares", stage: 0 },
          { name: "total", template: "total", stage: 1, parameters: { scale: 1 } },
        ],
        edges: [
          { kind: "parameter", source: { node: "@inputs", port: "n" }, target: { node: "squares", port: "n" } },
          { kind: "artifact", source: { node: "squares", port: "table" }, target: { node: "total", port: "table" } },
          { kind: "parameter", source: { node: "total", port: "total" }, target: { node: "@outputs", port: "total" } },
        ],
      },
      squares: squaresOp,
      total: totalOp,
      describe: describeOp,
    },
  };
}

/** A laid-out DAG of `n` tasks in layers of `width`, each fed by the task in the same row of the layer before
 * (the shape of benchmarks/canvas_render.py). */
export function wideDag(n: number, width = 25): Graph {
  const nodes = [];
  const edges = [];
  const positions: Record<string, { x: number; y: number }> = {};
  for (let i = 0; i < n; i++) {
    const layer = Math.floor(i / width);
    nodes.push({ name: `t${i}`, template: "describe" });
    if (layer)
      edges.push({
        kind: "parameter" as const,
        source: { node: `t${i - width}`, port: "text" },
        target: { node: `t${i}`, port: "value" },
      });
    positions[`t${i}`] = { x: layer * 330, y: (i % width) * 110 };
  }
  return {
    version: 1,
    name: "wide",
    entrypoint: "main",
    templates: { main: { kind: "dag", nodes, edges }, describe: describeOp },
    layout: { templates: { main: { nodes: positions } } },
  };
}
