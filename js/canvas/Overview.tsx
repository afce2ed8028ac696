// The overview of a large graph, drawn into one <canvas> over the flow pane while zoomed out (see scene.ts):
// nodes as boxes (filled by phase when monitoring, outlined when selected or invalid), wires as curves, names
// once they can be read. It follows React Flow's viewport without re-rendering React, and lets every
// pointer event through to the pane beneath (pan, zoom, and the click that zooms in: Canvas.tsx).
// Zoomed in, it lies beneath React Flow's nodes and draws, transparently, only the nodes React Flow does not hold
// (those that came into view while it moved, until they are handed over: lod.ts) and their wires.
import { useStoreApi } from "@xyflow/react";
import { useEffect, useRef } from "react";
import {
  type NodePaint,
  type Scene,
  type SceneNode,
  type Viewport,
  batchNodes,
  edgeInView,
  nodePaint,
  overlaps,
  paintKey,
  visibleBox,
} from "./scene";
import { mark } from "./marks";
import { REPAINT_PER_FRAME, takeSome } from "./statusFeed";
import { PaintPacer, nodesDone, paintPlan, stepCost, wireWidth } from "./paintPlan";
import type { KeyedStore } from "./store";
import type { EdgeKind, Issue, NodeStatus } from "./types";

const EDGE_COLOUR: Record<EdgeKind, string> = {
  parameter: "--dfl-param",
  artifact: "--dfl-artifact",
  control: "--dfl-control",
};
/** Wires stroked as one path, and one step of a progressive paint: a fan-out's long wires cost the rasteriser
 * about 0.25 ms each at the fitted zoom (one path of thousands took seconds), so a step stays well within a frame. */
const EDGES_PER_STROKE = 50;
/** The largest bitmap (device pixels) of the whole graph the overview keeps for pans (64 MB of RGBA). */
const MAX_CACHE_PX = 16e6;
const LABEL_ZOOM = 0.12; // names are drawn from here up (a node is then ~29 px wide)
const CHAR_WIDTH = 6.5; // a wide average of 11 px sans-serif
const THEME = [
  "--dfl-fg",
  "--dfl-bg",
  "--dfl-bg2",
  "--dfl-bg3",
  "--dfl-border",
  "--dfl-accent",
  "--dfl-bad",
  "--dfl-ok",
  "--dfl-running",
  "--dfl-error",
  "--dfl-pending",
  "--dfl-lane",
  "--dfl-group",
];

interface Props {
  scene: Scene;
  status: KeyedStore<NodeStatus>;
  issues: KeyedStore<Issue[]>;
  selected: ReadonlySet<string>;
  /** The nodes to draw, or null for all of them, over an opaque background (the overview proper). */
  only: ReadonlySet<string> | null;
  version: number; // changes when `only` changed in place
}

