import assert from "node:assert/strict";
import { test } from "node:test";
import { autoLayout } from "../canvas/layout";
import { buildView } from "../canvas/view";
import { nestedGraph, stepsGraph } from "./fixtures";

test("a steps workflow draws its nodes, stage lanes and typed wires", async () => {
  const v = buildView(await autoLayout(stepsGraph()));
  assert.deepEqual(
    v.nodes.filter((n) => n.type === "lane").map((n) => n.data.label),
    ["stage 1", "stage 2"],
  );
  const steps = v.nodes.filter((n) => n.type === "step");
  assert.deepEqual(
    steps.map((n) => n.id),
    ["squares", "total"],
  );
  assert.deepEqual(
    v.edges.map((e) => [e.source, e.sourceHandle, e.target, e.targetHandle, e.className]),
    [["squares", "out:artifact:table", "total", "in:artifact:table", "dfl-edge dfl-edge-artifact"]],
  );
});

test("an expanded group holds its template's nodes and wires its inner handles", async () => {
  const v = buildView(await autoLayout(nestedGraph()));
  const byId = new Map(v.nodes.map((n) => [n.id, n]));
  assert.equal(byId.get("inner")!.type, "container");
  assert.equal(byId.get("inner/squares")!.parentId, "inner");
  assert.ok(byId.has("@inputs") && byId.has("@outputs"));
  const wires = v.edges.map((e) => `${e.source}:${e.sourceHandle}>${e.target}:${e.targetHandle}`);
  assert.deepEqual(wires.sort(), [
    "@inputs:out:parameter:n>inner:in:parameter:n",
    "describe:out:parameter:text>@outputs:in:parameter:text",
    "inner/squares:out:artifact:table>inner/total:in:artifact:table",
    "inner/total:out:parameter:total>inner:inner-out:parameter:total",
    "inner:inner-in:parameter:n>inner/squares:in:parameter:n",
    "inner:out:parameter:total>describe:in:parameter:value",
  ]);
});

test("a collapsed group hides its template", async () => {
  const g = nestedGraph();
  g.layout = { templates: { main: { nodes: { inner: { x: 0, y: 0, collapsed: true } } } } };
  const v = buildView(await autoLayout(g));
  assert.equal(v.nodes.find((n) => n.id === "inner")!.type, "step");
  assert.equal(
    v.nodes.some((n) => n.id.startsWith("inner/")),
    false,
  );
});
