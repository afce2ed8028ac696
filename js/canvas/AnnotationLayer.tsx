// Comments and groups on the canvas: sticky notes and labelled frames drawn in flow coordinates (React Flow's
// ViewportPortal), for every drawn Steps/DAG template (the top level and each expanded group node). In edit
// mode they are added from the toolbar and edited in place; every change is one document edit (`commit`).
// In monitor mode they are drawn read-only. The document edits are annotations.ts (this file has another
// name: two names differing only by case clash on case-insensitive file systems).
import { type ReactFlowState, ViewportPortal, useReactFlow, useStore } from "@xyflow/react";
import {
  type KeyboardEvent,
  type PointerEvent as ReactPointerEvent,
  type ReactNode,
  type RefObject,
  useCallback,
  useMemo,
  useRef,
  useState,
} from "react";
import {
  type Box,
  COMMENT_HEIGHT,
  COMMENT_MIN,
  COMMENT_WIDTH,
  GROUP_COLORS,
  GROUP_LABEL,
  LANE_HEAD,
  type LayoutComment,
  type LayoutGroup,
  addComment,
  addGroup,
  commentsOf,
  editComment,
  editGroup,
  groupFrame,
  groupsOf,
  placeComment,
  removeComment,
  removeGroup,
  tether,
} from "./annotations";
import "./annotations.css";
import { GROUP_HEADER, GROUP_PAD, GUTTER } from "./geometry";
import { templateLayout } from "./layout";
import { joinPath, splitPath } from "./scope";
import type { Graph } from "./types";
import type { FlowNode, StepData } from "./view";

export interface AnnotationProps {
  doc: Graph | null;
  /** the drawn view's nodes (positions relative to their parent group node, sizes in `style`) */
  nodes: FlowNode[];
  selected: string[];
  editing: boolean;
  commit(next: Graph): void;
  /** the flow area, whose middle is where a comment goes when no node is selected */
  flow: RefObject<HTMLDivElement | null>;
}

/** One drawn instance of a template's annotations: the top level, or an expanded group node. */
interface Scope {
  scope: string;
  template: string;
  container?: string;
}

type Point = { x: number; y: number };
/** Where a scope's template coordinates start inside its expanded group node (as view.ts places them). */
const INNER = { x: GUTTER + GROUP_PAD, y: GROUP_HEADER + GROUP_PAD };
const isStep = (n: FlowNode) => n.type === "step" || n.type === "container";
const instanceKey = (scope: string, kind: "c" | "g", id: string) => `${scope}\u0000${kind}\u0000${id}`;

/** Absolute boxes of the view's nodes, from the document (React Flow may not hold them all). */
function viewBoxes(nodes: FlowNode[]): Map<string, Box> {
  const boxes = new Map<string, Box>();
  for (const n of nodes) {
    const parent = n.parentId ? boxes.get(n.parentId) : undefined;
    boxes.set(n.id, {
      x: n.position.x + (parent?.x ?? 0),
      y: n.position.y + (parent?.y ?? 0),
      width: Number(n.style?.width ?? 0),
      height: Number(n.style?.height ?? 0),
    });
  }
  return boxes;
}

/** The boxes of `ids` where React Flow has them now (following a drag as it happens), else where the
 * document has them, with the z-index React Flow draws them at (a selected node is raised). Re-renders only
 * when one of them moves or is raised. */
function useLiveBoxes(ids: string[], fallback: Map<string, Box>): Map<string, Box & { z: number }> {
  const key = useStore(
    useCallback(
      (s: ReactFlowState) =>
        ids
          .map((id) => {
            const held = s.nodeLookup.get(id)?.internals;
            const p = held?.positionAbsolute ?? fallback.get(id);
            return p ? `${p.x},${p.y},${held?.z ?? 0}` : "";
          })
          .join(";"),
      [ids, fallback],
    ),
  );
  return useMemo(() => {
    const out = new Map<string, Box & { z: number }>();
    key.split(";").forEach((xyz, i) => {
      const f = fallback.get(ids[i]);
      if (!xyz || !f) return;
      const [x, y, z] = xyz.split(",").map(Number);
      out.set(ids[i], { ...f, x, y, z });
    });
    return out;
  }, [key, ids, fallback]);
}

interface Drag {
  key: string;
  kind: "move" | "resize";
  start: Point;
  zoom: number;
  dx: number;
  dy: number;
}

/** The toolbar buttons and the drawn layer of comments and groups, sharing their state (a new comment or
 * group opens for typing). */
