import assert from "node:assert/strict";
import { test } from "node:test";
import { connect, updateNode } from "../canvas/edit";
import { History } from "../canvas/history";
import {
  artifactKind,
  artifactLocation,
  describeArtifact,
  fansOut,
  feedOf,
  makeArtifact,
  parseInteger,
  parseKey,
  parseName,
  parseRatio,
  parseSequenceBound,
  setSliceField,
  sliceChoices,
  slicesMode,
  toggleSlice,
  withArtifact,
} from "../canvas/propertiesFields";
import type { GraphNode, Template } from "../canvas/types";
import { squaresOp, stepsGraph, totalOp } from "./fixtures";

const main = (g: ReturnType<typeof stepsGraph>) => g.templates.main;

test("integers: whole numbers within bounds, empty unsets, the reason otherwise", () => {
  assert.deepEqual(parseInteger(" 4 ", "group size", { min: 1 }), { value: 4 });
  assert.deepEqual(parseInteger("", "group size", { min: 1 }), { value: undefined });
  assert.deepEqual(parseInteger("2.5", "group size", { min: 1 }), { error: "group size must be a whole number" });
  assert.deepEqual(parseInteger("1e3", "group size", { min: 1 }), { error: "group size must be a whole number" });
  assert.deepEqual(parseInteger("abc", "group size", { min: 1 }), { error: "group size must be a whole number" });
  assert.deepEqual(parseInteger("0", "group size", { min: 1 }), { error: "group size must be at least 1" });
  assert.deepEqual(parseInteger("-1", "pool size", { min: 1, also: [-1] }), { value: -1 });
  assert.deepEqual(parseInteger("-2", "pool size", { min: 1, also: [-1] }), {
    error: "pool size must be at least 1 (or -1)",
  });
  assert.deepEqual(parseInteger("0", "n", { min: 0 }), { value: 0 });
  assert.deepEqual(parseInteger("-1", "n", { min: 0 }), { error: "n must be 0 or more" });
  assert.deepEqual(parseInteger(" ", "stage", { min: 1, required: true }), { error: "stage must be given" });
});

test("sequence bounds: whole numbers or {{…}} expressions", () => {
  assert.deepEqual(parseSequenceBound("5", "seq count", 0), { value: 5 });
  assert.deepEqual(parseSequenceBound("-3", "seq start"), { value: -3 });
  assert.deepEqual(parseSequenceBound(" {{inputs.parameters.n}} ", "seq count", 0), {
    value: "{{inputs.parameters.n}}",
  });
  assert.deepEqual(parseSequenceBound("", "seq end"), { value: undefined });
  assert.match(
    (parseSequenceBound("1.5", "seq count", 0) as { error: string }).error,
    /^seq count must be a whole number, or an expression/,
  );
  assert.match((parseSequenceBound("-1", "seq count", 0) as { error: string }).error, /^seq count must be 0 or more/);
  assert.match(
    (parseSequenceBound("ten", "seq end") as { error: string }).error,
    /^seq end must be a whole number or an expression/,
  );
});

test("ratios lie in [0, 1]", () => {
  assert.deepEqual(parseRatio("0.75", "ratio"), { value: 0.75 });
  assert.deepEqual(parseRatio("1", "ratio"), { value: 1 });
  assert.deepEqual(parseRatio("0", "ratio"), { value: 0 });
  assert.deepEqual(parseRatio("", "ratio"), { value: undefined });
  assert.deepEqual(parseRatio("1.5", "ratio"), { error: "ratio must be between 0 and 1 (got 1.5)" });
  assert.deepEqual(parseRatio("-0.1", "ratio"), { error: "ratio must be between 0 and 1 (got -0.1)" });
  assert.deepEqual(parseRatio("half", "ratio"), { error: "ratio must be a number between 0 and 1" });
});

test("names follow the graph's naming rule", () => {
  assert.deepEqual(parseName(" prepare-2 "), { value: "prepare-2" });
  assert.ok("error" in parseName(""));
  assert.ok("error" in parseName("-x"));
  assert.ok("error" in parseName("a_b"));
});

