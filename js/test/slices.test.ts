import assert from "node:assert/strict";
import { test } from "node:test";
import { autoLayout, layoutChanges } from "../canvas/layout";
import { layeredLayout } from "../canvas/layered";
import { answer, decodeAnswer, encodeRequest } from "../canvas/layoutProtocol";
import { buildScene, sceneSteps, type Scene } from "../canvas/scene";
import { Cancelled, drain, runAll } from "../canvas/slices";
import { buildView, viewSteps, type View } from "../canvas/view";
import { declaredGeometrySteps, withDeclaredGeometry } from "../canvas/handles";
import type { Graph } from "../canvas/types";

function* counter(n: number, log: number[]): Generator<void, void, undefined> {
  for (let i = 0; i < n; i++) {
    log.push(i);
    yield;
  }
}

/** A clock that advances `per` ms each time it is read. */
const ticking = (per: number) => {
  let t = 0;
  return () => (t += per);
};

test("drain cuts a generator into slices of its budget, pausing between them, in order", async () => {
  const log: number[] = [];
  let pauses = 0;
  const slices = await drain(counter(100, log), {
    budget: 10,
    check: 1,
    now: ticking(1), // each step reads the clock once: a slice is about ten steps
    pause: async () => {
      pauses++;
    },
  });
  assert.deepEqual(
    log,
    Array.from({ length: 100 }, (_, i) => i),
  );
  assert.equal(slices, pauses + 1);
  assert.ok(slices >= 9 && slices <= 11, `${slices} slices`);
});

test("drain stops at the end of a slice once cancelled", async () => {
  const log: number[] = [];
  let stop = false;
  await assert.rejects(
    drain(counter(100, log), {
      budget: 5,
      check: 1,
      now: ticking(1),
      pause: async () => {
        stop = true;
      },
      cancelled: () => stop,
    }),
    Cancelled,
  );
  assert.ok(log.length < 100 && log.length > 0);
});

function big(n: number): Graph {
  const nodes = Array.from({ length: n }, (_, i) => ({ name: `t${i}`, template: "work" }));
  const edges = Array.from({ length: n - 10 }, (_, i) => ({
    kind: "parameter" as const,
    source: { node: `t${i}`, port: "y" },
    target: { node: `t${i + 10}`, port: "x" },
  }));
  return {
    version: 1,
    name: "big",
    entrypoint: "main",
    templates: {
      main: { kind: "dag", nodes, edges },
      work: {
        kind: "shell",
        image: "alpine:3",
        script: "echo",
        inputs: { parameters: { x: { type: "int" } } },
        outputs: { parameters: { y: { type: "int", value_from_path: "/tmp/y" } } },
      },
    },
  } as Graph;
}

test("the sliced view, declared geometry and scene equal the ones built at once", async () => {
  const g = await autoLayout(big(600));
  const view: View = { nodes: [], edges: [] };
  await drain(viewSteps(g, view), { budget: 0, pause: async () => undefined });
  assert.deepEqual(view, buildView(g));
  const nodes: typeof view.nodes = [];
  await drain(declaredGeometrySteps(view.nodes, nodes), { budget: 0, pause: async () => undefined });
  assert.deepEqual(nodes, withDeclaredGeometry(view.nodes));
  const out: { scene?: Scene } = {};
  runAll(sceneSteps(nodes, view.edges, out));
  assert.deepEqual(out.scene, buildScene(nodes, view.edges));
  assert.equal(out.scene!.nodes.length, 600);
  assert.equal(out.scene!.edges.length, 590);
});

test("the layout worker's messages: ids once, sizes and edges as typed arrays, positions as layered.ts's", () => {
  const nodes = Array.from({ length: 30 }, (_, i) => ({ id: `n${i}`, width: 240, height: 60 + (i % 3) * 10 }));
  const edges: [string, string][] = nodes.slice(5).map((n, i) => [`n${i}`, n.id]);
  edges.push(["n1", "nowhere"]); // an edge to an unknown node is dropped, as layered.ts ignores it
  const req = encodeRequest(7, nodes, edges, { aspect: 2 });
  assert.ok(req.sizes instanceof Float64Array && req.sizes.length === 60);
  assert.ok(req.edges instanceof Int32Array && req.edges.length === 50);
  const a = answer(structuredClone(req)); // what the worker receives is a copy
  assert.equal(a.id, 7);
  assert.ok(a.xy instanceof Float64Array && a.xy.length === 60);
  assert.deepEqual(decodeAnswer(req.ids, a), layeredLayout(nodes, edges, { aspect: 2 }).positions);
});

test("a layout that places nothing returns the document itself; one that does shares all but the layout", async () => {
  const g = big(500);
  const first = await layoutChanges(g);
  assert.equal(first.changed, true);
  assert.notEqual(first.graph, g);
  assert.equal(first.graph.templates, g.templates); // not copied
  assert.equal(g.layout, undefined); // the input is left alone
  assert.equal(Object.keys(first.graph.layout!.templates!.main.nodes!).length, 500);
  const again = await layoutChanges(first.graph);
  assert.equal(again.changed, false);
  assert.equal(again.graph, first.graph);
  const forced = await layoutChanges(first.graph, true);
  assert.equal(forced.changed, true);
  assert.notEqual(forced.graph.layout!.templates!.main, first.graph.layout!.templates!.main);
});
