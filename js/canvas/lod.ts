// Level of detail for large graphs: which nodes React Flow holds (and mounts as DOM) and which the overview draws
// instead. Zoomed out, the overview draws every node; zoomed in, React Flow holds the nodes in and just around the
// view, and hidden copies of the far ends of their wires (so it draws those wires). React Flow does not cull: it
// mounts exactly what it holds, so nothing mounts or unmounts while the view moves. Nodes coming into view are
// drawn on the canvas beneath (Overview.tsx, with names and phases) until the view has been still for
// SETTLE_MS; then they are handed over in batches sized to keep each frame within its time (`Pacer`). The work
// follows the view, not the size of the graph.
import { useStore, useStoreApi } from "@xyflow/react";
import { useCallback, useEffect, useMemo, useState } from "react";
import {
  type HandOverLimits,
  type Scene,
  type Viewport,
  handOver,
  held,
  overlaps,
  showsOverview,
  visibleBox,
} from "./scene";
import type { FlowEdge, FlowNode } from "./view";

/** How long the view must be still before nodes are mounted or unmounted. */
export const SETTLE_MS = 120;
const FRAME_MS = 1000 / 60;
/** A frame gap longer than this means the batch before it took too long (a frame is dropped past 1.5 frames). */
const SLOW_GAP = 1.1 * FRAME_MS;
/** Unmounting a node costs a fraction of mounting one. */
const UNMOUNTS_PER_MOUNT = 4;

/**
 * How many nodes a frame may mount, learnt from the frames that follow each batch: a frame gap over SLOW_GAP
 * halves the share, a batch that fit grows it by one (additive increase, multiplicative decrease), within
 * [min, max]. A batch costs its frame (React renders it) and the next (the browser lays it out), so each gap is
 * judged against the batches of the two frames before it.
 */
export class Pacer {
  perFrame: number;
  private recent: [number, number] = [0, 0]; // mounts (and unmounts in mount units) of the last two batches
  private last = 0; // the animation frame time of the last batch, 0 when the hand-over paused

  constructor(
    readonly min = 1,
    readonly max = 32,
    start = 3,
  ) {
    this.perFrame = start;
  }

  /** This frame's share, given its animation frame time `now` (after a pause, the gap is not judged). */
  limits(now: number): HandOverLimits {
    if (this.last) this.observe(now - this.last);
    this.last = now;
    return { mount: this.perFrame, unmount: UNMOUNTS_PER_MOUNT * this.perFrame };
  }

  /** The batch handed over this frame. */
  handed(mounted: number, unmounted: number): void {
    this.recent = [this.recent[1], mounted + unmounted / UNMOUNTS_PER_MOUNT];
  }

  /** The hand-over stopped (the view moves, or nothing is left): the next frame's gap says nothing. */
  pause(): void {
    this.last = 0;
    this.recent = [0, 0];
  }

  private observe(gap: number): void {
    const load = this.recent[0] + this.recent[1];
    if (!load) return;
    if (gap > SLOW_GAP) this.perFrame = Math.max(this.min, Math.floor(Math.min(this.perFrame, load) / 2));
    else if (this.recent[1] >= this.perFrame) this.perFrame = Math.min(this.max, this.perFrame + 1);
  }
}

export interface LevelOfDetail {
  overview: boolean; // zoomed out below OVERVIEW_ZOOM on a large graph
  hidden: ReadonlySet<string>; // the nodes React Flow does not hold now (the overview draws them)
  version: number; // changes with `hidden`
  shownNodes: FlowNode[]; // the nodes React Flow holds (scene.ts `held`)
  shownEdges: FlowEdge[]; // the edges it holds; the overview draws the others
  /** Start on a new view of the document, seen at `viewport`: React Flow keeps the nodes it held, and takes the
   * new ones in view (nothing when that is the overview); the rest is hidden. */
  reset(scene: Scene | null, viewport: Viewport): void;
}

export function useLevelOfDetail(nodes: FlowNode[], edges: FlowEdge[], scene: Scene | null): LevelOfDetail {
  const store = useStoreApi();
  const count = scene ? nodes.length : 0;
  const overview = useStore(useCallback((s) => showsOverview(count, s.transform[2]), [count]));
  const [hidden] = useState(() => new Set<string>());
  const [known] = useState(() => new Set<string>()); // the nodes of the last scene
  const [copies] = useState(() => new WeakMap<FlowNode, FlowNode>()); // one hidden copy per node object
  const [pacer] = useState(() => new Pacer());
  const [version, setVersion] = useState(0);

  const reset = useCallback(
    (next: Scene | null, vp: Viewport) => {
      const wasHidden = new Set(hidden);
      const wasKnown = new Set(known);
      hidden.clear();
      known.clear();
      if (next) {
        const { width, height } = store.getState();
        const view = showsOverview(next.nodes.length, vp.zoom) ? null : visibleBox(vp, width, height);
        for (const n of next.nodes) {
          known.add(n.path);
          const wasHeld = wasKnown.has(n.path) && !wasHidden.has(n.path);
          if (!view || (!wasHeld && !overlaps(n, view))) hidden.add(n.path);
        }
      }
      setVersion((v) => v + 1);
    },
    [hidden, known, store],
  );

  useEffect(() => {
    if (!scene) return;
    let frame = 0;
    let timer = 0;
    let lastMove = -Infinity;
    const step = (now: number) => {
      frame = 0;
      const still = performance.now() - lastMove;
      if (still < SETTLE_MS) {
        pacer.pause();
        wait(SETTLE_MS - still);
        return;
      }
      const {
        transform: [x, y, zoom],
        width,
        height,
      } = store.getState();
      const view = visibleBox({ x, y, zoom }, width, height);
      const { hide, show } = handOver(scene, hidden, showsOverview(scene.nodes.length, zoom), view, pacer.limits(now));
      pacer.handed(show.length, hide.length);
      if (!hide.length && !show.length) {
        pacer.pause();
        return;
      }
      for (const id of hide) hidden.add(id);
      for (const id of show) hidden.delete(id);
      setVersion((v) => v + 1);
      frame = requestAnimationFrame(step);
    };
    const wait = (delay: number) => {
      if (!timer)
        timer = window.setTimeout(() => {
          timer = 0;
          if (!frame) frame = requestAnimationFrame(step);
        }, delay);
    };
    wait(0);
    const unsubscribe = store.subscribe((s, prev) => {
      if (s.transform === prev.transform) return;
      lastMove = performance.now();
      if (!frame) wait(SETTLE_MS);
    });
    return () => {
      unsubscribe();
      cancelAnimationFrame(frame);
      clearTimeout(timer);
    };
  }, [scene, hidden, pacer, store]);

  // `version` stands for the contents of `hidden`
  const shown = useMemo(
    () =>
      held(nodes, edges, hidden, (n) => {
        let copy = copies.get(n);
        if (!copy) copies.set(n, (copy = { ...n, hidden: true }));
        return copy;
      }),
    // eslint-disable-next-line react-hooks/exhaustive-deps -- `version` changes when `hidden` is mutated in place
    [nodes, edges, version, hidden, copies],
  );

  return { overview, hidden, version, shownNodes: shown.nodes, shownEdges: shown.edges, reset };
}