export function Overview({ scene, status, issues, selected, only, version }: Props) {
  const ref = useRef<HTMLCanvasElement>(null);
  const store = useStoreApi();

  useEffect(() => {
    const canvas = ref.current;
    const ctx = canvas?.getContext("2d");
    if (!canvas || !ctx) return;
    let frame = 0;
    const colour = themeColours(canvas);
    // a status change repaints only the steps it changed, over the last frame (a live run of 10,000 steps sends
    // batches of tens of them ten times a second); anything else (the view moved, problems, selection, a group's
    // status: it lies beneath its steps) repaints the whole pane. Zoomed out so far that the whole graph fits in
    // MAX_CACHE_PX, the overview proper is painted once into a bitmap of the whole graph at this zoom, and a pan
    // only copies it (a 10,000-node graph took 20-30 ms a frame to paint); status changes repaint into it.
    let full = true; // the view moved (or first frame)
    let stale = true; // what the bitmap shows changed beyond the steps in `changed`
    const changed = new Set<string>();
    const bitmap = document.createElement("canvas");
    const bctx = bitmap.getContext("2d");
    let bitmapZoom = NaN;
    let bitmapDpr = NaN;
    let lastZoom = NaN;
    let contentStale = true; // problems or selection changed since the pane was last painted in full
    // A full paint (paintSteps) is spread over frames (PaintPacer, FRAME_MS a frame): nodes first, then the
    // wires behind them in batches; a pan or a change meanwhile starts it again, a status change waits for it.
    let painted = false; // the frame before painted part of a full paint (its gap says how long that took)
    let job: { steps: Iterator<number>; target: HTMLCanvasElement; progress: PaintProgress } | null = null;
    const startJob = (
      target: HTMLCanvasElement,
      tctx: CanvasRenderingContext2D,
      vp: Viewport,
      w: number,
      h: number,
      on: ReadonlySet<string> | null,
      paintOf: (n: SceneNode) => NodePaint,
    ) => {
      const progress: PaintProgress = { count: 0, nodesDone: false };
      pacer.restart();
      job = { steps: paintSteps(tctx, target, scene, vp, w, h, colour, on, paintOf, progress), target, progress };
    };
    /** This frame's share of the paint in progress on `target`; whether all its nodes are painted. */
    const advance = (target: HTMLCanvasElement): boolean => {
      if (!job || job.target !== target) return true;
      const progress = job.progress;
      const before = progress.nodesDone;
      // the frame ends where the nodes are done, and the wires start from the pacer's first share: what it learnt
      // from boxes (cheap, a quarter of a wire each in its units) says little of what wires cost
      const done = runPaint(job.steps, pacer.frame(performance.now(), painted), FRAME_MS, () => progress.nodesDone);
      painted = !done;
      const nodes = progress.nodesDone;
      if (!before && nodes && !done) pacer.restart();
      if (done) job = null;
      else request();
      return nodes;
    };
    const draw = () => {
      frame = 0;
      const {
        transform: [x, y, zoom],
        width,
        height,
      } = store.getState();
      const paintOf = paintFor(status, issues, selected);
      const dpr = window.devicePixelRatio || 1;
      const b = scene.bounds;
      const bw = (b.x1 - b.x0) * zoom + 8;
      const bh = (b.y1 - b.y0) * zoom + 8;
      // the bitmap is (re)built at a steady zoom (or the first frame's): a wheel zoom paints the view directly
      const steady = zoom === lastZoom || Number.isNaN(lastZoom);
      lastZoom = zoom;
      if (!only && bctx && steady && bw * bh * dpr * dpr <= MAX_CACHE_PX && width > 0 && height > 0) {
        const bvp = { x: 4 - b.x0 * zoom, y: 4 - b.y0 * zoom, zoom };
        if (stale || bitmapZoom !== zoom || bitmapDpr !== dpr) {
          startJob(bitmap, bctx, bvp, bw, bh, null, paintOf);
          bitmapZoom = zoom;
          bitmapDpr = dpr;
          changed.clear();
        }
        const nodesPainted = advance(bitmap);
        if (!job && changed.size) {
          // at most REPAINT_PER_FRAME changed steps a frame (the end of a 10,000-step run changes them all at
          // once); the rest are repainted in the next frames
          const some = takeSome(changed, REPAINT_PER_FRAME);
          if (changed.size) request();
          if (!repaintSteps(bctx, bitmap, scene, some, bvp, bw, bh, colour, null, paintOf)) {
            startJob(bitmap, bctx, bvp, bw, bh, null, paintOf);
            changed.clear();
            advance(bitmap);
          }
        }
        stale = full = contentStale = false;
        fitCanvas(canvas, width, height);
        canvas.style.visibility = "";
        delete canvas.dataset.blank;
        ctx.setTransform(1, 0, 0, 1, 0, 0);
        ctx.fillStyle = colour("--dfl-bg");
        ctx.fillRect(0, 0, canvas.width, canvas.height);
        ctx.drawImage(bitmap, Math.round(dpr * (x - bvp.x)), Math.round(dpr * (y - bvp.y)));
        if (!nodesPainted) return;
        const box = visibleBox({ x, y, zoom }, width, height);
        let count = 0;
        for (const n of scene.nodes) if (n.kind !== "lane" && overlaps(n, box)) count++;
        canvas.dataset.drawn = String(count);
        if (count) mark("dfl:overview:drawn");
        return;
      }
      if (job?.target === bitmap) {
        job = null; // left for the direct paint: the bitmap is painted again when next used
        bitmapZoom = NaN;
      }
      if (!full && !contentStale && !job) {
        const some = takeSome(changed, REPAINT_PER_FRAME); // as above
        if (changed.size) request();
        if (repaintSteps(ctx, canvas, scene, some, { x, y, zoom }, width, height, colour, only, paintOf)) {
          stale = true; // the bitmap missed these steps
          return;
        }
      }
      if (full || contentStale || !job) {
        full = contentStale = false;
        stale = true; // the bitmap missed what this paint draws: rebuilt when next used
        changed.clear();
        startJob(canvas, ctx, { x, y, zoom }, width, height, only, paintOf);
      }
      const current = job!;
      const nodesPainted = advance(canvas);
      if (!job && changed.size) request(); // status changes that came during the paint
      if (!nodesPainted) return;
      canvas.dataset.drawn = String(current.progress.count);
      if (current.progress.count && !only) mark("dfl:overview:drawn");
    };
    const request = () => {
      if (!frame) frame = requestAnimationFrame(draw);
    };
    const requestFull = () => {
      full = true;
      request();
    };
    const statusChanged = (keys: readonly string[]) => {
      for (const k of keys) changed.add(k);
      request();
    };
    const contentChanged = () => {
      stale = contentStale = true;
      request();
    };
    full = stale = true;
    request();
    const unsubscribe = [
      store.subscribe((s, prev) => {
        if (s.transform !== prev.transform || s.width !== prev.width || s.height !== prev.height) requestFull();
      }),
      status.subscribeAll(statusChanged),
      issues.subscribeAll(contentChanged),
    ];
    return () => {
      unsubscribe.forEach((u) => u());
      cancelAnimationFrame(frame);
    };
  }, [scene, status, issues, selected, only, version, store]);

  // the overview proper covers the DOM nodes still being let go; the partial one lies beneath them
  return <canvas ref={ref} className={`dfl-overview${only ? " dfl-overview-under" : ""}`} data-testid="overview" />;
}

