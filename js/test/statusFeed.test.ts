import assert from "node:assert/strict";
import { test } from "node:test";
import { StatusFeed, mergeEntry, nextEntry, takeSome } from "../canvas/statusFeed";
import { progressText } from "../canvas/progress";
import { KeyedStore, Live } from "../canvas/store";
import type { NodeStatus } from "../canvas/types";

/** A feed whose scheduled steps run when the test says (`run()`), not on a timer. */
function manual(store: KeyedStore<NodeStatus>, slice: number) {
  const steps: (() => void)[] = [];
  const feed = new StatusFeed(store, { slice, schedule: (f) => steps.push(f) });
  const run = () => {
    const f = steps.shift();
    assert.ok(f, "a step was scheduled");
    f();
  };
  return { feed, steps, run };
}

const many = (n: number, phase: string) =>
  Object.fromEntries(Array.from({ length: n }, (_, i) => [`t${i}`, { phase }])) as Record<string, NodeStatus>;

test("a delta is merged over the entry: given fields replace, null ones are dropped", () => {
  const old = { phase: "Running", startedAt: "2026-12-05T10:00:00.000Z", message: "slow" } as NodeStatus;
  assert.deepEqual(mergeEntry(old, { phase: "Succeeded", finishedAt: "2026-12-05T10:00:01.000Z", message: null }), {
    phase: "Succeeded",
    startedAt: "2026-12-05T10:00:00.000Z",
    finishedAt: "2026-12-05T10:00:01.000Z",
  });
  assert.deepEqual(mergeEntry(undefined, { phase: "Running" }), { phase: "Running" });
});

test("a full entry replaces the old one but keeps the page's comparison mark; null removes it", () => {
  const compare = { state: "changed", fields: ["inputs"] };
  const old = { phase: "Running", startedAt: "x", compare } as unknown as NodeStatus;
  assert.deepEqual(nextEntry(old, { phase: "Failed" }, false), { phase: "Failed", compare });
  assert.deepEqual(nextEntry(old, { finishedAt: "y" }, true), { ...old, finishedAt: "y" });
  assert.equal(nextEntry(old, null, true), undefined);
});

test("a small message is applied at once; deltas build on what the store has", () => {
  const store = new KeyedStore<NodeStatus>();
  const { feed, steps } = manual(store, 10);
  feed.push({ changes: { a: { phase: "Running", startedAt: "s" } }, reset: true });
  feed.push({ changes: { a: { phase: "Succeeded", finishedAt: "f" }, b: { phase: "Running" } }, delta: true });
  assert.equal(steps.length, 0);
  assert.deepEqual(store.get("a"), { phase: "Succeeded", startedAt: "s", finishedAt: "f" });
  assert.deepEqual(store.get("b"), { phase: "Running" });
});

test("a large message is applied a slice per task, later messages after it in order", () => {
  const store = new KeyedStore<NodeStatus>();
  const { feed, steps, run } = manual(store, 400);
  const notified: number[] = [];
  store.subscribeAll((keys) => notified.push(keys.length));
  feed.push({ changes: many(1000, "Running") });
  feed.push({ changes: { t5: { phase: "Succeeded" } }, delta: true }); // newer than the big one
  assert.deepEqual(notified, [400]);
  assert.equal(feed.pending, 601);
  assert.equal(steps.length, 1);
  run();
  assert.deepEqual(notified, [400, 400]);
  assert.equal(store.get("t5")?.phase, "Running"); // not overtaken by the queued delta
  run();
  assert.deepEqual(notified, [400, 400, 200, 1]); // the rest of the big one, then the delta, in one task
  assert.equal(store.get("t5")?.phase, "Succeeded");
  assert.equal(store.entries().length, 1000);
  assert.equal(steps.length, 0);
  assert.equal(feed.pending, 0);
});

test("a reset removes, in slices too, the paths it lacks, once it is reached", () => {
  const store = new KeyedStore<NodeStatus>();
  const { feed, run } = manual(store, 300);
  store.update(many(500, "Succeeded"));
  feed.push({ changes: { t0: { phase: "Running" }, z: { phase: "Pending" } }, reset: true });
  assert.equal(store.entries().length, 500 + 1 - 298); // z added, t0 replaced, 298 removed
  run();
  assert.deepEqual(
    store.entries().sort(([a], [b]) => a.localeCompare(b)),
    [
      ["t0", { phase: "Running" }],
      ["z", { phase: "Pending" }],
    ],
  );
});

test("flush applies everything queued; clear drops it", () => {
  const store = new KeyedStore<NodeStatus>();
  const { feed } = manual(store, 10);
  feed.push({ changes: many(25, "Running") });
  feed.flush();
  assert.equal(store.entries().length, 25);
  feed.push({ changes: many(40, "Succeeded") });
  feed.clear();
  assert.equal(feed.pending, 0);
  assert.equal(store.get("t39"), undefined);
});

test("takeSome removes and returns the oldest members, at most n", () => {
  const set = new Set(["a", "b", "c", "d"]);
  assert.deepEqual([...takeSome(set, 3)], ["a", "b", "c"]);
  assert.deepEqual([...set], ["d"]);
  assert.deepEqual([...takeSome(set, 3)], ["d"]);
  assert.equal(set.size, 0);
});

test("the progress text: succeeded against the total, then the other phases that have steps", () => {
  assert.equal(
    progressText({ counts: { Succeeded: 121, Running: 4 }, total: 10000 }),
    "121/10000 succeeded, 4 running",
  );
  assert.equal(
    progressText({ counts: { Succeeded: 1, Failed: 1, Error: 1, Skipped: 2, Omitted: 1, NotRun: 3 }, total: 9 }),
    "1/9 succeeded, 2 failed, 2 skipped, 1 omitted, 3 not run",
  );
  assert.equal(progressText({}), "0/0 succeeded");
});

test("a Live value tells its subscribers when it changes, not when it is set to the same value", () => {
  const live = new Live<{ phase: string } | null>(null);
  let calls = 0;
  const off = live.subscribe(() => calls++);
  const state = { phase: "Running" };
  live.set(state);
  live.set(state);
  assert.equal(calls, 1);
  assert.equal(live.get(), state);
  off();
  live.set(null);
  assert.equal(calls, 1);
});