export function useAnnotations(props: AnnotationProps): { tools: ReactNode; layer: ReactNode } {
  const { doc, nodes, selected, editing, commit, flow } = props;
  const rf = useReactFlow();
  const [typing, setTyping] = useState<string | null>(null);
  const [drag, setDrag] = useState<Drag | null>(null);

  const scopes = useMemo<Scope[]>(() => {
    if (!doc) return [];
    const out: Scope[] = [{ scope: "", template: doc.entrypoint }];
    for (const n of nodes)
      if (n.type === "container")
        out.push({ scope: n.id, template: (n.data as StepData).node.template, container: n.id });
    return out;
  }, [doc, nodes]);
  const fallback = useMemo(() => viewBoxes(nodes), [nodes]);
  const watched = useMemo(() => {
    const ids = new Set<string>();
    if (!doc) return [];
    for (const s of scopes) {
      const comments = commentsOf(doc, s.template);
      const groups = groupsOf(doc, s.template);
      if (!comments.length && !groups.length) continue;
      if (s.container) ids.add(s.container);
      for (const c of comments) if (c.attached_to) ids.add(joinPath(s.scope, c.attached_to));
      for (const g of groups) for (const m of g.nodes) ids.add(joinPath(s.scope, m));
    }
    return [...ids].filter((id) => fallback.has(id)).sort();
  }, [doc, scopes, fallback]);
  const live = useLiveBoxes(watched, fallback);

  // ---- toolbar -------------------------------------------------------------------------------
  const stepIds = useMemo(() => new Set(nodes.filter(isStep).map((n) => n.id)), [nodes]);
  const steps = selected.filter((id) => stepIds.has(id)); // Ctrl+A on a large graph selects thousands
  const groupScope =
    steps.length && steps.every((id) => splitPath(id).scope === splitPath(steps[0]).scope)
      ? splitPath(steps[0]).scope
      : null;

  /** What a new note of `scope` should not cover, in its template's coordinates: every drawn node (of the
   * group nodes around the scope, their header and port columns), the scope's notes and group labels. */
  const takenIn = (scope: Scope, origin: Point): Box[] => {
    const shift = (b: Box): Box => ({ ...b, x: b.x - origin.x, y: b.y - origin.y });
    const boxes: Box[] = [];
    for (const n of nodes) {
      const b = fallback.get(n.id)!;
      const around = n.type === "container" && (scope.scope === n.id || scope.scope.startsWith(`${n.id}/`));
      if (!around) {
        boxes.push(shift(b));
        continue;
      }
      boxes.push(
        shift({ ...b, height: GROUP_HEADER }),
        shift({ ...b, width: GUTTER }),
        shift({ ...b, x: b.x + b.width - GUTTER, width: GUTTER }),
      );
    }
    for (const c of commentsOf(doc!, scope.template)) {
      boxes.push({ x: c.x, y: c.y, width: c.width ?? COMMENT_WIDTH, height: c.height ?? COMMENT_HEIGHT });
    }
    const lanes = doc!.templates[scope.template]?.kind === "steps";
    for (const g of groupsOf(doc!, scope.template)) {
      const f = groupFrame(
        g.nodes.map((m) => fallback.get(joinPath(scope.scope, m))).filter((b): b is Box => !!b),
        lanes ? LANE_HEAD : 0,
      );
      if (f) boxes.push(shift({ ...f, height: GROUP_LABEL }));
    }
    return boxes;
  };
  const originOf = (s: Scope): Point => {
    const b = s.container ? fallback.get(s.container) : undefined;
    return b ? { x: b.x + INNER.x, y: b.y + INNER.y } : { x: 0, y: 0 };
  };

  const newComment = () => {
    if (!doc) return;
    const size = { width: COMMENT_WIDTH, height: COMMENT_HEIGHT };
    let scope = scopes[0];
    let box: Box;
    let attached: string | null = null;
    if (steps.length === 1) {
      const path = steps[0];
      const { scope: s, name } = splitPath(path);
      scope = scopes.find((x) => x.scope === s) ?? scope;
      const origin = originOf(scope);
      const b = fallback.get(path)!;
      box = placeComment(takenIn(scope, origin), size, { node: { ...b, x: b.x - origin.x, y: b.y - origin.y } });
      attached = name;
    } else {
      const r = flow.current?.getBoundingClientRect();
      const centre = r ? rf.screenToFlowPosition({ x: r.x + r.width / 2, y: r.y + r.height / 2 }) : { x: 0, y: 0 };
      box = placeComment(takenIn(scope, { x: 0, y: 0 }), size, { centre });
    }
    const r = addComment(doc, scope.template, box, attached);
    commit(r.graph);
    setTyping(instanceKey(scope.scope, "c", r.id));
  };

  const newGroup = () => {
    if (!doc || groupScope === null) return;
    const scope = scopes.find((x) => x.scope === groupScope);
    if (!scope) return;
    const r = addGroup(
      doc,
      scope.template,
      steps.map((p) => splitPath(p).name),
    );
    commit(r.graph);
    setTyping(instanceKey(scope.scope, "g", r.id));
  };

  const tools = editing ? (
    <>
      <button
        className="dfl-button"
        data-testid="add-comment"
        onClick={newComment}
        disabled={!doc}
        title={
          steps.length === 1
            ? `Add a comment attached to '${splitPath(steps[0]).name}'`
            : "Add a comment in the middle of the view"
        }
      >
        ✎ Comment
      </button>
      <button
        className="dfl-button"
        data-testid="add-group"
        onClick={newGroup}
        disabled={groupScope === null}
        title={
          groupScope === null
            ? steps.length
              ? "Only nodes of one template (one level) can be grouped"
              : "Select the nodes to group first"
            : `Group the ${steps.length} selected node${steps.length > 1 ? "s" : ""} under a label`
        }
      >
        ▭ Group
      </button>
    </>
  ) : null;

  // ---- drawing -------------------------------------------------------------------------------
  /** Select exactly these nodes (a click on a group's label: its steps, to drag them together). */
  const selectNodes = (ids: string[]) => {
    const want = new Set(ids);
    rf.setNodes((ns) => ns.map((n) => (!!n.selected === want.has(n.id) ? n : { ...n, selected: want.has(n.id) })));
  };
  const beginDrag = (e: ReactPointerEvent, key: string, kind: Drag["kind"]) => {
    if (!editing || e.button !== 0) return;
    if ((e.target as HTMLElement).closest("textarea, input, button")) return;
    e.stopPropagation();
    (e.currentTarget as HTMLElement).setPointerCapture(e.pointerId);
    setDrag({ key, kind, start: { x: e.clientX, y: e.clientY }, zoom: rf.getViewport().zoom, dx: 0, dy: 0 });
  };
  const moveDrag = (e: ReactPointerEvent) => {
    setDrag((d) => (d ? { ...d, dx: (e.clientX - d.start.x) / d.zoom, dy: (e.clientY - d.start.y) / d.zoom } : d));
  };
  const endDrag = (template: string, c: LayoutComment) => {
    const d = drag;
    setDrag(null);
    if (!doc || !d || Math.hypot(d.dx, d.dy) < 2) return;
    const patch =
      d.kind === "move"
        ? { x: c.x + d.dx, y: c.y + d.dy }
        : { width: (c.width ?? COMMENT_WIDTH) + d.dx, height: (c.height ?? COMMENT_HEIGHT) + d.dy };
    commit(editComment(doc, template, c.id, patch));
  };

  const layer = doc ? (
    <ViewportPortal>
      {scopes.map((s) => {
        const comments = commentsOf(doc, s.template);
        const groups = groupsOf(doc, s.template);
        if (!comments.length && !groups.length) return null;
        const c0 = s.container ? live.get(s.container) : undefined;
        if (s.container && !c0) return null;
        const origin = c0 ? { x: c0.x + INNER.x, y: c0.y + INNER.y } : { x: 0, y: 0 };
        const positions = templateLayout(doc, s.template).nodes ?? {};
        // React Flow draws a group node's steps one z-index above the group node (raised with it when it is
        // selected): frames and tethers go at the group node's (drawn after it), under the steps; notes above
        // every node. At the top level, under the nodes.
        const base = c0 ? c0.z : -1;
        const lanes = doc.templates[s.template]?.kind === "steps";
        return (
          <div key={s.scope || "@top"} className="dfl-annotations" data-scope={s.scope}>
            {groups.map((g) => (
              <GroupFrame
                key={g.id}
                group={g}
                z={base}
                above={lanes ? LANE_HEAD : 0}
                editing={editing}
                typing={typing === instanceKey(s.scope, "g", g.id)}
                members={g.nodes.map((m) => live.get(joinPath(s.scope, m))).filter((b) => b !== undefined)}
                onTyping={(on) => setTyping(on ? instanceKey(s.scope, "g", g.id) : null)}
                onEdit={(patch) => commit(editGroup(doc, s.template, g.id, patch))}
                onUngroup={() => commit(removeGroup(doc, s.template, g.id))}
                onSelect={() => selectNodes(g.nodes.map((m) => joinPath(s.scope, m)))}
              />
            ))}
            {comments.map((c) => {
              const key = instanceKey(s.scope, "c", c.id);
              const at = c.attached_to ? live.get(joinPath(s.scope, c.attached_to)) : undefined;
              const pos =
                at && positions[c.attached_to!]
                  ? { x: c.x + at.x - positions[c.attached_to!].x, y: c.y + at.y - positions[c.attached_to!].y }
                  : { x: origin.x + c.x, y: origin.y + c.y };
              const d = drag?.key === key ? drag : null;
              const box: Box = {
                x: pos.x + (d?.kind === "move" ? d.dx : 0),
                y: pos.y + (d?.kind === "move" ? d.dy : 0),
                width: Math.max(COMMENT_MIN.width, (c.width ?? COMMENT_WIDTH) + (d?.kind === "resize" ? d.dx : 0)),
                height: Math.max(COMMENT_MIN.height, (c.height ?? COMMENT_HEIGHT) + (d?.kind === "resize" ? d.dy : 0)),
              };
              return (
                <CommentNote
                  key={c.id}
                  comment={c}
                  box={box}
                  node={at}
                  z={base}
                  editing={editing}
                  typing={typing === key}
                  dragging={!!d}
                  onTyping={(on) => setTyping(on ? key : null)}
                  onText={(text) => {
                    if (text !== c.text) commit(editComment(doc, s.template, c.id, { text }));
                  }}
                  onDelete={() => commit(removeComment(doc, s.template, c.id))}
                  onPointerDown={(e, kind) => beginDrag(e, key, kind)}
                  onPointerMove={moveDrag}
                  onPointerUp={() => endDrag(s.template, c)}
                />
              );
            })}
          </div>
        );
      })}
    </ViewportPortal>
  ) : null;

  return { tools, layer };
}