/** How each node is painted now: by its phase, its problems, whether it is selected. */
export const paintFor =
  (status: KeyedStore<NodeStatus>, issues: KeyedStore<Issue[]>, selected: ReadonlySet<string>) =>
  (n: SceneNode): NodePaint =>
    nodePaint(n.kind, status.get(n.path)?.phase, !!issues.get(n.path)?.length, selected.has(n.path));

const themes = new WeakMap<Element, { theme: string | undefined; colour: (name: string) => string }>();

/** The canvas's theme colours (CSS custom properties, and "font"), read once per canvas and JupyterLab theme:
 * reading a style while the view moves would force a style recalculation. */
export function themeColours(el: HTMLElement): (name: string) => string {
  const root = el.closest(".dfl-root") ?? el;
  const theme = document.body.dataset.jpThemeName;
  const known = themes.get(root);
  if (known && known.theme === theme) return known.colour;
  const style = getComputedStyle(root);
  const colours = new Map<string, string>([["font", `11px ${style.fontFamily}`]]);
  const colour = (name: string) => {
    let c = colours.get(name);
    if (c === undefined) colours.set(name, (c = style.getPropertyValue(name).trim() || "#888"));
    return c;
  };
  for (const name of [...Object.values(EDGE_COLOUR), ...THEME]) colour(name);
  themes.set(root, { theme, colour });
  return colour;
}

/** Size `canvas`'s bitmap for a `width`×`height` CSS box at the device's pixel ratio; returns the ratio. */
export function fitCanvas(canvas: HTMLCanvasElement, width: number, height: number): number {
  const dpr = window.devicePixelRatio || 1;
  const w = Math.round(width * dpr);
  const h = Math.round(height * dpr);
  if (canvas.width !== w || canvas.height !== h) {
    canvas.width = w;
    canvas.height = h;
  }
  return dpr;
}

/** Fill (and outline) each batch of nodes, at `zoom` screen pixels per flow unit. */
export function fillBatches(
  ctx: CanvasRenderingContext2D,
  batches: ReturnType<typeof batchNodes>,
  colour: (name: string) => string,
  zoom: number,
): void {
  for (const b of batches) {
    ctx.beginPath();
    for (const n of b.nodes) ctx.rect(n.x0, n.y0, n.x1 - n.x0, n.y1 - n.y0);
    ctx.fillStyle = colour(b.paint.fill);
    ctx.fill();
    if (b.paint.width) {
      ctx.lineWidth = b.paint.width / zoom;
      ctx.strokeStyle = colour(b.paint.stroke);
      ctx.stroke();
    }
  }
}

/** `label` cut to about `room` pixels of 11 px text (measuring each label while the view moves costs too much). */
function fitLabel(label: string, room: number): string {
  const chars = Math.floor(room / CHAR_WIDTH);
  return label.length <= chars ? label : chars > 1 ? `${label.slice(0, chars - 1)}…` : "";
}

const indexes = new WeakMap<Scene, Map<string, SceneNode>>();

