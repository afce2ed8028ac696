// The workflow canvas: React Flow drawing of a graph document, with the palette, properties panel,
// validation list and toolbar (edit mode), or live phases and a step panel (monitor mode).
import {
  Background,
  ControlButton,
  Controls,
  type Connection,
  type FinalConnectionState,
  MiniMap,
  ReactFlow,
  ReactFlowProvider,
  getViewportForBounds,
  useEdgesState,
  useNodesInitialized,
  useNodesState,
  useReactFlow,
} from "@xyflow/react";
import {
  type DragEvent,
  type KeyboardEvent,
  type MouseEvent as ReactMouseEvent,
  type ReactNode,
  useCallback,
  useEffect,
  useMemo,
  useRef,
  useState,
} from "react";
import { useAnnotations } from "./AnnotationLayer";
import { followNodes, renameInLayout } from "./annotations";
import { CanvasContext, type CanvasContextValue } from "./context";
import { Details } from "./Details";
import {
  type Clip,
  type NodePatch,
  addNode,
  connect,
  copyItems,
  movePositions,
  paste,
  removeItems,
  setCollapsed,
  setLiteral,
  updateNode,
  updateTemplate,
} from "./edit";
import { GROUP_HEADER, GROUP_PAD, GUTTER, NODE_GAP, NODE_WIDTH, STAGE_GAP, stepHeight } from "./geometry";
import { declaredGeometrySteps, useDeclaredGeometry } from "./handles";
import { GridDots } from "./GridDots";
import { History } from "./history";
import { autoLayout, freeSpot, layoutChanges, templateLayout } from "./layout";
import { useLevelOfDetail } from "./lod";
import { mark } from "./marks";
import { nodeTypes } from "./nodes";
import { Overview } from "./Overview";
import { OverviewMap } from "./OverviewMap";
import { type Box, LARGE_GRAPH, READABLE_ZOOM, type Scene, centredOn, nodeAt, sceneSteps } from "./scene";
import { Cancelled, drain } from "./slices";
import { DRAG_MIME, Palette } from "./Palette";
import { inputPorts, outputPorts, parseHandle, wireError } from "./ports";
import { Problems } from "./Problems";
import { Properties } from "./Properties";
import { scopeTemplate, scopeTemplateName, splitPath } from "./scope";
import { KeyedStore } from "./store";
import { NewOpForm, type NewOpSpec } from "./NewOpForm";
import { RunPicker, type RunPickerState } from "./RunPicker";
import { RunState, type WorkflowStateProp } from "./RunState";
import type { CodeEditorComponent } from "./TemplateEditor";
import type {
  Graph,
  GraphEdge,
  Issue,
  Json,
  NodeStatus,
  PaletteEntry,
  PaletteError,
  StepDetails,
  Template,
} from "./types";
import { type EdgeData, type FlowEdge, type FlowNode, type StepData, type View, buildView, viewSteps } from "./view";

export interface HostAction {
  action: string;
  label: string;
  title?: string;
  enabled?: boolean;
  primary?: boolean;
}

export type { WorkflowState } from "./RunState";

export interface CanvasProps {
  graph: Graph;
  mode: "edit" | "monitor";
  issues?: Issue[];
  palette?: PaletteEntry[];
  status?: KeyedStore<NodeStatus>;
  /** the run's phase and progress; a `Live` one re-renders the toolbar's run state only (RunState.tsx) */
  workflow?: WorkflowStateProp;
  details?: StepDetails | null;
  notice?: { level: "info" | "error"; text: string } | null;
  actions?: HostAction[];
  /** the monitor's run picker: the document's runs (RunPicker.tsx); its actions go to onAction */
  runs?: RunPickerState | null;
  height?: number;
  onChange?(graph: Graph): void;
  onAction?(action: string): void;
  onStepClick?(path: string | null, item?: number): void;
  /** palette entries that could not be offered: shown in their group (file, line, message) */
  paletteErrors?: PaletteError[];
  /** the host's code editor for scripts (CodeMirror in JupyterLab); a plain text area without one */
  codeEditor?: CodeEditorComponent;
  /** "New Python OP…": the host writes the OP beside the document and refreshes the palette */
  onNewOp?(spec: NewOpSpec): Promise<void>;
  /** "Open source": the host opens the file where a Python OP is defined, at its line */
  onOpenSource?(file: string, line?: number): void;
  /** why a `when` text does not parse (the host asks the server's parser); checked while it is typed */
  checkWhen?(text: string): Promise<string | null>;
  /** what the host draws over the canvas (a dialog of its own, e.g. the notebook widget's source view) */
  overlay?: ReactNode;
  /** fit a small graph at TEXT_ZOOM at least (its text 11 px or more), from its start when it is wider than
   * the pane at that zoom (JupyterLab's tabs); without it the whole graph is fitted (a notebook cell) */
  readableFit?: boolean;
}

let clipboard: Clip | null = null;

const NO_VIEW: View = { nodes: [], edges: [] };

/** Whether `doc` may draw more than LARGE_GRAPH nodes (its templates' nodes, counted once each): its view is then
 * built in slices. */
function largeDocument(doc: Graph): boolean {
  let count = 0;
  for (const t of Object.values(doc.templates)) count += t.nodes?.length ?? 0;
  return count > LARGE_GRAPH;
}

/** The view of a large document, its nodes' geometry declared, and its scene, built in slices (slices.ts). */
async function buildSliced(doc: Graph, cancelled: () => boolean): Promise<{ view: View; scene: Scene | null }> {
  const built: View = { nodes: [], edges: [] };
  await drain(viewSteps(doc, built), { cancelled });
  if (built.nodes.length <= LARGE_GRAPH) {
    mark("dfl:view");
    return { view: built, scene: null };
  }
  const nodes: FlowNode[] = [];
  await drain(declaredGeometrySteps(built.nodes, nodes), { cancelled });
  const view = { nodes, edges: built.edges };
  mark("dfl:view");
  const out: { scene?: Scene } = {};
  await drain(sceneSteps(view.nodes, view.edges, out), { cancelled });
  mark("dfl:scene");
  return { view, scene: out.scene ?? null };
}

