import assert from "node:assert/strict";
import { test } from "node:test";
import { SKIPPED_MARK, appendLog, trimLog } from "../canvas/logs";
import type { StepDetails } from "../canvas/types";

const base: StepDetails = { path: "train", item: null, inputs: [], outputs: [], logs: "epoch 1\n", logsEnd: 8 };

test("a piece that continues the log is appended and moves its end", () => {
  const next = appendLog(base, { path: "train", item: null, start: 8, end: 16, text: "epoch 2\n" });
  assert.equal(next?.logs, "epoch 1\nepoch 2\n");
  assert.equal(next?.logsEnd, 16);
});

test("pieces of another step, another item, or from another offset are ignored", () => {
  assert.equal(appendLog(base, { path: "other", item: null, start: 8, end: 9, text: "x\n" }), base);
  assert.equal(appendLog(base, { path: "train", item: 2, start: 8, end: 9, text: "x\n" }), base);
  assert.equal(appendLog(base, { path: "train", item: null, start: 3, end: 9, text: "x\n" }), base);
  assert.equal(appendLog(null, { path: "train", item: null, start: 8, end: 9, text: "x\n" }), null);
});

test("a piece after skipped lines replaces the log and says lines were skipped", () => {
  const next = appendLog(base, { path: "train", item: null, start: 8, end: 900, text: "epoch 99\n", skipped: true });
  assert.equal(next?.logs, `${SKIPPED_MARK}epoch 99\n`);
});

test("the kept log is bounded and starts at a line", () => {
  const text = Array.from({ length: 100 }, (_, i) => `line ${i}`).join("\n") + "\n";
  const kept = trimLog(text, 60);
  assert.ok(kept.startsWith(SKIPPED_MARK));
  const body = kept.slice(SKIPPED_MARK.length);
  assert.ok(body.length <= 60 && text.endsWith(body));
  assert.match(body, /^line \d+\n/);
  assert.equal(trimLog("short\n", 60), "short\n");
});
