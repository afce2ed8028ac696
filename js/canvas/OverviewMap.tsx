// The minimap of a large graph: React Flow's MiniMap draws one SVG rect per node and redraws them all as the
// view moves; this one paints the nodes once into an offscreen canvas (again when phases, problems or the
// selection change) and, per frame, copies it and outlines the view. Press or drag on it to move the view there.
import { Panel, useReactFlow, useStoreApi } from "@xyflow/react";
import { type PointerEvent, useEffect, useRef } from "react";
import { batchesOf, fillBatches, fitCanvas, nodeIndex, paintFor, themeColours } from "./Overview";
import { type Scene, type SceneNode, type Viewport, batchNodes, centredOn, visibleBox } from "./scene";
import { REPAINT_PER_FRAME, takeSome } from "./statusFeed";
import type { KeyedStore } from "./store";
import type { Issue, NodeStatus } from "./types";

const WIDTH = 150;
const HEIGHT = 96;

/** The minimap's own viewport: the whole scene, with a margin. */
function mapViewport(scene: Scene): Viewport {
  const b = scene.bounds;
  const zoom = 0.9 * Math.min(WIDTH / Math.max(b.x1 - b.x0, 1), HEIGHT / Math.max(b.y1 - b.y0, 1));
  return centredOn((b.x0 + b.x1) / 2, (b.y0 + b.y1) / 2, zoom, WIDTH, HEIGHT);
}

interface Props {
  scene: Scene;
  status: KeyedStore<NodeStatus>;
  issues: KeyedStore<Issue[]>;
  selected: ReadonlySet<string>;
}

export function OverviewMap({ scene, status, issues, selected }: Props) {
  const ref = useRef<HTMLCanvasElement>(null);
  const store = useStoreApi();
  const rf = useReactFlow();

  useEffect(() => {
    const canvas = ref.current;
    const ctx = canvas?.getContext("2d");
    if (!canvas || !ctx) return;
    const colour = themeColours(canvas);
    const map = mapViewport(scene);
    const nodes = document.createElement("canvas");
    const nctx = nodes.getContext("2d")!;
    const dpr = fitCanvas(canvas, WIDTH, HEIGHT);
    fitCanvas(nodes, WIDTH, HEIGHT);
    const paintNodes = () => {
      nctx.setTransform(1, 0, 0, 1, 0, 0);
      nctx.clearRect(0, 0, nodes.width, nodes.height);
      nctx.setTransform(dpr * map.zoom, 0, 0, dpr * map.zoom, dpr * map.x, dpr * map.y);
      fillBatches(nctx, batchNodes(scene, scene.bounds, paintFor(status, issues, selected)), colour, map.zoom * 4);
    };
    let frame = 0;
    const draw = () => {
      frame = 0;
      const {
        transform: [x, y, zoom],
        width,
        height,
      } = store.getState();
      const v = visibleBox({ x, y, zoom }, width, height);
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      ctx.drawImage(nodes, 0, 0);
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.strokeStyle = colour("--dfl-accent");
      ctx.lineWidth = 1.5;
      ctx.strokeRect(
        map.x + v.x0 * map.zoom,
        map.y + v.y0 * map.zoom,
        (v.x1 - v.x0) * map.zoom,
        (v.y1 - v.y0) * map.zoom,
      );
    };
    const request = () => {
      if (!frame) frame = requestAnimationFrame(draw);
    };
    // a status change repaints only the nodes it changed (a live run of 10,000 steps sends ten batches a
    // second), in a frame; problems, and a group's status (it lies beneath its steps), repaint them all
    let all = false;
    const changed = new Set<string>();
    let pending = 0;
    const flush = () => {
      pending = 0;
      const index = nodeIndex(scene);
      const some: SceneNode[] = [];
      for (const p of takeSome(changed, REPAINT_PER_FRAME)) {
        const n = index.get(p);
        if (!n) continue;
        if (n.kind === "container" || n.kind === "lane") all = true;
        some.push(n);
      }
      if (all) changed.clear();
      else if (changed.size) schedule(); // the rest in the next frames
      if (all) paintNodes();
      else {
        nctx.setTransform(dpr * map.zoom, 0, 0, dpr * map.zoom, dpr * map.x, dpr * map.y);
        fillBatches(nctx, batchesOf(some, paintFor(status, issues, selected)), colour, map.zoom * 4);
      }
      all = false;
      request();
    };
    const schedule = () => {
      if (!pending) pending = requestAnimationFrame(flush);
    };
    const statusChanged = (keys: readonly string[]) => {
      for (const k of keys) changed.add(k);
      schedule();
    };
    const repaint = () => {
      all = true;
      schedule();
    };
    paintNodes();
    draw();
    const unsubscribe = [
      store.subscribe((s, prev) => {
        if (s.transform !== prev.transform || s.width !== prev.width || s.height !== prev.height) request();
      }),
      status.subscribeAll(statusChanged),
      issues.subscribeAll(repaint),
    ];
    return () => {
      unsubscribe.forEach((u) => u());
      cancelAnimationFrame(frame);
      cancelAnimationFrame(pending);
    };
  }, [scene, status, issues, selected, store]);

  const moveTo = (e: PointerEvent<HTMLCanvasElement>) => {
    if (!(e.buttons & 1)) return;
    const box = e.currentTarget.getBoundingClientRect();
    const map = mapViewport(scene);
    const {
      transform: [, , zoom],
      width,
      height,
    } = store.getState();
    const fx = (e.clientX - box.left - map.x) / map.zoom;
    const fy = (e.clientY - box.top - map.y) / map.zoom;
    void rf.setViewport(centredOn(fx, fy, zoom, width, height));
  };

  return (
    <Panel position="bottom-right" className="dfl-overview-map">
      <canvas
        ref={ref}
        style={{ width: WIDTH, height: HEIGHT }}
        data-testid="overview-map"
        onPointerDown={(e) => {
          e.currentTarget.setPointerCapture(e.pointerId);
          moveTo(e);
        }}
        onPointerMove={moveTo}
      />
    </Panel>
  );
}
