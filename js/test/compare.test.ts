import assert from "node:assert/strict";
import { test } from "node:test";
import { type Comparison, compareMarks, compareSummary, withComparison } from "../canvas/compare";
import { runPage, startText, type RunRow } from "../canvas/RunPicker";
import { KeyedStore } from "../canvas/store";
import type { NodeStatus, StepDetails } from "../canvas/types";

const comparison: Comparison = {
  a: "run-1",
  b: "run-2",
  paths: {
    scale: { state: "changed", fields: ["inputs", "outputs"], duration: { a: 1, b: 2 } },
    prep: { state: "unchanged", fields: [], duration: { a: 0, b: 0 } },
    each: {
      state: "changed",
      fields: ["inputs"],
      duration: { a: 3, b: 3 },
      items: { "8": { state: "changed", fields: ["inputs", "phase"] } },
      item_counts: { changed: 1, unchanged: 19 },
    },
  },
  counts: { changed: 2, unchanged: 1 },
};

test("a comparison marks its nodes, keeps their phase, and a new one clears the marks of the last", () => {
  const status = new KeyedStore<NodeStatus>();
  status.reset({ scale: { phase: "Succeeded" }, prep: { phase: "Succeeded", reused: true } });
  status.update(compareMarks(status, null, comparison));
  assert.deepEqual(status.get("scale"), {
    phase: "Succeeded",
    compare: { state: "changed", fields: ["inputs", "outputs"], other: "run-1" },
  });
  assert.equal(status.get("prep")?.reused, true);
  assert.equal(status.get("each")?.phase, "Pending"); // a node without status yet is marked too
  status.update(compareMarks(status, comparison, null));
  assert.equal(status.get("scale")?.compare, null);
  assert.equal(status.get("scale")?.phase, "Succeeded");
  assert.equal(compareSummary(comparison), "Compared with run-1: 2 changed, 1 unchanged, 0 added, 0 removed");
});

test("a step's panel gets the other side; a fan-out item its own state, the others unchanged", () => {
  const d: StepDetails = { path: "each", inputs: [], outputs: [], item: 8 };
  const other: StepDetails = { path: "each", inputs: [], outputs: [], item: 8, duration: 0.5 };
  const eight = withComparison(d, other, comparison).compare!;
  assert.deepEqual(
    [eight.state, eight.fields, eight.duration, eight.run],
    ["changed", ["inputs", "phase"], 0.5, "run-1"],
  );
  assert.equal(eight.itemCounts?.unchanged, 19);
  const two = withComparison({ ...d, item: 2 }, other, comparison).compare!;
  assert.deepEqual([two.state, two.fields], ["unchanged", []]);
  const group = withComparison({ ...d, item: null }, null, comparison).compare!;
  assert.deepEqual([group.state, group.fields, group.duration], ["changed", ["inputs"], 3]);
  assert.equal(withComparison(d, other, null), d);
  assert.equal(withComparison({ ...d, path: "gone" }, other, comparison).compare, undefined);
});

test("the run picker pages its runs and says when a run started", () => {
  const runs: RunRow[] = Array.from({ length: 60 }, (_, i) => ({ name: `r${i}`, phase: "Succeeded" }));
  assert.deepEqual([runPage(runs, 1).rows.length, runPage(runs, 1).left], [25, 35]);
  assert.deepEqual([runPage(runs, 3).rows.length, runPage(runs, 3).left], [60, 0]);
  const now = new Date(2026, 11, 5, 15, 0, 0);
  assert.equal(startText(new Date(2026, 11, 5, 14, 3, 12).toISOString(), now), "14:03:12");
  assert.match(startText(new Date(2026, 11, 4, 14, 3, 12).toISOString(), now), /4.*14:03$/);
  assert.equal(startText(null, now), "");
  assert.equal(startText("not a time", now), "");
});
