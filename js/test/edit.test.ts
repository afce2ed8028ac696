import assert from "node:assert/strict";
import { test } from "node:test";
import { addNode, connect, copyItems, paste, removeItems, setLiteral, updateNode } from "../canvas/edit";
import { History } from "../canvas/history";
import { parseHandle, wireError } from "../canvas/ports";
import { describeOp, nestedGraph, stepsGraph } from "./fixtures";

const main = (g: ReturnType<typeof stepsGraph>) => g.templates.main;

test("adding a node adds its template once, names it uniquely and leaves the input alone", () => {
  const g0 = stepsGraph();
  const a = addNode(g0, "", "describe", describeOp, { x: 1, y: 2 });
  const b = addNode(a.graph, "", "describe", describeOp, { x: 3, y: 4 });
  assert.equal(a.path, "describe");
  assert.equal(b.path, "describe-2");
  assert.deepEqual(
    main(b.graph).nodes!.map((n) => [n.name, n.template, n.stage]),
    [
      ["squares", "squares", 0],
      ["total", "total", 1],
      ["describe", "describe", 2],
      ["describe-2", "describe", 3],
    ],
  );
  assert.equal(main(g0).nodes!.length, 2);
  assert.deepEqual(b.graph.layout!.templates!.main.nodes!["describe-2"], { x: 3, y: 4 });
});

test("a different template of a taken name gets a name of its own", () => {
  const { graph } = addNode(stepsGraph(), "", "total", describeOp, { x: 0, y: 0 });
  assert.equal(graph.templates["total-2"].op, "tutorial_ops:Describe");
  assert.equal(main(graph).nodes![2].template, "total-2");
});

test("a node dropped between two stages inserts a stage", () => {
  const { graph } = addNode(stepsGraph(), "", "describe", describeOp, { x: 0, y: 0 }, { index: 1, insert: true });
  assert.deepEqual(
    main(graph).nodes!.map((n) => [n.name, n.stage]),
    [
      ["squares", 0],
      ["total", 2],
      ["describe", 1],
    ],
  );
});

test("a wire replaces the literal and the wire that fed the same input", () => {
  let g = addNode(stepsGraph(), "", "describe", describeOp, { x: 0, y: 0 }).graph;
  g = setLiteral(g, "describe", "value", 2.5);
  assert.deepEqual(main(g).nodes![2].parameters, { value: 2.5 });
  g = connect(g, "", {
    kind: "parameter",
    source: { node: "total", port: "total" },
    target: { node: "describe", port: "value" },
  });
  assert.equal(main(g).nodes![2].parameters, undefined);
  g = connect(g, "", {
    kind: "parameter",
    source: { node: "squares", port: "count" },
    target: { node: "describe", port: "value" },
  });
  const into = main(g).edges!.filter((e) => e.target.node === "describe");
  assert.deepEqual(
    into.map((e) => e.source.node),
    ["squares"],
  );
});

test("parameters and artifacts cannot be wired to each other", () => {
  const p = parseHandle("out:parameter:count")!;
  const a = parseHandle("in:artifact:table")!;
  assert.match(wireError(p, a)!, /parameter cannot be wired to an artifact/);
  assert.equal(wireError(p, parseHandle("in:parameter:x")!), null);
  assert.equal(wireError(p, parseHandle("opt:with_param")!), null);
  assert.ok(wireError(p, parseHandle("ctl-in")!));
});

test("removing a node removes its wires; renaming rewires and moves its position", () => {
  const g = removeItems(stepsGraph(), ["squares"], []);
  assert.deepEqual(
    main(g).nodes!.map((n) => n.name),
    ["total"],
  );
  assert.deepEqual(main(g).edges, []);
  const g2 = stepsGraph();
  g2.layout = { templates: { main: { nodes: { squares: { x: 9, y: 9 } } } } };
  const r = updateNode(g2, "squares", { name: "make", key: "make-key" });
  assert.equal(r.path, "make");
  assert.equal(main(r.graph).edges![0].source.node, "make");
  assert.equal(main(r.graph).nodes![0].key, "make-key");
  assert.deepEqual(r.graph.layout!.templates!.main.nodes!.make, { x: 9, y: 9 });
  assert.throws(() => updateNode(stepsGraph(), "squares", { name: "total" }), /already exists/);
  const cleared = updateNode(r.graph, "make", { key: undefined }).graph;
  assert.equal("key" in main(cleared).nodes![0], false);
});

test("copy/paste keeps the wires among the copied nodes under fresh names", () => {
  const g = stepsGraph();
  const clip = copyItems(g, ["squares", "total"])!;
  const r = paste(g, "", clip);
  assert.deepEqual(r.paths, ["squares-2", "total-2"]);
  const edges = main(r.graph).edges!;
  assert.equal(edges.length, 2);
  assert.deepEqual([edges[1].source.node, edges[1].target.node], ["squares-2", "total-2"]);
});

test("edits inside a nested template address it by path", () => {
  const g = nestedGraph();
  const r = updateNode(g, "inner/total", { parameters: { scale: 3 } });
  assert.deepEqual(r.graph.templates.pipeline.nodes![1].parameters, { scale: 3 });
  const removed = removeItems(g, ["inner/squares"], []);
  assert.deepEqual(
    removed.templates.pipeline.edges!.map((e) => e.source.node),
    ["total"],
  );
});

test("undo and redo walk the documents", () => {
  const h = new History();
  const g0 = stepsGraph();
  const g1 = removeItems(g0, ["total"], []);
  h.push(g0);
  assert.equal(h.undo(g1), g0);
  assert.equal(h.redo(g0), g1);
  assert.equal(h.redo(g1), null);
});
