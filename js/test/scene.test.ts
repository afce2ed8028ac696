import assert from "node:assert/strict";
import { test } from "node:test";
import { NODE_WIDTH } from "../canvas/geometry";
import { type InternalNode } from "@xyflow/react";
import { adoptUserNodes } from "@xyflow/system";
import { declaredHandles, declaredSize, isDeclared, withDeclaredGeometry } from "../canvas/handles";
import { autoLayout } from "../canvas/layout";
import {
  LARGE_GRAPH,
  OVERVIEW_ZOOM,
  batchNodes,
  buildScene,
  centredOn,
  edgeInView,
  grown,
  handOver,
  held,
  nodeAt,
  nodePaint,
  overlaps,
  showsOverview,
  visibleBox,
} from "../canvas/scene";
import { buildView } from "../canvas/view";
import type { FlowNode } from "../canvas/view";
import { nestedGraph, wideDag } from "./fixtures";

test("only a large graph zoomed out is drawn as an overview", () => {
  assert.equal(showsOverview(LARGE_GRAPH + 1, OVERVIEW_ZOOM - 0.01), true);
  assert.equal(showsOverview(LARGE_GRAPH + 1, OVERVIEW_ZOOM), false);
  assert.equal(showsOverview(LARGE_GRAPH, 0.05), false, "a small graph stays DOM at any zoom");
});

test("the scene puts a group's nodes at absolute positions and wires ports at their rows", async () => {
  const v = buildView(await autoLayout(nestedGraph()));
  const scene = buildScene(v.nodes, v.edges);
  const at = (p: string) => scene.nodes.find((n) => n.path === p)!;
  const inner = at("inner");
  const squares = at("inner/squares");
  const child = v.nodes.find((n) => n.id === "inner/squares")!;
  assert.equal(squares.x0, inner.x0 + child.position.x);
  assert.equal(squares.y0, inner.y0 + child.position.y);
  assert.equal(squares.x1 - squares.x0, NODE_WIDTH);
  assert.deepEqual(
    scene.nodes.map((n) => n.kind).indexOf("container") < scene.nodes.map((n) => n.kind).indexOf("step"),
    true,
    "groups are drawn before the steps inside them",
  );
  assert.equal(scene.edges.length, v.edges.length);
  // every wire end lies where React Flow draws it from the declared handles
  const byId = new Map(v.nodes.map((n) => [n.id, n]));
  v.edges.forEach((e, i) => {
    const se = scene.edges[i];
    for (const [id, handle, x, y] of [
      [e.source, e.sourceHandle, se.x0, se.y0],
      [e.target, e.targetHandle, se.x1, se.y1],
    ] as const) {
      const h = declaredHandles(byId.get(id)!).find((d) => d.id === handle);
      assert.ok(h, `${id} declares ${handle}`);
      const node = at(id);
      const hx = node.x0 + h.x + (h.position === "left" ? 0 : h.width!);
      const hy = node.y0 + h.y + h.height! / 2;
      assert.deepEqual([x, y], [hx, hy], `${e.id} at ${id}`);
    }
  });
});

test("declared geometry gives every node its drawn size and every wired handle", async () => {
  const v = buildView(await autoLayout(nestedGraph()));
  const nodes = withDeclaredGeometry(v.nodes);
  for (const n of nodes) assert.deepEqual(n.measured, declaredSize(n));
  const io = nodes.find((n) => n.id === "@outputs")!;
  assert.equal(io.measured!.width, 180);
  const ids = (id: string) => new Set(declaredHandles(nodes.find((n) => n.id === id)!).map((h) => h.id));
  for (const e of v.edges) {
    assert.ok(ids(e.source).has(e.sourceHandle!), `${e.source} declares ${e.sourceHandle}`);
    assert.ok(ids(e.target).has(e.targetHandle!), `${e.target} declares ${e.targetHandle}`);
  }
});