/** Notes are drawn over the nodes (a selected node is raised by 1000, its group's steps above it). */
const NOTE_Z = 3000;
const place = (b: Box) => ({ transform: `translate(${b.x}px, ${b.y}px)`, width: b.width, height: b.height });

interface CommentProps {
  comment: LayoutComment;
  z: number;
  box: Box;
  node?: Box;
  editing: boolean;
  typing: boolean;
  dragging: boolean;
  onTyping(on: boolean): void;
  onText(text: string): void;
  onDelete(): void;
  onPointerDown(e: ReactPointerEvent, kind: Drag["kind"]): void;
  onPointerMove(e: ReactPointerEvent): void;
  onPointerUp(): void;
}

function CommentNote(p: CommentProps) {
  const { comment: c, box, editing } = p;
  const self = useRef<HTMLDivElement>(null);
  const line = p.node ? tether(box, p.node) : null;
  const onKeyDown = (e: KeyboardEvent) => {
    if (!editing || p.typing) return;
    if (e.key === "Delete" || e.key === "Backspace") {
      e.preventDefault();
      e.stopPropagation();
      p.onDelete();
    } else if (e.key === "Enter") {
      e.preventDefault();
      e.stopPropagation();
      p.onTyping(true);
    }
  };
  return (
    <>
      {line && (
        <svg
          className="dfl-comment-tether"
          style={{ left: Math.min(line.x1, line.x2) - 2, top: Math.min(line.y1, line.y2) - 2, zIndex: p.z }}
          width={Math.abs(line.x2 - line.x1) + 4}
          height={Math.abs(line.y2 - line.y1) + 4}
        >
          <line
            x1={line.x1 - Math.min(line.x1, line.x2) + 2}
            y1={line.y1 - Math.min(line.y1, line.y2) + 2}
            x2={line.x2 - Math.min(line.x1, line.x2) + 2}
            y2={line.y2 - Math.min(line.y1, line.y2) + 2}
          />
        </svg>
      )}
      <div
        ref={self}
        className={`dfl-comment nopan nowheel${p.dragging ? " dfl-dragging" : ""}${editing ? " dfl-editable" : ""}`}
        style={{ ...place(box), zIndex: NOTE_Z }}
        data-comment={c.id}
        data-attached={c.attached_to ?? undefined}
        tabIndex={editing ? 0 : -1}
        role="note"
        aria-label={`comment: ${c.text}`}
        onKeyDown={onKeyDown}
        onDoubleClick={() => {
          if (editing) p.onTyping(true);
        }}
        onPointerDown={(e) => p.onPointerDown(e, "move")}
        onPointerMove={p.onPointerMove}
        onPointerUp={p.onPointerUp}
      >
        {p.typing ? (
          <TextEditor
            multiline
            value={c.text}
            className="dfl-comment-input"
            onDone={(text) => {
              p.onTyping(false);
              if (text !== null) p.onText(text);
              self.current?.focus();
            }}
          />
        ) : (
          <div className={`dfl-comment-text${c.text ? "" : " dfl-comment-empty"}`}>
            {c.text || (editing ? "Double-click to write a note" : "")}
          </div>
        )}
        {editing && !p.typing && (
          <>
            <button
              className="dfl-comment-delete"
              title="Delete the comment"
              aria-label="Delete the comment"
              onClick={(e) => {
                e.stopPropagation();
                p.onDelete();
              }}
            >
              ✕
            </button>
            <div className="dfl-comment-resize" title="Resize" onPointerDown={(e) => p.onPointerDown(e, "resize")} />
          </>
        )}
      </div>
    </>
  );
}

