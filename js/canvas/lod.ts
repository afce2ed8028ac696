// Level of detail for large graphs: which nodes React Flow holds (and may mount as DOM) and which are drawn by
// the overview instead. Zoomed out, every node is hidden from React Flow. Zoomed in, React Flow holds the
// nodes in and just around the view, and hidden copies of the far ends of their wires (so it draws those
// wires); the others stay hidden. Nodes are handed over a few per animation frame, those in view first, so
// that no frame mounts or unmounts hundreds of DOM nodes at once however fast the view moves (scene.ts
// `handOver`); while many nodes in view wait, the overview draws them beneath. The work follows the view, not
// the size of the graph.
import { useStore, useStoreApi } from "@xyflow/react";
import { useCallback, useEffect, useMemo, useState } from "react";
import {
  type HandOverLimits, type Scene, type Viewport, grown, handOver, held, heldOutside, overlaps, showsOverview, visibleBox,
} from "./scene";
import type { FlowEdge, FlowNode } from "./view";

/** A frame's share: a DOM node mounts in ~1 ms on a slow machine; unmounting and bookkeeping cost less. */
const LIMITS: HandOverLimits = { show: 8, showAhead: 60, hideNear: 40, hideFar: 1000 };
const COVER = 5 * LIMITS.show;

export interface LevelOfDetail {
  overview: boolean; // zoomed out below OVERVIEW_ZOOM on a large graph
  hidden: ReadonlySet<string>; // the nodes React Flow does not hold now (the overview draws them)
  version: number; // changes with `hidden`
  covering: boolean; // many nodes in view wait to be handed over: the overview draws them meanwhile
  shownNodes: FlowNode[]; // the nodes React Flow holds (scene.ts `held`)
  shownEdges: FlowEdge[]; // the edges it holds; the overview draws the others
  /** Start on a new view of the document, seen at `viewport`: React Flow holds what is in view (nothing when
   * that is the overview), the rest is hidden from the start. */
  reset(scene: Scene | null, viewport: Viewport): void;
}

export function useLevelOfDetail(nodes: FlowNode[], edges: FlowEdge[], scene: Scene | null): LevelOfDetail {
  const store = useStoreApi();
  const count = scene ? nodes.length : 0;
  const overview = useStore(useCallback((s) => showsOverview(count, s.transform[2]), [count]));
  const [hidden] = useState(() => new Set<string>());
  const [copies] = useState(() => new WeakMap<FlowNode, FlowNode>()); // one hidden copy per node object
  const [version, setVersion] = useState(0);
  const [covering, setCovering] = useState(false);

  const reset = useCallback((next: Scene | null, vp: Viewport) => {
    hidden.clear();
    if (next) {
      const { width, height } = store.getState();
      const keep = showsOverview(next.nodes.length, vp.zoom) ? null : grown(visibleBox(vp, width, height), 0.5);
      for (const n of next.nodes) if (!keep || !overlaps(n, keep)) hidden.add(n.path);
    }
    setVersion((v) => v + 1);
  }, [hidden, store]);

  // Crossing into the overview, React Flow lets go at once of the nodes it holds but has not mounted (those
  // ahead of the view): in the same render, so that it does not mount them for the one frame before the overview
  // covers them.
  useEffect(() => {
    if (!scene) return;
    return store.subscribe((s, prev) => {
      if (s.transform === prev.transform) return;
      if (showsOverview(count, prev.transform[2]) || !showsOverview(count, s.transform[2])) return;
      const [x, y, zoom] = prev.transform;
      const unmounted = heldOutside(scene, hidden, visibleBox({ x, y, zoom }, prev.width, prev.height));
      if (!unmounted.length) return;
      for (const id of unmounted) hidden.add(id);
      setVersion((v) => v + 1);
    });
  }, [scene, count, hidden, store]);

  useEffect(() => {
    if (!scene) return;
    let frame = 0;
    const step = () => {
      frame = 0;
      const { transform: [x, y, zoom], width, height } = store.getState();
      const view = visibleBox({ x, y, zoom }, width, height);
      const { hide, show, waiting } = handOver(scene, hidden, overview, view, LIMITS);
      // the overview covers a big hand-over (zooming in to it); a few nodes entering the view as it pans are
      // simply mounted a frame or two late
      setCovering((was) => waiting > COVER || (was && waiting > 0));
      if (!hide.length && !show.length) return;
      for (const id of hide) hidden.add(id);
      for (const id of show) hidden.delete(id);
      setVersion((v) => v + 1);
      request();
    };
    // not in the frame that crossed OVERVIEW_ZOOM, nor the next: they already mount the overview and paint it
    let ready = false;
    const request = () => { if (ready && !frame) frame = requestAnimationFrame(step); };
    frame = requestAnimationFrame(() => {
      frame = requestAnimationFrame(() => {
        frame = 0;
        ready = true;
        request();
      });
    });
    const unsubscribe = store.subscribe((s, prev) => { if (s.transform !== prev.transform) request(); });
    return () => {
      unsubscribe();
      cancelAnimationFrame(frame);
    };
  }, [overview, scene, hidden, store]);

  // `version` stands for the contents of `hidden`
  const shown = useMemo(() => held(nodes, edges, hidden, (n) => {
    let copy = copies.get(n);
    if (!copy) copies.set(n, (copy = { ...n, hidden: true }));
    return copy;
  }), [nodes, edges, version, hidden, copies]);

  return { overview, hidden, version, covering, shownNodes: shown.nodes, shownEdges: shown.edges, reset };
}
