import assert from "node:assert/strict";
import { test } from "node:test";
import { autoLayout, FAST_LAYOUT } from "../canvas/layout";
import { assignLayers, layeredLayout } from "../canvas/layered";
import type { Graph } from "../canvas/types";

const box = (id: string) => ({ id, width: 240, height: 80 });

function overlapping(pos: Record<string, { x: number; y: number }>): string | null {
  const seen = new Map<string, string>();
  for (const [id, p] of Object.entries(pos)) {
    const key = `${p.x},${p.y}`;
    if (seen.has(key)) return `${seen.get(key)} and ${id} at ${key}`;
    seen.set(key, id);
  }
  return null;
}

test("layers are the longest path from the sources; a cycle does not hang and every node gets a layer", () => {
  const layers = assignLayers(
    ["a", "b", "c", "d"],
    [
      ["a", "b"],
      ["b", "c"],
      ["a", "c"],
    ],
  );
  assert.deepEqual(
    [...layers.entries()],
    [
      ["a", 0],
      ["b", 1],
      ["c", 2],
      ["d", 0],
    ],
  );
  const cyclic = assignLayers(
    ["x", "y", "z"],
    [
      ["x", "y"],
      ["y", "z"],
      ["z", "y"],
    ],
  );
  assert.equal(cyclic.size, 3);
  assert.ok([...cyclic.values()].every((l) => l >= 0));
  assert.ok(cyclic.get("y")! > cyclic.get("x")!);
});

test("every edge goes left to right (or on to a later band, below) and no two nodes share a place", () => {
  const nodes = Array.from({ length: 300 }, (_, i) => box(`t${i}`));
  const edges: [string, string][] = [];
  for (let i = 12; i < 300; i++) edges.push([`t${i - 10 - (i % 3)}`, `t${i}`]);
  for (const aspect of [1.6, 0.2, 20]) {
    const { positions } = layeredLayout(nodes, edges, { aspect });
    assert.equal(Object.keys(positions).length, 300);
    assert.equal(overlapping(positions), null);
    for (const [s, t] of edges) {
      const [a, b] = [positions[s], positions[t]];
      assert.ok(a.x < b.x || b.y > a.y + 80, `${s} (${a.x}, ${a.y}) -> ${t} (${b.x}, ${b.y}) at aspect ${aspect}`);
    }
  }
});

test("a fan-out of 10,000 wraps its wide layer into columns and fits a 16:10 pane as a block", () => {
  const nodes = [box("split"), ...Array.from({ length: 10_000 }, (_, i) => box(`t${i}`)), box("join")];
  const edges: [string, string][] = [];
  for (let i = 0; i < 10_000; i++) edges.push(["split", `t${i}`], [`t${i}`, "join"]);
  const r = layeredLayout(nodes, edges, { aspect: 1.6 });
  assert.equal(overlapping(r.positions), null);
  const ratio = r.width / r.height;
  assert.ok(ratio > 0.8 && ratio < 3.2, `width/height ${ratio}`);
  assert.ok(r.positions.split.x < r.positions.t0.x && r.positions.t9999.x < r.positions.join.x);
  assert.equal(r.layers.length, 3);
  assert.equal(r.layers[1].count, 10_000);
});

test("100 layers of 100 fit the pane's aspect (bands or columns), not a strip", () => {
  const nodes = Array.from({ length: 10_000 }, (_, i) => box(`t${i}`));
  const edges: [string, string][] = [];
  for (let i = 100; i < 10_000; i++) edges.push([`t${i - 100}`, `t${i}`]);
  const r = layeredLayout(nodes, edges, { aspect: 1.6 });
  assert.equal(overlapping(r.positions), null);
  const ratio = r.width / r.height;
  assert.ok(ratio > 0.5 && ratio < 4, `width/height ${ratio}`);
  assert.equal(r.layers.length, 100);
});

test("a long chain wraps into bands instead of a strip", () => {
  const nodes = Array.from({ length: 2_000 }, (_, i) => box(`t${i}`));
  const edges: [string, string][] = [];
  for (let i = 1; i < 2_000; i++) edges.push([`t${i - 1}`, `t${i}`]);
  const r = layeredLayout(nodes, edges, { aspect: 1.6 });
  assert.ok(r.width / r.height < 6, `width/height ${r.width / r.height}`);
  assert.equal(overlapping(r.positions), null);
});

test("autoLayout uses the layered layout past FAST_LAYOUT nodes, with the template's inputs first", async () => {
  const n = FAST_LAYOUT + 100;
  const graph: Graph = {
    version: 1,
    name: "big",
    entrypoint: "main",
    templates: {
      main: {
        kind: "dag",
        inputs: { parameters: { seed: {} } },
        nodes: Array.from({ length: n }, (_, i) => ({ name: `t${i}`, template: "work" })),
        edges: Array.from({ length: n - 1 }, (_, i) => ({
          kind: "control" as const,
          source: { node: `t${i}` },
          target: { node: `t${i + 1}` },
        })),
      },
      work: { kind: "container", image: "busybox", command: ["true"] },
    },
  };
  const g = await autoLayout(graph, false, { aspect: 1.6 });
  const pos = g.layout!.templates!.main.nodes!;
  assert.equal(Object.keys(pos).length, n + 1);
  assert.ok(pos["@inputs"].x <= Math.min(...Array.from({ length: n }, (_, i) => pos[`t${i}`].x)));
});