interface GroupProps {
  group: LayoutGroup;
  z: number;
  above: number;
  members: Box[];
  editing: boolean;
  typing: boolean;
  onTyping(on: boolean): void;
  onEdit(patch: { label?: string; color?: string }): void;
  onUngroup(): void;
  onSelect(): void;
}

function GroupFrame(p: GroupProps) {
  const { group: g, editing } = p;
  const frame = groupFrame(p.members, p.above);
  if (!frame) return null;
  const label = g.label ?? g.id;
  const onKeyDown = (e: KeyboardEvent) => {
    // Delete is left to the canvas: a click on the label selected the group's steps, and Delete removes them
    if (!editing || p.typing || e.key !== "Enter") return;
    e.preventDefault();
    e.stopPropagation();
    p.onTyping(true);
  };
  return (
    <div
      className="dfl-frame"
      data-group={g.id}
      style={{ ...place(frame), zIndex: p.z, ["--dfl-frame-color" as string]: g.color || GROUP_COLORS[0] }}
    >
      <div
        className="dfl-frame-head nopan"
        tabIndex={editing ? 0 : -1}
        onKeyDown={onKeyDown}
        onDoubleClick={() => {
          if (editing) p.onTyping(true);
        }}
      >
        {p.typing ? (
          <TextEditor
            value={label}
            className="dfl-frame-input"
            onDone={(text) => {
              p.onTyping(false);
              if (text !== null && text.trim() && text !== label) p.onEdit({ label: text.trim() });
            }}
          />
        ) : (
          <span
            className="dfl-frame-label"
            onClick={() => {
              if (editing) p.onSelect();
            }}
            title={editing ? "Click to select the group's steps; double-click to rename it" : undefined}
          >
            {label}
          </span>
        )}
        {editing && !p.typing && (
          <span className="dfl-frame-tools">
            {GROUP_COLORS.map((color) => (
              <button
                key={color}
                className={`dfl-frame-swatch${color === g.color ? " dfl-current" : ""}`}
                style={{ background: color }}
                title={`Colour ${color}`}
                aria-label={`Colour ${color}`}
                onClick={() => {
                  if (color !== g.color) p.onEdit({ color });
                }}
              />
            ))}
            <button
              className="dfl-frame-ungroup"
              title="Ungroup (the nodes stay)"
              aria-label="Ungroup"
              onClick={p.onUngroup}
            >
              ✕
            </button>
          </span>
        )}
      </div>
    </div>
  );
}

/** A text field that commits on blur (and Ctrl+Enter, or Enter when single-line) and cancels on Escape. */
function TextEditor(p: { value: string; multiline?: boolean; className: string; onDone(text: string | null): void }) {
  const done = useRef(false);
  const finish = (text: string | null) => {
    if (done.current) return;
    done.current = true;
    p.onDone(text);
  };
  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement | HTMLInputElement>) => {
    e.stopPropagation(); // the canvas's shortcuts stay out of the text
    if (e.key === "Escape") {
      e.preventDefault();
      finish(null);
    } else if (e.key === "Enter" && (!p.multiline || e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      finish(e.currentTarget.value);
    }
  };
  const common = {
    className: `${p.className} nodrag nopan nowheel`,
    defaultValue: p.value,
    autoFocus: true,
    onKeyDown,
    onBlur: (e: { currentTarget: { value: string } }) => finish(e.currentTarget.value),
    onFocus: (e: { currentTarget: HTMLTextAreaElement | HTMLInputElement }) => e.currentTarget.select(),
    onPointerDown: (e: ReactPointerEvent) => e.stopPropagation(),
  };
  return p.multiline ? (
    <textarea {...common} aria-label="comment text" />
  ) : (
    <input {...common} aria-label="group label" />
  );
}
