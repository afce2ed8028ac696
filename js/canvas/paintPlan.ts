// The order in which the overview (Overview.tsx) paints a full frame, cut into steps that it spreads over several
// animation frames, so that painting 10,000 nodes and their wires never blocks the main thread for long.
// The steps in front come first, so the first frame already shows every node: the steps (and io nodes) and
// their names are painted normally; then the wires, the lanes and groups and the background are painted
// *behind* what is there (canvas `destination-over` compositing), wires in batches. "Over" compositing is
// associative, so the finished picture is the one painted back to front (background, lanes and groups, wires,
// steps, names); each batch goes behind the ones before it, so the batches run in reverse of the back-to-front
// order. Pure: no canvas here.
import type { NodePaint, SceneEdge, SceneNode } from "./scene";
import type { EdgeKind } from "./types";

export type PaintStep =
  | { op: "front"; paint: NodePaint; nodes: SceneNode[] } // painted over (steps, io nodes)
  | { op: "labels"; nodes: SceneNode[] } // over
  | { op: "wires"; kind: EdgeKind; edges: SceneEdge[] } // behind
  | { op: "back"; paint: NodePaint; nodes: SceneNode[] } // behind (lanes, groups)
  | { op: "background" }; // behind

export interface PlanOptions {
  labels: boolean; // names are drawn at this zoom
  background: boolean; // an opaque background (the overview proper; not the one beneath React Flow's nodes)
  nodesPerStep?: number;
  edgesPerStep?: number; // also the wires stroked as one path (a path of thousands costs the rasteriser seconds)
}

/** Back-to-front order of the wire kinds (the later over the earlier), as the overview has always drawn them. */
export const WIRE_ORDER: readonly EdgeKind[] = ["control", "parameter", "artifact"];

const chunks = <T>(items: T[], size: number): T[][] => {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
};

/** The steps of a full paint of `batches` (grouped by paint, in drawing order: batchNodes) and `edges`. */
export function paintPlan(
  batches: { paint: NodePaint; nodes: SceneNode[] }[],
  edges: SceneEdge[],
  options: PlanOptions,
): PaintStep[] {
  const { nodesPerStep = 2000, edgesPerStep = 200 } = options;
  const isBack = (b: (typeof batches)[number]) => b.nodes[0].kind === "lane" || b.nodes[0].kind === "container";
  const steps: PaintStep[] = [];
  const front = batches.filter((b) => !isBack(b));
  for (const b of front)
    for (const nodes of chunks(b.nodes, nodesPerStep)) steps.push({ op: "front", paint: b.paint, nodes });
  if (options.labels) {
    const named = front.flatMap((b) => b.nodes);
    for (const nodes of chunks(named, nodesPerStep)) steps.push({ op: "labels", nodes });
  }
  for (const kind of [...WIRE_ORDER].reverse()) {
    const batchesOfKind = chunks(
      edges.filter((e) => e.kind === kind),
      edgesPerStep,
    );
    for (const part of batchesOfKind.reverse()) steps.push({ op: "wires", kind, edges: part });
  }
  const back = batches.filter(isBack).reverse();
  for (const b of back)
    for (const nodes of chunks(b.nodes, nodesPerStep).reverse()) steps.push({ op: "back", paint: b.paint, nodes });
  if (options.background) steps.push({ op: "background" });
  return steps;
}

/** What a step costs, in wires (a wire is a curve to stroke; a box or a name costs about a quarter of one). */
export function stepCost(step: PaintStep): number {
  if (step.op === "wires") return step.edges.length;
  if (step.op === "background") return 1;
  return step.nodes.length / 4;
}

/** Whether every node has been painted once the steps before index `i` are done (the frame is useful). */
export const nodesDone = (steps: PaintStep[], i: number): boolean =>
  !steps.slice(i).some((s) => s.op === "front" || s.op === "labels");

/**
 * How much of a full paint a frame may take, in stepCost units (about one wire each), learnt from the gaps between
 * the frames that paint: the canvas rasterises what was recorded later (when the frame is drawn, or when the
 * bitmap is copied), where no clock in the paint sees it. A gap over SLOW_GAP halves the share, one under
 * FAST_GAP grows it by a quarter, within [min, max].
 */
export class PaintPacer {
  static SLOW_GAP = 34;
  static FAST_GAP = 20;
  private last: number | null = null;

  constructor(
    readonly start = 100,
    readonly min = 25,
    readonly max = 2000,
    public share = start,
  ) {}

  /** A new paint: its steps may cost differently from the last one's (a fan-out's long wires), start low. */
  restart(): void {
    this.share = Math.min(this.share, this.start);
    this.last = null;
  }

  /** A frame that paints begins at `now` (ms); `painting` says whether the frame before it painted too. */
  frame(now: number, painting: boolean): number {
    if (painting && this.last !== null) {
      const gap = now - this.last;
      if (gap > PaintPacer.SLOW_GAP) this.share = Math.max(this.min, Math.floor(this.share / 2));
      else if (gap < PaintPacer.FAST_GAP) this.share = Math.min(this.max, Math.ceil(this.share * 1.25));
    }
    this.last = now;
    return this.share;
  }
}

/**
 * A wire's stroke width in flow units at `zoom` on a screen of `dpr` device pixels per CSS pixel: 1.5 CSS pixels
 * from `fineZoom` up; below it (the overview without names) one device pixel, just under it in fact: the
 * rasteriser draws a stroke no wider than a device pixel as a hairline, without outlining it into a shape to
 * fill, and a fan-out's long curves cost it 4-6 times less so (100 of them, 1.5 px wide, took 75-110 ms to
 * rasterise in headless Chromium; 1 px, 11-17 ms). The curves, colours and order are the same.
 */
export function wireWidth(zoom: number, dpr: number, fineZoom: number): number {
  return zoom >= fineZoom ? 1.5 / zoom : 0.99 / (dpr * zoom);
}