/** The scene's nodes by path (built once per scene). */
export function nodeIndex(scene: Scene): Map<string, SceneNode> {
  let index = indexes.get(scene);
  if (!index) indexes.set(scene, (index = new Map(scene.nodes.map((n) => [n.path, n]))));
  return index;
}

/**
 * Repaint the steps named in `paths` over what the canvas shows (their fill, outline and name), for a status
 * change: the wires beneath a step are covered by it anyway. Returns false, having drawn nothing, when that is
 * not enough: the canvas was resized, a changed node is a group or lane (drawn beneath other nodes), or the
 * canvas is hidden.
 */
function repaintSteps(
  ctx: CanvasRenderingContext2D,
  canvas: HTMLCanvasElement,
  scene: Scene,
  paths: ReadonlySet<string>,
  vp: Viewport,
  width: number,
  height: number,
  colour: (name: string) => string,
  only: ReadonlySet<string> | null,
  paintOf: (n: SceneNode) => NodePaint,
): boolean {
  const dpr = window.devicePixelRatio || 1;
  if (canvas.width !== Math.round(width * dpr) || canvas.height !== Math.round(height * dpr)) return false;
  if (canvas.style.visibility === "hidden") return false;
  const index = nodeIndex(scene);
  const box = visibleBox(vp, width, height);
  const nodes: SceneNode[] = [];
  for (const p of paths) {
    const n = index.get(p);
    if (!n) continue;
    if (n.kind === "container" || n.kind === "lane") return false;
    if (overlaps(n, box) && (!only || only.has(n.path))) nodes.push(n);
  }
  if (!nodes.length) return true;
  ctx.setTransform(dpr * vp.zoom, 0, 0, dpr * vp.zoom, dpr * vp.x, dpr * vp.y);
  fillBatches(ctx, batchesOf(nodes, paintOf), colour, vp.zoom);
  if (vp.zoom >= LABEL_ZOOM) drawLabels(ctx, nodes, vp, dpr, colour);
  return true;
}

/** `nodes` grouped by paint (one fill and one stroke a group). */
export function batchesOf(nodes: SceneNode[], paintOf: (n: SceneNode) => NodePaint): ReturnType<typeof batchNodes> {
  const groups = new Map<string, { paint: NodePaint; nodes: SceneNode[] }>();
  for (const n of nodes) {
    const p = paintOf(n);
    const key = paintKey(p);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { paint: p, nodes: [] }));
    g.nodes.push(n);
  }
  return [...groups.values()];
}

function drawLabels(
  ctx: CanvasRenderingContext2D,
  nodes: Iterable<SceneNode>,
  vp: Viewport,
  dpr: number,
  colour: (name: string) => string,
): void {
  // names in screen pixels, clipped to their node
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.font = colour("font");
  ctx.fillStyle = colour("--dfl-fg");
  ctx.textBaseline = "middle";
  for (const n of nodes) {
    if (!n.label) continue;
    const room = (n.x1 - n.x0) * vp.zoom - 8;
    const x = n.x0 * vp.zoom + vp.x + 4;
    const y = n.y0 * vp.zoom + vp.y + Math.min(24 * vp.zoom, ((n.y1 - n.y0) * vp.zoom) / 2);
    ctx.fillText(fitLabel(n.label, room), x, y);
  }
}

/** What a full paint in progress has done: how many nodes it draws, and whether all of them are painted yet. */
export interface PaintProgress {
  count: number;
  nodesDone: boolean;
}

/**
 * Draw `scene` at viewport `vp` into a `width`×`height` pane, as steps (paintPlan.ts) that yield what each cost
 * (see `runPaint`): the nodes and their names first, then the wires, lanes, groups and background behind them.
 * `progress` says how many nodes are drawn and when they all are.
 */