test("React Flow takes declared nodes as measured (none is measured again once mounted); others it must measure", async () => {
  const v = buildView(await autoLayout(nestedGraph()));
  const adopt = (nodes: FlowNode[]) => {
    const lookup = new Map<string, InternalNode<FlowNode>>();
    adoptUserNodes(nodes, lookup, new Map());
    return [...lookup.values()];
  };
  const declared = adopt(withDeclaredGeometry(v.nodes));
  assert.equal(declared.length, v.nodes.length);
  assert.ok(declared.every(isDeclared));
  assert.ok(
    adopt(v.nodes).every((n) => !isDeclared(n)),
    "a node without declared geometry is measured",
  );
});

test("culling keeps the nodes and wires in view; paints batch by phase", () => {
  const v = buildView(wideDag(1000));
  const scene = buildScene(v.nodes, v.edges);
  const box = visibleBox({ x: 0, y: 0, zoom: 0.5 }, 650, 430); // flow (0,0)-(1300,860): layers 0-3, rows 0-7
  const phases: Record<string, string> = { t0: "Succeeded", t1: "Failed" };
  const batches = batchNodes(scene, box, (n) => nodePaint(n.kind, phases[n.path], false, n.path === "t2"));
  const drawn = batches.flatMap((b) => b.nodes.map((n) => n.path));
  assert.equal(drawn.length, 4 * 8);
  assert.ok(!drawn.includes("t200"));
  assert.deepEqual(
    batches.map((b) => b.nodes.length).sort((a, b) => a - b),
    [1, 1, 1, 29],
  );
  assert.equal(batches.find((b) => b.nodes[0].path === "t0")!.paint.fill, "--dfl-ok");
  assert.equal(batches.find((b) => b.nodes[0].path === "t2")!.paint.stroke, "--dfl-accent");
  const wires = scene.edges.filter((e) => edgeInView(e, box));
  assert.ok(wires.length >= 3 * 8 && wires.length < 60, `${wires.length} wires in view`);
});

test("a click on the overview finds the topmost node and centres it", async () => {
  const v = buildView(await autoLayout(nestedGraph()));
  const scene = buildScene(v.nodes, v.edges);
  const s = scene.nodes.find((n) => n.path === "inner/total")!;
  assert.equal(nodeAt(scene, s.x0 + 5, s.y0 + 5)!.path, "inner/total", "the step, not its group");
  assert.equal(nodeAt(scene, -1e6, 0), undefined);
  const vp = centredOn(100, 50, 0.8, 1000, 600);
  assert.deepEqual([vp.x + 100 * vp.zoom, vp.y + 50 * vp.zoom], [500, 300]);
});

function handOverAll(nodes: FlowNode[], hidden: Set<string>, overview: boolean, zoom: number) {
  const v = { nodes, edges: [] };
  const scene = buildScene(v.nodes, v.edges);
  const view = visibleBox({ x: 0, y: 0, zoom }, 1000, 800);
  const frames: { hide: string[]; show: string[] }[] = [];
  for (let i = 0; i < 100; i++) {
    const step = handOver(scene, hidden, overview, view, { mount: 12, unmount: 80 });
    if (!step.hide.length && !step.show.length) break;
    step.hide.forEach((id) => hidden.add(id));
    step.show.forEach((id) => hidden.delete(id));
    frames.push(step);
  }
  return { frames, view, scene };
}

test("in the overview, React Flow lets go of every node it holds, a share a frame, and takes none", () => {
  const nodes = buildView(wideDag(1000)).nodes;
  const hidden = new Set(nodes.map((n) => n.id).filter((id) => Number(id.slice(1)) >= 200));
  const { frames } = handOverAll(nodes, hidden, true, OVERVIEW_ZOOM - 0.05);
  assert.equal(hidden.size, 1000);
  assert.ok(frames.every((f) => f.show.length === 0 && f.hide.length <= 80));
  assert.equal(frames.length, 3, "200 nodes at 80 a frame");
});

