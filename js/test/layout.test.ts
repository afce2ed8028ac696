import assert from "node:assert/strict";
import { test } from "node:test";
import { addNode } from "../canvas/edit";
import { NODE_WIDTH, STAGE_GAP } from "../canvas/geometry";
import { autoLayout, nodeSize } from "../canvas/layout";
import { describeOp, nestedGraph, stepsGraph } from "./fixtures";

test("a Steps template is laid out one column per stage", async () => {
  const g = await autoLayout(stepsGraph());
  const pos = g.layout!.templates!.main.nodes!;
  assert.equal(pos.squares.x, 0);
  assert.equal(pos.total.x, NODE_WIDTH + STAGE_GAP);
  assert.equal(pos.squares.y, pos.total.y);
});

test("forced layout puts a new stage in its own column", async () => {
  const laid = await autoLayout(stepsGraph());
  const { graph } = addNode(laid, "", "describe", describeOp, { x: 300, y: 0 }, { index: 2, insert: false });
  const g = await autoLayout(graph, true);
  const pos = g.layout!.templates!.main.nodes!;
  assert.deepEqual([pos.squares.x, pos.total.x, pos.describe.x], [0, 330, 660]);
});

test("layout keeps positions already in the document unless forced", async () => {
  const g0 = stepsGraph();
  g0.layout = { templates: { main: { nodes: { squares: { x: 5, y: 7 }, total: { x: 400, y: 9 } } } } };
  const g = await autoLayout(g0);
  assert.deepEqual(g.layout!.templates!.main.nodes!.squares, { x: 5, y: 7 });
  assert.equal(g0.layout.templates!.main.nodes!.squares.x, 5, "the input is not modified");
});

test("a DAG is laid out left to right by elk, with an expanded group sized to its template", async () => {
  const g = await autoLayout(nestedGraph());
  const main = g.layout!.templates!.main.nodes!;
  assert.ok(main["@inputs"].x < main.inner.x && main.inner.x < main.describe.x && main.describe.x < main["@outputs"].x);
  const inner = g.layout!.templates!.pipeline.nodes!;
  assert.ok(inner.squares.x < inner.total.x);
  const size = nodeSize(g, "main", g.templates.main.nodes![0], []);
  assert.ok(size.width > 2 * NODE_WIDTH, `group width ${size.width}`);
});

test("elk's script evaluated on the main thread lays out as the worker does (the no-worker fallback)", async () => {
  const { mainThreadElk } = await import("../canvas/elk");
  const { bundledElkScript } = await import("../canvas/elkScript");
  const elk = await mainThreadElk(await bundledElkScript());
  const laid = await elk.layout({
    id: "root",
    layoutOptions: { "elk.algorithm": "layered", "elk.direction": "RIGHT" },
    children: [
      { id: "a", width: 100, height: 40 },
      { id: "b", width: 100, height: 40 },
    ],
    edges: [{ id: "e", sources: ["a"], targets: ["b"] }],
  });
  const [a, b] = laid.children!;
  assert.ok((a.x ?? 0) + 100 <= (b.x ?? 0), `a at ${a.x}, b at ${b.x}`);
});
