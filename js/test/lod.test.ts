import assert from "node:assert/strict";
import { test } from "node:test";
import { Pacer } from "../canvas/lod";

const FRAME = 1000 / 60;

/** Run `frames` batches of the pacer's full share, each followed by a frame gap of `gapOf(share)` ms. */
function run(pacer: Pacer, frames: number, gapOf: (share: number) => number, start = 1000): number[] {
  const shares: number[] = [];
  let now = start;
  for (let i = 0; i < frames; i++) {
    const { mount, unmount } = pacer.limits(now);
    assert.equal(unmount, 4 * mount, "unmounting costs a quarter of mounting");
    shares.push(mount);
    pacer.handed(mount, 0);
    now += gapOf(mount);
  }
  return shares;
}

test("the share grows while frames keep their time, up to the maximum", () => {
  const pacer = new Pacer(2, 48, 6);
  const shares = run(pacer, 60, () => FRAME);
  assert.equal(shares[0], 6);
  assert.ok(
    shares.every((s, i) => i === 0 || s - shares[i - 1] <= 1),
    "grows by one at most",
  );
  assert.ok(
    shares.every((s, i) => i === 0 || s >= shares[i - 1]),
    "never shrinks",
  );
  assert.equal(shares.at(-1), 48);
});

test("a long frame halves the share; it settles where frames keep their time", () => {
  const pacer = new Pacer(2, 48, 40);
  // each mounted node costs 1.5 ms: a frame holds about 11
  const shares = run(pacer, 80, (share) => Math.max(FRAME, 1.5 * share + 2));
  assert.ok(shares[1] < 40 && shares[2] <= 20, `${shares.slice(0, 4)}`);
  const late = shares.slice(20);
  assert.ok(
    late.every((s) => s >= 2 && s <= 14),
    `${late}`,
  );
  assert.ok(late.filter((s) => 1.5 * s + 2 > 1.5 * FRAME).length === 0, `no batch drops a frame: ${late}`);
  assert.ok(late.filter((s) => 1.5 * s + 2 > 1.1 * FRAME).length <= late.length / 3, "most batches fit");
});

test("never below the minimum, and a pause does not judge the gap across it", () => {
  const pacer = new Pacer(2, 48, 6);
  run(pacer, 10, () => 200);
  assert.equal(pacer.perFrame, 2);
  const grown = new Pacer(2, 48, 6);
  grown.limits(1000);
  grown.handed(6, 0);
  grown.pause(); // the view moved: the next frame comes long after
  grown.limits(5000);
  assert.equal(grown.perFrame, 6);
});

test("a frame with nothing handed over says nothing about the share", () => {
  const pacer = new Pacer(2, 48, 6);
  pacer.limits(1000);
  pacer.handed(0, 0);
  pacer.limits(1100);
  pacer.handed(0, 0);
  pacer.limits(1300);
  assert.equal(pacer.perFrame, 6);
});