/** A `when` for node `name` of `scope` that validates: a test of an output parameter of a node upstream (wired
 * into it, else any other node of the scope), or undefined when there is none. */
export function whenHintFor(graph: Graph, scope: string, name: string): string | undefined {
  let t: Template;
  try {
    t = scopeTemplate(graph, scope);
  } catch {
    return undefined;
  }
  const prefix = t.kind === "steps" ? "steps" : "tasks";
  const wired = (t.edges ?? []).find(
    (e) => e.target.node === name && e.kind === "parameter" && !e.source.node.startsWith("@"),
  );
  if (wired?.source.port) return `{{${prefix}.${wired.source.node}.outputs.parameters.${wired.source.port}}} != ""`;
  for (const n of t.nodes ?? []) {
    if (n.name === name) continue;
    const out = Object.keys(graph.templates[n.template]?.outputs?.parameters ?? {})[0];
    if (out) return `{{${prefix}.${n.name}.outputs.parameters.${out}}} != ""`;
  }
  return undefined;
}

/** The box of the top-level nodes of `nodes` (a group's members are inside its box), each `size(n)` wide and high;
 * an empty box (x1 < x0) without any. */
function topLevelBounds<N extends { parentId?: string; position: { x: number; y: number } }>(
  nodes: readonly N[],
  size: (n: N) => [number, number],
): Box {
  let x0 = Infinity,
    y0 = Infinity,
    x1 = -Infinity,
    y1 = -Infinity;
  for (const n of nodes) {
    if (n.parentId) continue;
    const [w, h] = size(n);
    x0 = Math.min(x0, n.position.x);
    y0 = Math.min(y0, n.position.y);
    x1 = Math.max(x1, n.position.x + w);
    y1 = Math.max(y1, n.position.y + h);
  }
  return { x0, y0, x1, y1 };
}

/** The viewport that shows every top-level node of `nodes` in a `width`×`height` pane (as fitView would, for
 * nodes React Flow does not all hold); a large graph's scene knows their bounds already (`bounds`). */
function viewportFor(nodes: FlowNode[], width: number, height: number, maxZoom = 1.25, bounds?: Box) {
  // a large graph gets a thin margin (4 % a side: every pixel counts for its names to stay readable) and may be
  // zoomed out further, to show all of it
  const large = nodes.length > LARGE_GRAPH;
  const pad = large ? 1.08 : 1.24;
  const minZoom = large ? MIN_ZOOM_LARGE : MIN_ZOOM;
  const { x0, y0, x1, y1 } =
    bounds ?? topLevelBounds(nodes, (n) => [Number(n.style?.width ?? 180), Number(n.style?.height ?? 100)]);
  if (!(width > 0 && height > 0 && x1 > x0 && y1 > y0)) return null;
  const zoom = Math.min(maxZoom, Math.max(minZoom, Math.min(width / ((x1 - x0) * pad), height / ((y1 - y0) * pad))));
  return { x: width / 2 - ((x0 + x1) / 2) * zoom, y: height / 2 - ((y0 + y1) / 2) * zoom, zoom };
}
const MIN_ZOOM = 0.05;
/** A large graph may be zoomed out further, to see all of it (10,000 nodes fit at about 0.04). */
const MIN_ZOOM_LARGE = 0.005;

/** Run `fn` once a selection's re-render has been laid out and React Flow has seen the pane's new size (its
 * ResizeObserver reports after layout, before paint): two animation frames later. */
function afterResize(fn: () => void): void {
  requestAnimationFrame(() => requestAnimationFrame(fn));
}

/** The pane's width / height, for a layout that fits it (a guess while the pane has no size). */
function paneAspect(el: HTMLElement | null): number {
  const box = el?.getBoundingClientRect();
  return box && box.width > 0 && box.height > 0 ? box.width / box.height : 1.6;
}
/** The smallest zoom a small graph is fitted at: the smallest text of a node is 11 px (styles.css). */
export const TEXT_ZOOM = 1;
/** The margin (a fraction of the graph's size on each side) a small graph may be fitted with to stay at
 * TEXT_ZOOM when fitView's own margin would need a smaller zoom. */
const TIGHT_PADDING = 0.03;
/** Up to this many top-level nodes a graph is "small": fitting keeps its text readable (TEXT_ZOOM). */
export const SMALL_GRAPH = 12;

/** The viewport a small graph that fitView would zoom below TEXT_ZOOM is shown at: TEXT_ZOOM, the whole graph
 * centred when it fits with a narrower margin, else its left edge (where a laid-out graph starts) at the
 * margin, centred vertically (its top in view when it is taller); null when fitView's fit is at TEXT_ZOOM or
 * more, or the graph is not small. */
export function readableViewport(
  nodes: { parentId?: string; position: { x: number; y: number }; measured?: { width?: number; height?: number } }[],
  width: number,
  height: number,
  maxZoom = 1.25,
) {
  const top = nodes.filter((n) => !n.parentId);
  if (!top.length || top.length > SMALL_GRAPH || !(width > 0 && height > 0)) return null;
  const { x0, y0, x1, y1 } = topLevelBounds(top, (n) => [n.measured?.width ?? 180, n.measured?.height ?? 100]);
  const fitZoom = (padding: number) =>
    Math.min(maxZoom, width / ((x1 - x0) * (1 + 2 * padding)), height / ((y1 - y0) * (1 + 2 * padding)));
  if (fitZoom(FIT.padding) >= TEXT_ZOOM) return null; // fitView's own fit keeps the text readable
  const zoom = TEXT_ZOOM;
  if (fitZoom(TIGHT_PADDING) >= TEXT_ZOOM) {
    // it fits at TEXT_ZOOM with a narrower margin: all of it, centred
    return { x: width / 2 - ((x0 + x1) / 2) * zoom, y: height / 2 - ((y0 + y1) / 2) * zoom, zoom };
  }
  const margin = Math.min(width, height) * FIT.padding * 0.5;
  const x = margin - x0 * zoom;
  const tall = (y1 - y0) * zoom + 2 * margin > height;
  const y = tall ? margin - y0 * zoom : height / 2 - ((y0 + y1) / 2) * zoom;
  return { x, y, zoom };
}
/** The viewport React Flow's fitView (with FIT) would give a small graph's top-level `nodes` at their given
 * positions, with their measured sizes (declared or default ones while not measured yet); null without nodes. */
