import assert from "node:assert/strict";
import { test } from "node:test";
import { PaintPacer, nodesDone, paintPlan, stepCost, wireWidth } from "../canvas/paintPlan";
import type { NodePaint, SceneEdge, SceneNode } from "../canvas/scene";

const paint = (fill: string): NodePaint => ({ fill, stroke: "--dfl-border", width: 1 });
const node = (path: string, kind: SceneNode["kind"]): SceneNode => ({
  path,
  kind,
  label: path,
  x0: 0,
  y0: 0,
  x1: 10,
  y1: 10,
});
const edge = (i: number, kind: SceneEdge["kind"]): SceneEdge => ({
  kind,
  source: `s${i}`,
  target: `t${i}`,
  x0: 0,
  y0: 0,
  x1: 1,
  y1: 1,
});

test("a full paint shows every node first, then puts wires, groups and the background behind, in batches", () => {
  const lanes = { paint: paint("--dfl-lane"), nodes: [node("#stage-0", "lane")] };
  const groups = { paint: paint("--dfl-group"), nodes: [node("g", "container"), node("g/h", "container")] };
  const steps = { paint: paint("--dfl-bg"), nodes: Array.from({ length: 5 }, (_, i) => node(`n${i}`, "step")) };
  const done = { paint: paint("--dfl-ok"), nodes: [node("n9", "step")] };
  const edges = [
    ...Array.from({ length: 5 }, (_, i) => edge(i, "parameter")),
    edge(10, "control"),
    edge(11, "artifact"),
  ];
  const plan = paintPlan([lanes, groups, steps, done], edges, {
    labels: true,
    background: true,
    nodesPerStep: 2,
    edgesPerStep: 2,
  });
  const ops = plan.map((s) => s.op);
  // the steps (3 chunks of 2 and one of 1), their names (3 chunks), then everything behind them
  assert.deepEqual(ops.slice(0, 7), ["front", "front", "front", "front", "labels", "labels", "labels"]);
  assert.ok(ops.slice(7).every((op) => op === "wires" || op === "back" || op === "background"));
  assert.equal(ops[ops.length - 1], "background");
  // behind: the wires drawn last back to front go first (artifact, then parameter's last batch first, then control)
  const wires = plan.filter((s) => s.op === "wires");
  assert.deepEqual(
    wires.map((s) => [s.kind, s.edges.map((e) => e.source)]),
    [
      ["artifact", ["s11"]],
      ["parameter", ["s4"]],
      ["parameter", ["s2", "s3"]],
      ["parameter", ["s0", "s1"]],
      ["control", ["s10"]],
    ],
  );
  // groups before lanes: each batch goes behind the ones before it
  const back = plan.filter((s) => s.op === "back");
  assert.deepEqual(
    back.map((s) => s.nodes.map((n) => n.path)),
    [["g", "g/h"], ["#stage-0"]], // one path each: the groups' batch, then the lanes' behind it
  );
  assert.equal(nodesDone(plan, 6), false);
  assert.equal(nodesDone(plan, 7), true);
  assert.equal(
    plan.reduce((c, s) => c + stepCost(s), 0),
    7 + (6 + 6 + 3) / 4 + 1, // a wire each, a quarter for a box or a name, one for the background
  );
});

test("without names or background (the overview beneath React Flow's nodes) none is planned", () => {
  const plan = paintPlan([{ paint: paint("--dfl-bg"), nodes: [node("a", "step")] }], [edge(0, "parameter")], {
    labels: false,
    background: false,
  });
  assert.deepEqual(
    plan.map((s) => s.op),
    ["front", "wires"],
  );
});

test("the pacer halves a frame's share after a slow frame, grows it after fast ones, and restarts low", () => {
  const p = new PaintPacer(300, 50, 2000);
  assert.equal(p.frame(0, false), 300); // the first frame of a paint: no gap to judge
  assert.equal(p.frame(16, true), 375); // 16 ms after: fast, a quarter more
  assert.equal(p.frame(80, true), 187); // 64 ms: slow, halved
  assert.equal(p.frame(105, true), 187); // 25 ms: neither
  assert.equal(p.frame(1000, false), 187); // the frame before did not paint: not judged
  for (let t = 1016; t < 1500; t += 16) p.frame(t, true);
  assert.equal(p.share, 2000); // up to its most
  p.restart();
  assert.equal(p.share, 300);
  for (let t = 2000; t < 3000; t += 100) p.frame(t, true);
  assert.equal(p.share, 50); // down to its least
});

test("wires are 1.5 px from the fine zoom up and just under one device pixel (a hairline) below it", () => {
  // in device pixels: the width in flow units times zoom times the device pixel ratio
  assert.equal(wireWidth(0.5, 1, 0.12) * 0.5, 1.5);
  assert.equal(wireWidth(0.12, 2, 0.12) * 0.12 * 2, 3);
  for (const [zoom, dpr] of [
    [0.024, 1],
    [0.05, 2],
    [0.119, 1.25],
  ]) {
    const device = wireWidth(zoom, dpr, 0.12) * zoom * dpr;
    assert.ok(device <= 1 && device > 0.98, `${device} device px at zoom ${zoom}, dpr ${dpr}`);
  }
});
