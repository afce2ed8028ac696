// The minimap of a large graph: React Flow's MiniMap draws one SVG rect per node and redraws them all as the
// view moves; this one paints the nodes once into an offscreen canvas (again when phases, problems or the
// selection change) and, per frame, copies it and outlines the view. Press or drag on it to move the view there.
// A full paint is spread over frames like the overview's (paintPlan.ts, its own PaintPacer): the steps first, then
// the groups and lanes behind them; status repaints wait for it (10,000 nodes in one task took 10-30 ms).
import { Panel, useReactFlow, useStoreApi } from "@xyflow/react";
import { type PointerEvent, useEffect, useRef } from "react";
import { batchesOf, fillBatches, fitCanvas, nodeIndex, paintFor, runPaint, themeColours } from "./Overview";
import { PaintPacer, paintPlan, stepCost } from "./paintPlan";
import { type NodePaint, type Scene, type SceneNode, type Viewport, batchNodes, centredOn, visibleBox } from "./scene";
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

/** Nodes a step of the minimap's full paint draws (a step costs a quarter of this in the pacer's units). */
const NODES_PER_STEP = 500;

/** One pacer for the page's minimaps: a share of about 1,000 nodes a frame to start with. */
const pacer = new PaintPacer(250, 25, 5000);

/**
 * The minimap's full paint of `scene` at `map` into `ctx`, as steps yielding their cost (`runPaint`): every step
 * and io node over what is there, then the lanes and groups behind them (`destination-over`), as paintSteps
 * does in Overview.tsx but without wires, names or a background. The canvas is cleared first.
 */
export function* minimapSteps(
  ctx: CanvasRenderingContext2D,
  scene: Scene,
  map: Viewport,
  dpr: number,
  colour: (name: string) => string,
  paintOf: (n: SceneNode) => NodePaint,
): Generator<number, void, undefined> {
  const plan = paintPlan(batchNodes(scene, scene.bounds, paintOf), [], {
    labels: false,
    background: false,
    nodesPerStep: NODES_PER_STEP,
  });
  const zoom = map.zoom * 4; // outlines as thick as at a quarter of the overview's zoom
  ctx.globalCompositeOperation = "source-over";
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, ctx.canvas.width, ctx.canvas.height);
  for (let i = 0; i < plan.length; i++) {
    if (i) yield stepCost(plan[i - 1]);
    const step = plan[i];
    // each step sets what it needs: the copy to the screen may come between two steps
    ctx.setTransform(dpr * map.zoom, 0, 0, dpr * map.zoom, dpr * map.x, dpr * map.y);
    if (step.op === "front") {
      ctx.globalCompositeOperation = "source-over";
      fillBatches(ctx, [step], colour, zoom);
    } else if (step.op === "back") {
      // behind: the outline first, then the fill behind it (a fill outlined, painted back to front)
      ctx.globalCompositeOperation = "destination-over";
      ctx.beginPath();
      for (const n of step.nodes) ctx.rect(n.x0, n.y0, n.x1 - n.x0, n.y1 - n.y0);
      if (step.paint.width) {
        ctx.lineWidth = step.paint.width / zoom;
        ctx.strokeStyle = colour(step.paint.stroke);
        ctx.stroke();
      }
      ctx.fillStyle = colour(step.paint.fill);
      ctx.fill();
    }
    ctx.globalCompositeOperation = "source-over";
  }
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
  const kept = useRef<{ scene: Scene; canvas: HTMLCanvasElement } | null>(null);

  useEffect(() => {
    const canvas = ref.current;
    const ctx = canvas?.getContext("2d");
    if (!canvas || !ctx) return;
    const colour = themeColours(canvas);
    const map = mapViewport(scene);
    const dpr = fitCanvas(canvas, WIDTH, HEIGHT);
    // the nodes painted, and the last finished paint shown while a new one is in progress (the last effect's,
    // for a change of selection: the minimap does not go blank while it is painted again)
    const last = kept.current;
    let shown = last && last.scene === scene && last.canvas.width === canvas.width ? last.canvas : null;
    let nodes = document.createElement("canvas");
    let nctx = nodes.getContext("2d")!;
    // a full paint in progress (spread over frames), and whether the frame before painted part of it
    let job: Iterator<number> | null = null;
    let painted = false;
    const paintNodes = () => {
      nodes = document.createElement("canvas");
      nctx = nodes.getContext("2d")!;
      fitCanvas(nodes, WIDTH, HEIGHT);
      pacer.restart();
      job = minimapSteps(nctx, scene, map, dpr, colour, paintFor(status, issues, selected));
      painted = false;
      schedule();
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
      ctx.drawImage(job && shown ? shown : nodes, 0, 0);
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
      if (job) {
        // this frame's share of the full paint; status changes wait for its end (its later steps were planned
        // with the paint of then, and would cover a repaint made meanwhile)
        if (all) {
          all = false;
          changed.clear();
          paintNodes();
        }
        const done = runPaint(job, pacer.frame(performance.now(), painted));
        painted = !done;
        if (done) {
          job = null;
          shown = nodes;
          kept.current = { scene, canvas: nodes };
        }
        if (!done || changed.size) schedule(); // the rest of it, or the status changes that came meanwhile
        request();
        return;
      }
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
      if (all) {
        all = false;
        paintNodes(); // from the next frame on
        return;
      } else {
        nctx.setTransform(dpr * map.zoom, 0, 0, dpr * map.zoom, dpr * map.x, dpr * map.y);
        fillBatches(nctx, batchesOf(some, paintFor(status, issues, selected)), colour, map.zoom * 4);
      }
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
    draw(); // the view's outline at once; the nodes in the next frames
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