function fittedViewport(
  nodes: {
    parentId?: string;
    position: { x: number; y: number };
    style?: { width?: unknown; height?: unknown };
    measured?: { width?: number; height?: number };
  }[],
  width: number,
  height: number,
  maxZoom: number,
) {
  const { x0, y0, x1, y1 } = topLevelBounds(nodes, (n) => [
    n.measured?.width ?? (Number(n.style?.width) || 180),
    n.measured?.height ?? (Number(n.style?.height) || 100),
  ]);
  if (!(width > 0 && height > 0 && x1 > x0 && y1 > y0)) return null;
  return getViewportForBounds(
    { x: x0, y: y0, width: x1 - x0, height: y1 - y0 },
    width,
    height,
    MIN_ZOOM,
    maxZoom,
    FIT.padding,
  );
}
// Props of React Flow that keep their identity: it copies each changed prop into its store, and every store
// change runs the selectors of every node, handle and edge on screen.
const MULTI_SELECT = ["Meta", "Control"];
const PRO_OPTIONS = { hideAttribution: true };
const EDGE_OPTIONS = { type: "default" };

/** Functions that keep their identity across renders and call the latest of `fns` (see above). */
function useStable<T extends Record<string, (...args: never[]) => unknown>>(fns: T): T {
  const latest = useRef(fns);
  latest.current = fns;
  return useMemo(() => {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(latest.current)) {
      out[key] = (...args: never[]) => latest.current[key](...args);
    }
    return out as T;
  }, []);
}
const SCOPE_OFFSET = { x: GUTTER + GROUP_PAD, y: GROUP_HEADER + GROUP_PAD };
/** Fitting counts the nodes the overview draws (React Flow holds them hidden then). */
const FIT = { padding: 0.12, includeHiddenNodes: true };
/** A fit-view glyph: four corners. */
const FIT_ICON = (
  <svg viewBox="0 0 16 16" fill="none" stroke="currentColor" strokeWidth="2">
    <path d="M1 5V1h4M11 1h4v4M15 11v4h-4M5 15H1v-4" />
  </svg>
);

export function Canvas(props: CanvasProps) {
  return (
    <ReactFlowProvider>
      <CanvasInner {...props} />
    </ReactFlowProvider>
  );
}