test("leaving the overview gives React Flow the nodes in view, a few a frame, and keeps the others hidden", () => {
  const nodes = buildView(wideDag(5000)).nodes;
  const hidden = new Set(nodes.map((n) => n.id));
  const zoom = 0.6;
  const { frames, view, scene } = handOverAll(nodes, hidden, false, zoom);
  const inView = scene.nodes.filter((n) => n.x0 <= view.x1 && n.x1 >= view.x0 && n.y0 <= view.y1 && n.y1 >= view.y0);
  assert.ok(frames.every((f) => f.show.length <= 12));
  assert.ok(inView.every((n) => !hidden.has(n.path)));
  const ahead = grown(view, 0.1);
  const holding = scene.nodes.filter((n) => !hidden.has(n.path));
  assert.ok(holding.length > inView.length && holding.every((n) => overlaps(n, ahead)), "and those just around it");
  // panning far away lets go of what is now far outside the view, and takes what came into it
  const moved = buildScene(nodes, []);
  const far = visibleBox({ x: -20000 * zoom, y: 0, zoom }, 1000, 800);
  const step = handOver(moved, hidden, false, far, { mount: 12, unmount: 1000 });
  assert.equal(step.hide.length, holding.length);
  assert.equal(step.show.length, 12);
});

test("React Flow holds the shown nodes, and hidden copies of selected ones, of groups and of wires' far ends", async () => {
  const v = buildView(await autoLayout(nestedGraph()));
  const nodes = v.nodes.map((n) => (n.id === "describe" ? { ...n, selected: true } : n));
  const hidden = new Set(nodes.map((n) => n.id).filter((id) => id !== "inner/total"));
  const h = held(nodes, v.edges, hidden, (n) => ({ ...n, hidden: true }));
  const ids = new Map(h.nodes.map((n) => [n.id, !!n.hidden]));
  assert.equal(ids.get("inner/total"), false, "the shown node");
  assert.equal(ids.get("describe"), true, "selected");
  assert.equal(ids.get("inner"), true, "its group, and the far end of its output wire");
  assert.equal(ids.get("inner/squares"), true, "the far end of its input wire");
  assert.equal(ids.has("@inputs"), false);
  assert.deepEqual(
    h.edges.map((e) => e.id).sort(),
    v.edges
      .filter((e) => e.source === "inner/total" || e.target === "inner/total")
      .map((e) => e.id)
      .sort(),
  );
  const none = held(nodes, v.edges, new Set(), (n) => n);
  assert.equal(none.nodes, nodes, "nothing hidden: the same arrays");
  assert.equal(none.edges, v.edges);
});

test("ahead of a moving view, nodes just outside it are handed over once those in view are", () => {
  const nodes = buildView(wideDag(5000)).nodes;
  const scene = buildScene(nodes, []);
  const view = visibleBox({ x: 0, y: 0, zoom: 0.6 }, 1000, 800);
  const limits = { mount: 8, unmount: 80 };
  const hidden = new Set(nodes.map((n) => n.id));
  const first = handOver(scene, hidden, false, view, limits);
  assert.equal(first.show.length, 8, "only nodes in view while some still wait");
  assert.ok(first.waiting > 0);
  const inView = scene.nodes.filter((n) => n.x0 <= view.x1 && n.y0 <= view.y1).map((n) => n.path);
  inView.forEach((id) => hidden.delete(id));
  const next = handOver(scene, hidden, false, view, limits);
  assert.equal(next.waiting, 0);
  assert.ok(
    next.show.length > 0 && next.show.length <= 8 && next.show.every((id) => !inView.includes(id)),
    "ahead nodes within the same share",
  );
  const margin = (view.x1 - view.x0) * 0.1;
  assert.ok(next.show.every((id) => scene.nodes.find((n) => n.path === id)!.x0 <= view.x1 + margin));
});