export function* paintSteps(
  ctx: CanvasRenderingContext2D,
  canvas: HTMLCanvasElement,
  scene: Scene,
  vp: Viewport,
  width: number,
  height: number,
  colour: (name: string) => string,
  only: ReadonlySet<string> | null,
  paintOf: (n: SceneNode) => NodePaint,
  progress: PaintProgress,
): Generator<number, void, undefined> {
  const dpr = fitCanvas(canvas, width, height);
  const box = visibleBox(vp, width, height);
  const batches = batchNodes(scene, box, paintOf, only ?? undefined);
  const edges = scene.edges.filter((e) => edgeInView(e, box) && (!only || only.has(e.source) || only.has(e.target)));
  const blank = !batches.length && !edges.length;
  let count = 0;
  for (const b of batches) for (const n of b.nodes) if (n.kind !== "lane") count++;
  progress.count = count;
  // beneath React Flow with nothing to draw (every node in view is handed over): the blank canvas is hidden and
  // left alone, so that a pan neither repaints it nor composites a transparent layer over the pane every frame
  if (only && blank && canvas.dataset.blank) {
    progress.nodesDone = true;
    return;
  }
  canvas.style.visibility = only && blank ? "hidden" : "";
  ctx.globalCompositeOperation = "source-over";
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  if (only && blank) canvas.dataset.blank = "1";
  else delete canvas.dataset.blank;
  const plan = paintPlan(batches, edges, {
    labels: vp.zoom >= LABEL_ZOOM,
    background: !only,
    edgesPerStep: EDGES_PER_STROKE,
  });
  const scale = () => ctx.setTransform(dpr * vp.zoom, 0, 0, dpr * vp.zoom, dpr * vp.x, dpr * vp.y);
  for (let i = 0; i < plan.length; i++) {
    progress.nodesDone = nodesDone(plan, i);
    if (i) yield stepCost(plan[i - 1]);
    const step = plan[i];
    // each step sets what it needs: other drawing (a status repaint) may come between two steps
    ctx.globalCompositeOperation = step.op === "front" || step.op === "labels" ? "source-over" : "destination-over";
    if (step.op === "front") {
      scale();
      fillBatches(ctx, [step], colour, vp.zoom);
    } else if (step.op === "labels") {
      drawLabels(ctx, step.nodes, vp, dpr, colour);
    } else if (step.op === "wires") {
      scale();
      ctx.lineWidth = wireWidth(vp.zoom, dpr, LABEL_ZOOM); // a hairline zoomed out (cheaper to rasterise)
      ctx.strokeStyle = colour(EDGE_COLOUR[step.kind]);
      ctx.beginPath();
      for (const e of step.edges) {
        const bend = Math.max(Math.abs(e.x1 - e.x0) / 2, 25);
        ctx.moveTo(e.x0, e.y0);
        ctx.bezierCurveTo(e.x0 + bend, e.y0, e.x1 - bend, e.y1, e.x1, e.y1);
      }
      ctx.stroke();
    } else if (step.op === "back") {
      // behind: the outline first, then the fill behind it (a fill outlined, painted back to front)
      scale();
      ctx.beginPath();
      for (const n of step.nodes) ctx.rect(n.x0, n.y0, n.x1 - n.x0, n.y1 - n.y0);
      if (step.paint.width) {
        ctx.lineWidth = step.paint.width / vp.zoom;
        ctx.strokeStyle = colour(step.paint.stroke);
        ctx.stroke();
      }
      ctx.fillStyle = colour(step.paint.fill);
      ctx.fill();
    } else {
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.fillStyle = colour("--dfl-bg");
      ctx.fillRect(0, 0, canvas.width, canvas.height);
    }
    ctx.globalCompositeOperation = "source-over";
  }
  progress.nodesDone = true;
}

/** The most a frame spends recording a full paint, in ms; the rest waits for the next frame. */
export const FRAME_MS = 8;

/** One pacer for the page: how fast this machine rasterises is not a property of one canvas. Its share starts
 * at one stroke of wires (EDGES_PER_STROKE) and grows to 400 at most: a fan-out's wires differ in length, and a
 * share grown to 1,400-1,800 over cheap ones took 55-121 ms on the dearer ones that followed (at load 3); 400
 * of them take 10-36 ms there (the bitmap's rasterisation, measured around its copy to the screen). */
const pacer = new PaintPacer(EDGES_PER_STROKE, 25, 400);

/** Run paint steps for one frame's share (`maxCost` units, FRAME_MS of recording); true when finished. The frame
 * also ends once `stop()` turns true (it is asked after each step, and only if it was false before the first). */
export function runPaint(
  steps: Iterator<number>,
  maxCost: number,
  maxMs = FRAME_MS,
  stop: () => boolean = () => false,
): boolean {
  const start = performance.now();
  const watch = !stop();
  let cost = 0;
  for (;;) {
    const r = steps.next();
    if (r.done) return true;
    cost += r.value;
    if (cost >= maxCost || performance.now() - start >= maxMs || (watch && stop())) return false;
  }
}