function CanvasInner(props: CanvasProps) {
  const { mode, onChange, readableFit } = props;
  const editing = mode === "edit";
  const rf = useReactFlow<FlowNode, FlowEdge>();
  useDeclaredGeometry();
  const [doc, setDoc] = useState<Graph | null>(null);
  const [layoutError, setLayoutError] = useState<string | null>(null);
  const history = useRef(new History());
  const [, setHistoryVersion] = useState(0);
  /** The document last emitted or received: a host handing it back (the editor, the widget's model) is not
   * laid out again. An identity check: comparing the JSON of 10,000 tasks took 20-40 ms of the main thread. */
  const lastSeen = useRef<Graph | null>(null);
  const fitted = useRef(false);
  const issueStore = useMemo(() => new KeyedStore<Issue[]>(), []);
  const ownStatus = useMemo(() => new KeyedStore<NodeStatus>(), []);
  const statusStore = props.status ?? ownStatus;
  const [nodes, setNodes, onNodesChange] = useNodesState<FlowNode>([]);
  const [edges, setEdges, onEdgesChange] = useEdgesState<FlowEdge>([]);
  const [selected, setSelected] = useState<string[]>([]);
  const [newOp, setNewOp] = useState(false);
  const [selectedEdges, setSelectedEdges] = useState<FlowEdge[]>([]);
  const wrapper = useRef<HTMLDivElement>(null);
  const flowBox = useRef<HTMLDivElement>(null);

  const emit = useCallback(
    (g: Graph) => {
      lastSeen.current = g;
      onChange?.(g);
    },
    [onChange],
  );

  // A document from the host (first render, or a change made in Python): lay it out where needed.
  useEffect(() => {
    const received = props.graph;
    if (received === lastSeen.current) return;
    // a small document handed back as a copy (a host's echo) is recognised by its JSON, as it always was
    const seen = lastSeen.current;
    if (seen && !largeDocument(received) && JSON.stringify(received) === JSON.stringify(seen)) return;
    let cancelled = false;
    mark("dfl:layout:start");
    layoutChanges(received, false, { aspect: paneAspect(flowBox.current) }).then(
      ({ graph: g, changed }) => {
        mark("dfl:layout:end");
        if (cancelled) return;
        setLayoutError(null);
        setDoc(g);
        lastSeen.current = received;
        if (editing && changed) emit(g); // positions were added: keep them in the document
      },
      (e: unknown) => setLayoutError(String(e)),
    );
    return () => {
      cancelled = true;
    };
  }, [props.graph, editing, emit]);

  const commit = useCallback(
    (edited: Graph) => {
      if (!doc) return;
      const next = followNodes(doc, edited); // comments follow their nodes; deleted nodes leave their groups
      history.current.push(doc);
      setHistoryVersion((v) => v + 1);
      setDoc(next);
      emit(next);
    },
    [doc, emit],
  );

  // The view (React Flow's nodes and edges) and, for a large graph, the overview's scene. A small document's are
  // built at once; a large one's in slices (slices.ts) that leave the main thread free, the previous view staying
  // on screen meanwhile (10,000 tasks took 100-170 ms in one piece).
  const smallView = useMemo(() => (doc && !largeDocument(doc) ? buildView(doc) : null), [doc]);
  const [largeView, setLargeView] = useState<{ view: View; scene: Scene | null } | null>(null);
  useEffect(() => {
    if (!doc || !largeDocument(doc)) return;
    let cancelled = false;
    buildSliced(doc, () => cancelled).then(
      (built) => {
        if (!cancelled) setLargeView(built);
      },
      (e: unknown) => {
        if (!(e instanceof Cancelled)) setLayoutError(String(e));
      },
    );
    return () => {
      cancelled = true;
    };
  }, [doc]);
  const view = smallView ?? largeView?.view ?? NO_VIEW;
  const large = view.nodes.length > LARGE_GRAPH;
  const scene = smallView ? null : (largeView?.scene ?? null);
  useEffect(() => {
    if (smallView?.nodes.length) mark("dfl:view");
  }, [smallView]);
  // Zoomed out on a large graph, the overview draws every node (React Flow lets go of them, in the background);
  // zoomed in, it draws beneath React Flow the nodes not handed to it yet.
  const lod = useLevelOfDetail(nodes, edges, scene);
  const { overview, reset: resetDetail } = lod;

  useEffect(() => {
    const keep = new Set(selected);
    let viewport = rf.getViewport();
    if (!fitted.current && view.nodes.length && flowBox.current) {
      // Start at the fitted viewport, computed from the layout: nodes are drawn once, at the zoom they are
      // seen at (compact when small, the overview when many), instead of at 100 % and again after a fit.
      const box = flowBox.current.getBoundingClientRect();
      const v = viewportFor(view.nodes, box.width, box.height, 1.25, scene?.bounds);
      if (v) {
        rf.setViewport(v);
        viewport = v;
      }
    }
    resetDetail(scene, viewport);
    setNodes(view.nodes.map((n) => (keep.has(n.id) ? { ...n, selected: true } : n)));
    setEdges(view.edges);
    if (view.nodes.length) mark("dfl:nodes:set");
    // the selection is read, not tracked: a selection change must not rebuild the nodes
    // eslint-disable-next-line react-hooks/exhaustive-deps -- `selected` deliberately left out (above)
  }, [view, scene, setNodes, setEdges, rf, resetDetail]);

  // Fit the view once, when the first nodes have been measured.
  const initialized = useNodesInitialized();
  useEffect(() => {
    fitted.current = false; // a switch between editing and monitoring fits the view again
  }, [mode]);
  /** Show the whole graph; React Flow holds only part of a large one, so its own fitView would not. A small
   * graph is never fitted below TEXT_ZOOM (its text stays at least 11 px): one wider than the pane at
   * that zoom is shown from its start (the left, where a laid-out graph begins). The viewport is computed from
   * the view being shown and set at once: React Flow's fitView is queued and fits the nodes its store holds
   * a frame later, which after a Layout could still be the previous positions (the new ones reach its store in
   * a passive effect that a loaded machine ran after that frame), leaving the laid-out graph out of view. */
  const fit = useCallback(
    (maxZoom: number, duration = 0) => {
      const box = flowBox.current?.getBoundingClientRect();
      if (!box) return;
      const v = large ? viewportFor(view.nodes, box.width, box.height, maxZoom, scene?.bounds) : null;
      // the positions of the view being shown (React Flow may still hold the previous ones), its measured sizes
      const placed = large ? [] : view.nodes.map((n) => ({ ...n, measured: rf.getNode(n.id)?.measured ?? n.measured }));
      const readable = readableFit && !large ? readableViewport(placed, box.width, box.height, maxZoom) : null;
      const whole = large ? null : fittedViewport(placed, box.width, box.height, maxZoom);
      if (v) rf.setViewport(v, { duration });
      else if (readable) rf.setViewport(readable, { duration });
      else if (whole) rf.setViewport(whole, { duration });
    },
    [large, view, scene, rf, readableFit],
  );
  /** The viewport the last automatic fit set, until the view is moved: a pane resized meanwhile (a side panel
   * opening as validation answers or a step is selected) is fitted again, not left showing part of the graph. */
  const autoFitted = useRef<{ x: number; y: number; zoom: number } | null>(null);
  useEffect(() => {
    // a large graph is fitted from its layout: React Flow measures (holds) only the nodes in view
    if ((initialized || large) && !fitted.current) {
      fitted.current = true;
      fit(1.25);
      autoFitted.current = rf.getViewport();
    }
  }, [initialized, large, fit, mode, rf]);
  /** The user moves the view (search, a problem's step): an automatic fit still waiting for the nodes to be
   * measured (after a layout) is dropped, so that it does not land after the move and undo it. */
  const userMoved = () => {
    fitted.current = true;
    autoFitted.current = null;
  };
  const latestFit = useStable({ fit }).fit;
  useEffect(() => {
    const el = flowBox.current;
    if (!el || typeof ResizeObserver === "undefined") return;
    const observer = new ResizeObserver(() => {
      const was = autoFitted.current;
      const now = rf.getViewport();
      if (!was || was.x !== now.x || was.y !== now.y || was.zoom !== now.zoom) {
        autoFitted.current = null; // moved since: the user's view is kept
        return;
      }
      latestFit(1.25);
      autoFitted.current = rf.getViewport();
    });
    observer.observe(el);
    return () => observer.disconnect();
  }, [rf, latestFit]);

  // Validation problems, by the path of every drawn node they concern.
  useEffect(() => {
    const byNode = new Map<string, Issue[]>();
    for (const i of props.issues ?? []) {
      if (!i.node) continue;
      const key = `${i.template}\u0000${i.node}`;
      if (!byNode.has(key)) byNode.set(key, []);
      byNode.get(key)!.push(i);
    }
    const next: Record<string, Issue[]> = {};
    for (const n of view.nodes) {
      if (n.type !== "step" && n.type !== "container") continue;
      const d = n.data as StepData;
      const found = byNode.get(`${d.owner}\u0000${d.node.name}`);
      if (found) next[d.path] = found;
    }
    issueStore.reset(next);
  }, [props.issues, view, issueStore]);

  const toggleCollapsed = useCallback(
    (path: string, collapse: boolean) => {
      if (!doc) return;
      autoLayout(setCollapsed(doc, path, collapse), true).then(commit, (e: unknown) => setLayoutError(String(e)));
    },
    [doc, commit],
  );

  const ctx: CanvasContextValue = useMemo(
    () => ({ mode, overview: large, issues: issueStore, status: statusStore, toggleCollapsed }),
    [mode, large, issueStore, statusStore, toggleCollapsed],
  );

  // ---- editing -------------------------------------------------------------------------------
  const scopeOfNode = (id: string): string | null => {
    if (id === "@inputs" || id === "@outputs") return "";
    const n = view.nodes.find((x) => x.id === id);
    return n && (n.type === "step" || n.type === "container") ? (n.data as StepData).scope : null;
  };

  const toGraphEdge = (c: Connection): { scope: string; edge: GraphEdge } | { error: string } => {
    const sh = parseHandle(c.sourceHandle);
    const th = parseHandle(c.targetHandle);
    if (!sh || !th) return { error: "unknown port" };
    const err = wireError(sh, th);
    if (err) return { error: err };
    // A group's inner handles are its template's @inputs / @outputs, in the group's own scope.
    const srcInner = sh.role === "inner-in";
    const tgtInner = th.role === "inner-out";
    const sScope = srcInner ? c.source : scopeOfNode(c.source);
    const tScope = tgtInner ? c.target : scopeOfNode(c.target);
    if (sScope === null || tScope === null) return { error: "unknown node" };
    if (sScope !== tScope) return { error: "wires connect nodes of the same template" };
    if (c.source === c.target && !srcInner) return { error: "a node cannot feed itself" };
    const end = (id: string, inner: boolean) =>
      inner ? (id === c.source ? "@inputs" : "@outputs") : splitPath(id).name;
    const port = (h: typeof sh) => ("port" in h ? h.port : undefined);
    if (sh.role === "ctl-out" && th.role === "ctl-in") {
      return {
        scope: sScope,
        edge: {
          kind: "control",
          source: { node: splitPath(c.source).name },
          target: { node: splitPath(c.target).name },
        },
      };
    }
    const kind = sh.role === "with_param" || !("kind" in sh) ? "parameter" : sh.kind;
    const source = { node: c.source === "@inputs" ? "@inputs" : end(c.source, srcInner), port: port(sh) };
    const target =
      th.role === "with_param"
        ? { node: splitPath(c.target).name, option: "with_param" as const }
        : { node: c.target === "@outputs" ? "@outputs" : end(c.target, tgtInner), port: port(th) };
    return { scope: sScope, edge: { kind, source, target } as GraphEdge };
  };

  const isValidConnection = (c: Connection | FlowEdge) => "scope" in toGraphEdge(c as Connection);

  const onConnect = (c: Connection) => {
    if (!doc) return;
    const r = toGraphEdge(c);
    if ("edge" in r) {
      commit(connect(doc, r.scope, r.edge));
      if (layoutError?.startsWith("Not wired")) setLayoutError(null);
    }
  };

  /** A wire released on a port that refused it (red while dragging): say why. */
  const onConnectEnd = (_: unknown, state: FinalConnectionState) => {
    if (!editing || state.isValid || !state.fromHandle || !state.toHandle) return;
    const [from, to] =
      state.fromHandle.type === "source" ? [state.fromHandle, state.toHandle] : [state.toHandle, state.fromHandle];
    const r = toGraphEdge({
      source: from.nodeId,
      sourceHandle: from.id ?? null,
      target: to.nodeId,
      targetHandle: to.id ?? null,
    });
    if ("error" in r) setLayoutError(`Not wired: ${r.error}.`);
  };

  const deleteSelection = () => {
    if (!doc) return;
    // the selection as React Flow holds it at the key press: the `selected` state follows it a render later
    const now = rf
      .getNodes()
      .filter((n) => n.selected && n.type !== "lane")
      .map((n) => n.id);
    const paths = now.filter((id) => scopeOfNode(id) !== null && !id.startsWith("@"));
    const es = selectedEdges.map((e) => e.data as EdgeData);
    if (!paths.length && !es.length) return;
    commit(removeItems(doc, paths, es));
    setSelected([]);
    setSelectedEdges([]);
  };

  const undo = () => {
    if (!doc) return;
    const g = history.current.undo(doc);
    if (g) {
      setDoc(g);
      emit(g);
      setHistoryVersion((v) => v + 1);
    }
  };
  const redo = () => {
    if (!doc) return;
    const g = history.current.redo(doc);
    if (g) {
      setDoc(g);
      emit(g);
      setHistoryVersion((v) => v + 1);
    }
  };
  const relayout = () => {
    if (doc)
      autoLayout(doc, true, { aspect: paneAspect(flowBox.current) }).then((g) => {
        commit(g);
        fitted.current = false;
      });
  };

  const onKeyDown = (e: KeyboardEvent) => {
    const target = e.target as HTMLElement;
    if (target.closest("input, textarea, select")) return; // typing in a field
    if (e.key === "Control" || e.key === "Meta" || e.key === "Shift") return; // React Flow's multi-selection keys: it listens on the window
    e.stopPropagation(); // keep JupyterLab's notebook shortcuts out of the canvas
    if (!editing) return;
    const mod = e.ctrlKey || e.metaKey;
    if (e.key === "Delete" || e.key === "Backspace") {
      e.preventDefault();
      deleteSelection();
    } else if (mod && e.key.toLowerCase() === "z" && !e.shiftKey) {
      e.preventDefault();
      undo();
    } else if (mod && (e.key.toLowerCase() === "y" || (e.key.toLowerCase() === "z" && e.shiftKey))) {
      e.preventDefault();
      redo();
    } else if (mod && e.key.toLowerCase() === "c") {
      clipboard = doc
        ? copyItems(
            doc,
            selected.filter((id) => !id.startsWith("@")),
          )
        : null;
    } else if (mod && e.key.toLowerCase() === "v" && clipboard && doc) {
      e.preventDefault();
      const scope = selected.length ? (scopeOfNode(selected[0]) ?? "") : "";
      const r = paste(doc, scope, clipboard);
      commit(r.graph);
      setSelected(r.paths);
    } else if (mod && e.key.toLowerCase() === "a") {
      e.preventDefault();
      setNodes((ns) => ns.map((n) => ({ ...n, selected: n.type !== "lane" })));
    }
  };

  const dropTarget = (point: { x: number; y: number }) => {
    // The deepest expanded group under the point, or the top level.
    let best: { scope: string; origin: { x: number; y: number } } = { scope: "", origin: { x: 0, y: 0 } };
    for (const n of view.nodes) {
      if (n.type !== "container") continue;
      // React Flow holds only part of a large graph: the overview's scene knows where every group is
      const held = rf.getInternalNode(n.id)?.internals.positionAbsolute;
      const drawn = held ? undefined : scene?.nodes.find((x) => x.path === n.id);
      const p = held ?? (drawn && { x: drawn.x0, y: drawn.y0 });
      if (!p) continue;
      const d = n.data as StepData;
      if (
        point.x >= p.x &&
        point.x <= p.x + d.width &&
        point.y >= p.y &&
        point.y <= p.y + d.height &&
        n.id.length >= best.scope.length
      ) {
        best = { scope: n.id, origin: { x: p.x + SCOPE_OFFSET.x, y: p.y + SCOPE_OFFSET.y } };
      }
    }
    return best;
  };

  /** Where a node dropped at `pos` goes in a Steps scope: into the stage column under it (placed below its
   * nodes), or a new stage between (or after) the columns. */
  const stagePlacement = (scope: string, pos: { x: number; y: number }) => {
    if (!doc) return { pos };
    const owner = scopeTemplateName(doc, scope);
    const t = doc.templates[owner];
    if (t.kind !== "steps") return { pos };
    const positions = templateLayout(doc, owner).nodes ?? {};
    const columns = new Map<number, { x0: number; x1: number; y1: number }>();
    for (const n of t.nodes ?? []) {
      const p = positions[n.name];
      if (!p) continue;
      const c = columns.get(n.stage ?? 0) ?? { x0: Infinity, x1: -Infinity, y1: -Infinity };
      columns.set(n.stage ?? 0, {
        x0: Math.min(c.x0, p.x),
        x1: Math.max(c.x1, p.x + NODE_WIDTH),
        y1: Math.max(c.y1, p.y + 120),
      });
    }
    const sorted = [...columns.entries()].sort((a, b) => a[0] - b[0]);
    if (!sorted.length) return { pos, stage: { index: 0, insert: false } };
    const x = pos.x + NODE_WIDTH / 2;
    for (const [index, c] of sorted) {
      if (x >= c.x0 - 20 && x <= c.x1 + 20)
        return { pos: { x: c.x0, y: Math.max(pos.y, c.y1 + NODE_GAP) }, stage: { index, insert: false } };
    }
    const next = sorted.find(([, c]) => x < c.x0);
    if (!next) {
      const [last, c] = sorted[sorted.length - 1];
      return { pos: { x: Math.max(pos.x, c.x1 + STAGE_GAP), y: pos.y }, stage: { index: last + 1, insert: false } };
    }
    return { pos, stage: { index: next[0], insert: true } };
  };

  const placeEntry = (entry: PaletteEntry, point: { x: number; y: number }) => {
    if (!doc) return;
    const { scope, origin } = dropTarget(point);
    const placed = stagePlacement(scope, { x: point.x - origin.x - 20, y: point.y - origin.y - 20 });
    const rows = Math.max(inputPorts(entry.template).length, outputPorts(entry.template).length);
    const owner = scopeTemplateName(doc, scope);
    const pos = freeSpot(doc, owner, placed.pos, { width: NODE_WIDTH, height: stepHeight(rows) }, []);
    const r = addNode(doc, scope, entry.name, entry.template, pos, placed.stage);
    commit(r.graph);
    setSelected([r.path]);
  };

  const onDrop = (e: DragEvent) => {
    const raw = e.dataTransfer.getData(DRAG_MIME);
    if (!raw || !editing) return;
    e.preventDefault();
    placeEntry(JSON.parse(raw) as PaletteEntry, rf.screenToFlowPosition({ x: e.clientX, y: e.clientY }));
  };

  const addAtCentre = (entry: PaletteEntry) => {
    const box = wrapper.current?.querySelector(".react-flow")?.getBoundingClientRect();
    if (!box) return;
    placeEntry(entry, rf.screenToFlowPosition({ x: box.x + box.width / 2, y: box.y + box.height / 2 }));
  };

  const onNodeDragStop = (_: unknown, __: FlowNode, dragged: FlowNode[]) => {
    if (!doc || !editing) return;
    const moves = dragged
      .filter((n) => n.type !== "lane")
      .map((n) => ({
        path: n.id,
        x: n.position.x - (n.parentId ? SCOPE_OFFSET.x : 0),
        y: n.position.y - (n.parentId ? SCOPE_OFFSET.y : 0),
      }));
    if (moves.length) commit(movePositions(doc, moves));
  };

  const focusIssue = (issue: Issue) => {
    const n = view.nodes.find(
      (x) =>
        (x.type === "step" || x.type === "container") &&
        (x.data as StepData).owner === issue.template &&
        (x.data as StepData).node.name === issue.node,
    );
    if (!n) return;
    goTo(n);
  };

  /** Node search: the steps whose name, template or phase contains the text; Enter goes to the next one. */
  const [search, setSearch] = useState("");
  const [searchNote, setSearchNote] = useState<string | null>(null);
  const searchTurn = useRef(0);
  const findSteps = (text: string): FlowNode[] => {
    const q = text.trim().toLowerCase();
    if (!q) return [];
    return view.nodes.filter((n) => {
      if (n.type !== "step" && n.type !== "container") return false;
      const d = n.data as StepData;
      const phase = statusStore.get(n.id)?.phase ?? "";
      return [d.node.name, d.node.template, phase].some((x) => x.toLowerCase().includes(q));
    });
  };
  const goToSearch = (next: boolean) => {
    const hits = findSteps(search);
    if (!hits.length) return setSearchNote(search.trim() ? "no match" : null);
    searchTurn.current = next ? (searchTurn.current + 1) % hits.length : 0;
    const n = hits[searchTurn.current];
    setSearchNote(`${searchTurn.current + 1} / ${hits.length}`);
    goTo(n);
  };
  /** Take the user to step `n` (the search's, a problem's): select it alone (a pending automatic fit is dropped)
   * and centre it once its properties panel has resized the pane. Not React Flow's fitView({nodes}): queued, it
   * fits the nodes its store holds a frame later, and now and then left the view where it was. */
  const goTo = (n: FlowNode) => {
    userMoved();
    setSelected([n.id]);
    setNodes((ns) => ns.map((m) => ({ ...m, selected: m.id === n.id })));
    afterResize(() => centreOn(n));
  };
  /** Move the view to `n` (centred, at least 100 %), with the pane's size after the selection's panel opened. */
  const centreOn = (n: FlowNode) => {
    const hit = scene?.nodes.find((x) => x.path === n.id);
    const box = flowBox.current?.getBoundingClientRect();
    if (!box) return;
    // a large graph's step from the scene; a small graph's from React Flow's own (measured) node
    const inner = hit ? null : rf.getInternalNode(n.id);
    const at = hit
      ? { x: (hit.x0 + hit.x1) / 2, y: (hit.y0 + hit.y1) / 2 }
      : inner
        ? {
            x: inner.internals.positionAbsolute.x + (inner.measured.width ?? 0) / 2,
            y: inner.internals.positionAbsolute.y + (inner.measured.height ?? 0) / 2,
          }
        : null;
    if (at) rf.setViewport(centredOn(at.x, at.y, Math.max(rf.getZoom(), 1), box.width, box.height), { duration: 300 });
  };

  const onSelectionChange = useCallback(({ nodes: ns, edges: es }: { nodes: FlowNode[]; edges: FlowEdge[] }) => {
    const ids = ns.filter((n) => n.type !== "lane").map((n) => n.id);
    setSelected((old) => (old.length === ids.length && old.every((id, i) => id === ids[i]) ? old : ids));
    setSelectedEdges((old) => (old.length === es.length && old.every((e, i) => e.id === es[i].id) ? old : es));
  }, []);

  const selectedNode = selected.length === 1 ? view.nodes.find((n) => n.id === selected[0]) : undefined;
  const selectedData =
    selectedNode && (selectedNode.type === "step" || selectedNode.type === "container")
      ? (selectedNode.data as StepData)
      : undefined;
  const patchSelected = (patch: NodePatch) => {
    if (!doc || !selectedData) return;
    try {
      const r = updateNode(doc, selectedData.path, patch);
      commit(renameInLayout(r.graph, selectedData.path, r.path));
      setSelected([r.path]);
    } catch (err) {
      setLayoutError(String(err));
    }
  };
  const setSelectedLiteral = (port: string, value: Json | undefined) => {
    if (doc && selectedData) commit(setLiteral(doc, selectedData.path, port, value));
  };
  const setSelectedTemplate = (template: Template) => {
    if (!doc || !selectedData) return;
    try {
      commit(updateTemplate(doc, selectedData.node.template, template));
    } catch (err) {
      setLayoutError(String(err));
    }
  };
  const sourceEntry =
    selectedData?.template?.kind === "python"
      ? (props.palette ?? []).find((e) => e.file && e.template.op === selectedData.template?.op)
      : undefined;
  const openSource =
    sourceEntry && props.onOpenSource ? () => props.onOpenSource!(sourceEntry.file!, sourceEntry.line) : undefined;
  const whenHint = selectedData && doc ? whenHintFor(doc, selectedData.scope, selectedData.node.name) : undefined;
  const templateUsers =
    selectedData && doc
      ? Object.values(doc.templates).reduce(
          (k, t) => k + (t.nodes ?? []).filter((n) => n.template === selectedData.node.template).length,
          0,
        )
      : 0;

  /** A click on the overview zooms in on the node under the pointer (selecting it, or opening its details
   * when monitoring), or on the point clicked. */
  const onPaneClick = (e: ReactMouseEvent) => {
    if (!overview || !scene || !flowBox.current) return;
    const p = rf.screenToFlowPosition({ x: e.clientX, y: e.clientY });
    const hit = nodeAt(scene, p.x, p.y);
    const box = flowBox.current.getBoundingClientRect();
    const [cx, cy] = hit ? [(hit.x0 + hit.x1) / 2, (hit.y0 + hit.y1) / 2] : [p.x, p.y];
    rf.setViewport(centredOn(cx, cy, READABLE_ZOOM, box.width, box.height), { duration: 250 });
    if (!hit || hit.kind === "io") return;
    if (editing) {
      setSelected([hit.path]);
      setNodes((ns) => ns.map((m) => (m.selected === (m.id === hit.path) ? m : { ...m, selected: m.id === hit.path })));
    } else {
      props.onStepClick?.(hit.path);
    }
  };
  const selectedSet = useMemo(() => new Set(selected), [selected]);
  const stable = useStable({
    onConnect,
    onConnectEnd,
    isValidConnection,
    onNodeDragStop,
    onPaneClick,
    onNodeClick: (_: unknown, n: FlowNode) => {
      if (!editing && (n.type === "step" || n.type === "container")) props.onStepClick?.(n.id);
    },
  });
  const notes = useAnnotations({ doc, nodes: view.nodes, selected, editing, commit, flow: flowBox });

  const issues = props.issues ?? [];
  const notice = layoutError ? { level: "error" as const, text: layoutError } : props.notice;

  return (
    <CanvasContext.Provider value={ctx}>
      <div
        ref={wrapper}
        className={`dfl-root dfl-mode-${mode}`}
        style={{ height: props.height ?? 640 }}
        onKeyDown={onKeyDown}
        tabIndex={0}
        data-lm-suppress-shortcuts="true"
      >
        <div className="dfl-toolbar">
          <span className="dfl-title" title="workflow name">
            {doc?.name ?? props.graph.name}
          </span>
          {editing ? (
            <span className={`dfl-chip ${issues.length ? "dfl-chip-bad" : "dfl-chip-ok"}`} data-testid="validity">
              {issues.length ? `${issues.length} problem${issues.length > 1 ? "s" : ""}` : "✓ valid"}
            </span>
          ) : (
            <RunState workflow={props.workflow} />
          )}
          <span className="dfl-spacer" />
          <input
            className="dfl-input dfl-search"
            data-testid="node-search"
            placeholder="Find a step…"
            value={search}
            title="Find a step by name, template or phase (Enter: the next one)"
            onChange={(e) => {
              setSearch(e.target.value);
              setSearchNote(null);
            }}
            onKeyDown={(e) => {
              e.stopPropagation();
              if (e.key === "Enter") goToSearch(searchNote !== null && searchNote !== "no match");
              if (e.key === "Escape") {
                setSearch("");
                setSearchNote(null);
              }
            }}
          />
          {searchNote && (
            <span className="dfl-muted" data-testid="node-search-note">
              {searchNote}
            </span>
          )}
          {editing && (
            <>
              <button className="dfl-button" onClick={undo} disabled={!history.current.canUndo} title="Undo (Ctrl+Z)">
                ↶ Undo
              </button>
              <button
                className="dfl-button"
                onClick={redo}
                disabled={!history.current.canRedo}
                title="Redo (Ctrl+Shift+Z)"
              >
                ↷ Redo
              </button>
              <button className="dfl-button" onClick={relayout} title="Lay out left to right">
                ⇶ Layout
              </button>
              {notes.tools}
              <span className="dfl-sep" />
            </>
          )}
          {!editing && props.runs && <RunPicker state={props.runs} onAction={props.onAction} />}
          {(props.actions ?? []).map((a) => (
            <button
              key={a.action}
              className={`dfl-button${a.primary ? " dfl-primary" : ""}`}
              data-action={a.action}
              disabled={a.enabled === false}
              title={a.title}
              onClick={() => props.onAction?.(a.action)}
            >
              {a.label}
            </button>
          ))}
        </div>
        {notice && (
          <div className={`dfl-notice dfl-notice-${notice.level}`} data-testid="notice">
            {notice.text}
          </div>
        )}
        <div className="dfl-body">
          {editing && (
            <Palette
              entries={props.palette ?? []}
              errors={props.paletteErrors}
              onAdd={addAtCentre}
              tools={
                props.onNewOp && (
                  <button
                    className="dfl-button"
                    data-action="new-op"
                    onClick={() => setNewOp(true)}
                    title="Write a new @OP.function into a module beside this document"
                  >
                    + New Python OP…
                  </button>
                )
              }
            />
          )}
          {newOp && props.onNewOp && <NewOpForm onSubmit={props.onNewOp} onClose={() => setNewOp(false)} />}
          {props.overlay}
          <div
            className={`dfl-flow${overview ? " dfl-lod-overview" : ""}`}
            ref={flowBox}
            onDragOver={(e) => {
              e.preventDefault();
              e.dataTransfer.dropEffect = "copy";
            }}
            onDrop={onDrop}
          >
            <ReactFlow<FlowNode, FlowEdge>
              nodes={lod.shownNodes}
              edges={lod.shownEdges}
              nodeTypes={nodeTypes}
              onNodesChange={onNodesChange}
              onEdgesChange={onEdgesChange}
              onConnect={stable.onConnect}
              onConnectEnd={stable.onConnectEnd}
              isValidConnection={stable.isValidConnection}
              onNodeDragStop={stable.onNodeDragStop}
              onSelectionChange={onSelectionChange}
              onPaneClick={stable.onPaneClick}
              onNodeClick={stable.onNodeClick}
              nodesDraggable
              nodesConnectable={editing}
              elementsSelectable
              deleteKeyCode={null}
              selectionKeyCode="Shift"
              multiSelectionKeyCode={MULTI_SELECT}
              minZoom={large ? MIN_ZOOM_LARGE : MIN_ZOOM}
              maxZoom={2}
              proOptions={PRO_OPTIONS}
              defaultEdgeOptions={EDGE_OPTIONS}
            >
              {large ? <GridDots gap={20} size={1} /> : <Background gap={20} size={1} />}
              {notes.layer}
              {scene && (
                <Overview
                  scene={scene}
                  status={statusStore}
                  issues={issueStore}
                  selected={selectedSet}
                  only={overview ? null : lod.hidden}
                  version={lod.version}
                />
              )}
              {!large && (
                <MiniMap
                  pannable
                  zoomable
                  nodeStrokeWidth={3}
                  nodeClassName={(n) => `dfl-mini-${n.type}`}
                  style={{ width: 150, height: 96 }}
                />
              )}
              {scene && <OverviewMap scene={scene} status={statusStore} issues={issueStore} selected={selectedSet} />}
              <Controls showInteractive={false} showFitView={!large} fitViewOptions={FIT}>
                {large && (
                  <ControlButton
                    className="react-flow__controls-fitview"
                    onClick={() => fit(1.25, 250)}
                    title="Fit view"
                    aria-label="Fit view"
                  >
                    {FIT_ICON}
                  </ControlButton>
                )}
              </Controls>
            </ReactFlow>
          </div>
          {editing && (
            <div className="dfl-side">
              {selectedData && doc ? (
                <Properties
                  key={selectedData.path}
                  node={selectedData.node}
                  template={selectedData.template}
                  ownerKind={selectedData.ownerKind}
                  edges={scopeTemplate(doc, selectedData.scope).edges ?? []}
                  onPatch={patchSelected}
                  onLiteral={setSelectedLiteral}
                  templateUsers={templateUsers}
                  codeEditor={props.codeEditor}
                  onTemplate={setSelectedTemplate}
                  openSource={openSource}
                  whenHint={whenHint}
                  checkWhen={props.checkWhen}
                />
              ) : (
                <div className="dfl-hint">
                  {selected.length > 1
                    ? `${selected.length} selected`
                    : "Select a step to edit it; drag templates from the palette; wire an output to an input."}
                </div>
              )}
              <Problems issues={issues} onFocus={focusIssue} />
            </div>
          )}
          {!editing && (
            <div className="dfl-side">
              {props.details ? (
                <Details
                  details={props.details}
                  onClose={() => props.onStepClick?.(null)}
                  onItem={(i) => props.onStepClick?.(props.details!.path, i)}
                  onAction={(a) => props.onAction?.(`${a}:${props.details!.path}`)}
                />
              ) : (
                <div className="dfl-hint">
                  Click a step to see its inputs, outputs (with previews of artifacts), logs and errors.
                </div>
              )}
            </div>
          )}
        </div>
      </div>
    </CanvasContext.Provider>
  );
}
