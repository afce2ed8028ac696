import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeGraph, isBinary } from "../widget/wire";

// a graph as dflow_lab/widgets/_wire.py sends a large one: compact UTF-8 JSON, non-ASCII kept as UTF-8
const graph = {
  version: 1,
  name: "wide-é",
  entrypoint: "main",
  templates: { main: { kind: "dag", tasks: Array.from({ length: 300 }, (_, i) => ({ name: `t${i}`, note: "ü→✓" })) } },
};
const bytes = new TextEncoder().encode(JSON.stringify(graph));

test("the binary form decodes to the graph, from a DataView over part of a larger buffer as ipywidgets gives it", () => {
  const buffer = new ArrayBuffer(bytes.length + 16);
  new Uint8Array(buffer).set(bytes, 8); // the message's other bytes around it
  const view = new DataView(buffer, 8, bytes.length);
  assert.ok(isBinary(view));
  assert.deepEqual(decodeGraph(view), graph);
  assert.deepEqual(decodeGraph(bytes), graph);
  assert.deepEqual(decodeGraph(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length)), graph);
});

test("a JSON value (a small graph, an edit echoed back) is used as it is", () => {
  assert.equal(isBinary(graph), false);
  assert.equal(decodeGraph(graph), graph);
  assert.equal(decodeGraph(null), null);
  assert.equal(decodeGraph(undefined), null);
});

test("a buffer that is not UTF-8 JSON of an object is refused", () => {
  assert.throws(() => decodeGraph(new Uint8Array([0xff, 0xfe, 0x7b])), TypeError); // not UTF-8
  assert.throws(() => decodeGraph(new TextEncoder().encode('{"templates":')), SyntaxError);
  assert.throws(() => decodeGraph(new TextEncoder().encode("[1, 2]")), /not a JSON object/);
});