test("keys: lowercase, digits and '-' around {{…}} tags; empty is no key", () => {
  assert.deepEqual(parseKey(" make-table "), { value: "make-table" });
  assert.deepEqual(parseKey("prepare-{{item}}"), { value: "prepare-{{item}}" });
  assert.deepEqual(parseKey("{{inputs.parameters.Name}}"), { value: "{{inputs.parameters.Name}}" });
  assert.deepEqual(parseKey(""), { value: undefined });
  assert.ok("error" in parseKey("Make"));
  assert.ok("error" in parseKey("a_b-{{item}}"));
  assert.ok("error" in parseKey("-{{item}}-")); // nothing but dashes around the tag
});

test("literal artifacts: one per kind, never empty, an S3 key keeps its urn", () => {
  assert.deepEqual(makeArtifact("s3", " inputs/table.csv "), { value: { kind: "s3", key: "inputs/table.csv" } });
  assert.deepEqual(makeArtifact("s3", "k", "urn:x"), { value: { kind: "s3", key: "k", urn: "urn:x" } });
  assert.deepEqual(makeArtifact("local", "/data/x"), { value: { kind: "local", path: "/data/x" } });
  assert.deepEqual(makeArtifact("http", "https://example.org/x.csv"), {
    value: { kind: "http", url: "https://example.org/x.csv" },
  });
  assert.deepEqual(makeArtifact("local", "  "), { error: "the local path cannot be empty" });
  assert.deepEqual(makeArtifact("s3", ""), { error: "the S3 key cannot be empty" });
  assert.match((makeArtifact("http", "example.org/x") as { error: string }).error, /http:\/\/ or https:\/\//);
  assert.match((makeArtifact("s3", "s3://bucket/k") as { error: string }).error, /without s3:\/\//);
  const art = { kind: "s3", key: "inputs/table.csv" };
  assert.equal(artifactKind(art), "s3");
  assert.equal(artifactLocation(art), "inputs/table.csv");
  assert.equal(describeArtifact(art), "s3: inputs/table.csv");
  assert.equal(artifactKind({ kind: "ftp", url: "x" }), null);
  assert.equal(artifactKind("text"), null);
});

test("an input is fed by a wire, a literal, the default, or nothing", () => {
  const g = stepsGraph();
  const total = main(g).nodes![1];
  const edges = main(g).edges!;
  const t: Template = {
    ...totalOp,
    inputs: {
      ...totalOp.inputs,
      artifacts: { table: {}, extra: { optional: true }, model: { default: { kind: "s3", key: "models/m" } } },
    },
  };
  assert.equal(feedOf(total, t, edges, "artifact", "table").by, "edge");
  assert.deepEqual(feedOf(total, t, edges, "artifact", "model"), {
    by: "default",
    value: { kind: "s3", key: "models/m" },
  });
  assert.equal(feedOf(total, t, edges, "artifact", "extra").by, "optional");
  assert.equal(feedOf(total, t, [], "artifact", "table").by, "missing");
  const given = { ...total, artifacts: { table: { kind: "local", path: "/x" } } };
  assert.deepEqual(feedOf(given, t, [], "artifact", "table"), { by: "literal", value: { kind: "local", path: "/x" } });
  assert.deepEqual(feedOf(total, t, [], "parameter", "scale"), { by: "literal", value: 0.5 });
});

test("a literal artifact is one undo step, and a wire into the port replaces it", () => {
  const g0 = stepsGraph();
  main(g0).edges = [];
  const h = new History();
  const total = main(g0).nodes![1];
  let g = updateNode(g0, "total", {
    artifacts: withArtifact(total, "table", { kind: "s3", key: "inputs/table.csv" }),
  }).graph;
  h.push(g0);
  assert.deepEqual(main(g).nodes![1].artifacts, { table: { kind: "s3", key: "inputs/table.csv" } });
  assert.equal(main(g0).nodes![1].artifacts, undefined); // the edit made a new document
  const undone = h.undo(g)!;
  assert.equal(main(undone).nodes![1].artifacts, undefined);
  g = h.redo(undone)!;
  assert.equal(withArtifact(main(g).nodes![1], "table", undefined), undefined); // the last one: key omitted
  g = connect(g, "", {
    kind: "artifact",
    source: { node: "squares", port: "table" },
    target: { node: "total", port: "table" },
  });
  assert.equal(main(g).nodes![1].artifacts, undefined);
});

test("slices offer the template's ports; ticking keeps the template's order; empty slices are omitted", () => {
  const t: Template = { ...squaresOp, inputs: { parameters: { n: { type: "int" }, m: { type: "int" } } } };
  assert.deepEqual(
    sliceChoices(t, undefined, "input_parameter").map((c) => [c.port, c.checked]),
    [
      ["n", false],
      ["m", false],
    ],
  );
  assert.deepEqual(sliceChoices(t, undefined, "input_artifact"), []);
  assert.deepEqual(
    sliceChoices(t, undefined, "output_artifact").map((c) => c.port),
    ["table"],
  );
  let s = toggleSlice(undefined, t, "input_parameter", "m", true);
  s = toggleSlice(s, t, "input_parameter", "n", true);
  assert.deepEqual(s, { input_parameter: ["n", "m"] });
  s = toggleSlice(s, t, "output_artifact", "table", true);
  assert.deepEqual(s, { input_parameter: ["n", "m"], output_artifact: ["table"] });
  // a listed port the template does not declare shows, ticked, and can be unticked
  const stale = { input_parameter: ["gone", "n"] };
  assert.deepEqual(
    sliceChoices(t, stale, "input_parameter").map((c) => [c.port, c.checked, c.declared]),
    [
      ["n", true, true],
      ["m", false, true],
      ["gone", true, false],
    ],
  );
  assert.deepEqual(toggleSlice(stale, t, "input_parameter", "gone", false), { input_parameter: ["n"] });
  assert.equal(toggleSlice({ input_parameter: ["n"] }, t, "input_parameter", "n", false), undefined);
  assert.deepEqual(setSliceField({ sub_path: true, group_size: 2 }, "sub_path", false), { group_size: 2 });
  assert.equal(setSliceField({ group_size: 2 }, "group_size", undefined), undefined);
});

test("slices patch the node in one edit, and only a fan-out is a fan-out", () => {
  const g = stepsGraph();
  const node: GraphNode = main(g).nodes![0];
  assert.equal(fansOut(node, []), false);
  assert.equal(fansOut({ ...node, with_param: [1, 2] }, []), true);
  assert.equal(fansOut({ ...node, with_sequence: { count: 3 } }, []), true);
  assert.equal(
    fansOut(node, [
      { kind: "parameter", source: { node: "x", port: "items" }, target: { node: "squares", option: "with_param" } },
    ]),
    true,
  );
  const r = updateNode(g, "squares", {
    with_param: [1, 2],
    slices: toggleSlice(undefined, squaresOp, "input_parameter", "n", true),
  });
  assert.deepEqual(main(r.graph).nodes![0].slices, { input_parameter: ["n"] });
  const cleared = updateNode(r.graph, "squares", { slices: undefined }).graph;
  assert.equal("slices" in main(cleared).nodes![0], false);
});

test("sub-path slices need no fan-out: the editor offers them, asks for an artifact, defaults to {{item.order}}", () => {
  assert.equal(slicesMode(undefined, false).off, true);
  assert.match(slicesMode(undefined, false).hint ?? "", /sub_path/);
  assert.deepEqual(slicesMode(undefined, true), { off: false, subPath: false, defaultSlice: "{{item}}" });
  const on = setSliceField(undefined, "sub_path", true);
  assert.deepEqual(on, { sub_path: true });
  const mode = slicesMode(on, false);
  assert.equal(mode.off, false);
  assert.equal(mode.defaultSlice, "{{item.order}}");
  assert.match(mode.problem ?? "", /input artifacts/);
  const ticked = toggleSlice(on, undefined, "input_artifact", "foo", true);
  assert.deepEqual(ticked, { sub_path: true, input_artifact: ["foo"] });
  assert.equal(slicesMode(ticked, false).problem, undefined);
  const grouped = setSliceField(ticked, "group_size", 2);
  assert.equal(slicesMode(grouped, false).defaultSlice, "{{item}}");
  assert.match(slicesMode(grouped, false).hint ?? "", /group of entries/);
  assert.equal(setSliceField(ticked, "sub_path", false)?.sub_path, undefined); // unticking removes it
});
