// Comments (sticky notes) and groups (labelled frames around nodes) of a Steps/DAG template's layout
// (docs/graph-format.md "Layout"): `layout.templates[<template>].comments` and `.groups`. The model ignores
// them; these edits change only the layout. Like edit.ts, each takes a graph and returns a new one.
//
// Positions are the template's own coordinates (those of `layout.templates[...].nodes`). A comment attached
// to a node keeps its own position; when the node moves (a drag, a relayout), `followNodes` moves the comment
// by as much, so it stays where it was next to the node.
import { splitPath, scopeTemplateName } from "./scope";
import type { Graph, Position, TemplateLayout } from "./types";

export interface LayoutComment {
  id: string;
  text: string;
  x: number;
  y: number;
  width?: number;
  height?: number;
  attached_to?: string | null;
}

export interface LayoutGroup {
  id: string;
  label?: string;
  nodes: string[];
  collapsed?: boolean;
  color?: string;
}

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export const COMMENT_WIDTH = 200;
export const COMMENT_HEIGHT = 76;
export const COMMENT_MIN = { width: 96, height: 40 };
/** The colours a group can take (the first group gets the first, and so on). */
export const GROUP_COLORS = ["#1f6feb", "#1a7f37", "#d9822b", "#8250df", "#cf222e", "#6e7781"];
/** Room around a group's member nodes, and above them for its label. */
export const GROUP_MARGIN = 14;
export const GROUP_LABEL = 24;

const clone = (g: Graph): Graph => structuredClone(g);

function layoutOf(graph: Graph, template: string): TemplateLayout {
  graph.layout ??= {};
  graph.layout.templates ??= {};
  return (graph.layout.templates[template] ??= {});
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** The comments of `template` (entries that are not comments are left out). */
export function commentsOf(graph: Graph, template: string): LayoutComment[] {
  const list = graph.layout?.templates?.[template]?.comments;
  if (!Array.isArray(list)) return [];
  return list
    .filter((c): c is LayoutComment => isObject(c) && typeof c.id === "string" && typeof c.text === "string")
    .map((c) => ({
      ...c,
      x: Number.isFinite(c.x) ? c.x : 0,
      y: Number.isFinite(c.y) ? c.y : 0,
      width: Number.isFinite(c.width) ? c.width : undefined,
      height: Number.isFinite(c.height) ? c.height : undefined,
    }));
}

/** The groups of `template` (entries that are not groups are left out). */
export function groupsOf(graph: Graph, template: string): LayoutGroup[] {
  const list = graph.layout?.templates?.[template]?.groups;
  if (!Array.isArray(list)) return [];
  return list
    .filter((g): g is LayoutGroup => isObject(g) && typeof g.id === "string" && Array.isArray(g.nodes))
    .map((g) => ({
      ...g,
      nodes: g.nodes.filter((n) => typeof n === "string"),
      color: typeof g.color === "string" ? g.color : undefined,
    }));
}

/** The raw lists of a (cloned) graph, created when missing; other editors' entries stay as they are. */
function rawList(graph: Graph, template: string, key: "comments" | "groups"): Record<string, unknown>[] {
  const tl = layoutOf(graph, template);
  if (!Array.isArray(tl[key])) tl[key] = [];
  return tl[key] as Record<string, unknown>[];
}

function freshId(taken: { id?: unknown }[], prefix: string): string {
  const used = new Set(taken.map((x) => x.id));
  for (let i = 1; ; i++) if (!used.has(`${prefix}${i}`)) return `${prefix}${i}`;
}

function edited(
  input: Graph,
  template: string,
  key: "comments" | "groups",
  id: string,
  change: (list: Record<string, unknown>[], index: number) => void,
): Graph {
  const graph = clone(input);
  const list = rawList(graph, template, key);
  const index = list.findIndex((x) => isObject(x) && x.id === id);
  if (index < 0) throw new Error(`template '${template}' has no ${key === "comments" ? "comment" : "group"} '${id}'`);
  change(list, index);
  return graph;
}

// ---- comments --------------------------------------------------------------------------------

/** Add a comment at `box` (template coordinates), attached to node `attachedTo` when given. */
export function addComment(
  input: Graph,
  template: string,
  box: Box,
  attachedTo: string | null = null,
  text = "",
): { graph: Graph; id: string } {
  const graph = clone(input);
  const list = rawList(graph, template, "comments");
  const id = freshId(list, "c");
  const comment: LayoutComment = {
    id,
    text,
    x: Math.round(box.x),
    y: Math.round(box.y),
    width: Math.round(box.width),
    height: Math.round(box.height),
    attached_to: attachedTo,
  };
  list.push({ ...comment });
  return { graph, id };
}

export type CommentPatch = Partial<Omit<LayoutComment, "id">>;

/** Change a comment's text, position, size or attachment (sizes are kept at least `COMMENT_MIN`). */
export function editComment(input: Graph, template: string, id: string, patch: CommentPatch): Graph {
  return edited(input, template, "comments", id, (list, i) => {
    const c = { ...list[i], ...patch };
    for (const k of ["x", "y"] as const) if (typeof c[k] === "number") c[k] = Math.round(c[k]);
    if (typeof c.width === "number") c.width = Math.max(COMMENT_MIN.width, Math.round(c.width));
    if (typeof c.height === "number") c.height = Math.max(COMMENT_MIN.height, Math.round(c.height));
    list[i] = c;
  });
}

export function removeComment(input: Graph, template: string, id: string): Graph {
  return edited(input, template, "comments", id, (list, i) => {
    list.splice(i, 1);
  });
}

// ---- groups ----------------------------------------------------------------------------------

/** Group nodes (names of `template`'s nodes) under a label; the colour is the next of `GROUP_COLORS`. */
export function addGroup(
  input: Graph,
  template: string,
  nodes: string[],
  label?: string,
): { graph: Graph; id: string } {
  const names = [...new Set(nodes)];
  if (!names.length) throw new Error(`a group of template '${template}' needs at least one node`);
  const graph = clone(input);
  const known = new Set((graph.templates[template]?.nodes ?? []).map((n) => n.name));
  const unknown = names.filter((n) => !known.has(n));
  if (unknown.length) throw new Error(`template '${template}' has no node ${unknown.map((n) => `'${n}'`).join(", ")}`);
  const list = rawList(graph, template, "groups");
  const id = freshId(list, "g");
  list.push({
    id,
    label: label ?? `group ${id.slice(1)}`,
    nodes: names,
    collapsed: false,
    color: GROUP_COLORS[list.length % GROUP_COLORS.length],
  });
  return { graph, id };
}

export type GroupPatch = Partial<Pick<LayoutGroup, "label" | "color">>;

export function editGroup(input: Graph, template: string, id: string, patch: GroupPatch): Graph {
  return edited(input, template, "groups", id, (list, i) => {
    list[i] = { ...list[i], ...patch };
  });
}

/** Ungroup: the frame goes, its nodes stay. */
export function removeGroup(input: Graph, template: string, id: string): Graph {
  return edited(input, template, "groups", id, (list, i) => {
    list.splice(i, 1);
  });
}

// ---- keeping annotations in step with node edits ----------------------------------------------

/** After node `oldPath` was renamed to `newPath`: its groups and comments name it by its new name. */
export function renameInLayout(input: Graph, oldPath: string, newPath: string): Graph {
  const from = splitPath(oldPath);
  const to = splitPath(newPath);
  if (from.name === to.name) return input;
  const template = scopeTemplateName(input, from.scope);
  const tl = input.layout?.templates?.[template];
  if (!tl || (!Array.isArray(tl.comments) && !Array.isArray(tl.groups))) return input;
  const graph = clone(input);
  const out = layoutOf(graph, template);
  for (const c of Array.isArray(out.comments) ? out.comments : []) {
    if (isObject(c) && c.attached_to === from.name) c.attached_to = to.name;
  }
  for (const g of Array.isArray(out.groups) ? out.groups : []) {
    if (isObject(g) && Array.isArray(g.nodes)) g.nodes = g.nodes.map((n: unknown) => (n === from.name ? to.name : n));
  }
  return graph;
}

/**
 * Bring annotations in line with the node edit that turned `before` into `after`: a node that is gone leaves
 * its groups (a group left empty goes) and its comments are detached (kept where they are); a comment
 * attached to a node that moved moves by as much. Returns `after` itself when nothing needs to change.
 */
export function followNodes(before: Graph, after: Graph): Graph {
  let graph: Graph | null = null;
  for (const [template, tl] of Object.entries(after.layout?.templates ?? {})) {
    const comments = commentsOf(after, template);
    const groups = groupsOf(after, template);
    if (!comments.length && !groups.length) continue;
    const names = new Set((after.templates[template]?.nodes ?? []).map((n) => n.name));
    const old = before.layout?.templates?.[template]?.nodes ?? {};
    const now: Record<string, Position> = tl.nodes ?? {};
    const delta = (name: string) => {
      const a = old[name];
      const b = now[name];
      return a && b && (a.x !== b.x || a.y !== b.y) ? { dx: b.x - a.x, dy: b.y - a.y } : null;
    };
    const gone = (name: unknown) => typeof name === "string" && !names.has(name);
    const touched =
      comments.some((c) => c.attached_to && (gone(c.attached_to) || delta(c.attached_to))) ||
      groups.some((g) => g.nodes.some(gone));
    if (!touched) continue;
    graph ??= clone(after);
    const out = layoutOf(graph, template);
    if (Array.isArray(out.comments)) {
      for (const c of out.comments as Record<string, unknown>[]) {
        if (!isObject(c) || typeof c.attached_to !== "string") continue;
        if (gone(c.attached_to)) {
          c.attached_to = null;
          continue;
        }
        const d = delta(c.attached_to);
        if (d && typeof c.x === "number" && typeof c.y === "number") {
          c.x += d.dx;
          c.y += d.dy;
        }
      }
    }
    if (Array.isArray(out.groups)) {
      out.groups = (out.groups as Record<string, unknown>[])
        .map((g) =>
          isObject(g) && Array.isArray(g.nodes) ? { ...g, nodes: g.nodes.filter((n: unknown) => !gone(n)) } : g,
        )
        .filter((g) => !(isObject(g) && Array.isArray(g.nodes) && g.nodes.length === 0));
    }
  }
  return graph ?? after;
}

// ---- geometry -----------------------------------------------------------------------------------

const overlaps = (a: Box, b: Box, gap = 8) =>
  a.x < b.x + b.width + gap && a.x + a.width + gap > b.x && a.y < b.y + b.height + gap && a.y + a.height + gap > b.y;

/** Where a new comment of `size` goes: next to `node` (above, right, below or left of it, then further above
 * or below: the first spot that overlaps none of `taken`), or, without a node, around `centre`; failing
 * those, above everything there. */
export function placeComment(
  taken: Box[],
  size: { width: number; height: number },
  near: { node?: Box; centre?: { x: number; y: number } },
): Box {
  const gap = 24;
  const n = near.node;
  const c = near.centre ?? { x: 0, y: 0 };
  const candidates: { x: number; y: number }[] = n
    ? [
        { x: n.x, y: n.y - size.height - 2 * gap },
        { x: n.x + n.width + gap, y: n.y },
        { x: n.x, y: n.y + n.height + 2 * gap },
        { x: n.x - size.width - gap, y: n.y },
        ...[1, 2, 3].flatMap((k) => [
          { x: n.x, y: n.y - size.height - 2 * gap - k * (size.height + gap) },
          { x: n.x, y: n.y + n.height + 2 * gap + k * (size.height + gap) },
        ]),
      ]
    : [
        { x: c.x - size.width / 2, y: c.y - size.height / 2 },
        ...[1, 2, 3].flatMap((k) => [
          { x: c.x - size.width / 2, y: c.y - size.height / 2 - k * (size.height + gap) },
          { x: c.x - size.width / 2, y: c.y - size.height / 2 + k * (size.height + gap) },
        ]),
      ];
  for (const p of candidates) {
    const box = { ...p, ...size };
    if (!taken.some((t) => overlaps(box, t))) return box;
  }
  const first = { ...candidates[0], ...size };
  const top = Math.min(
    ...taken.filter((t) => t.x < first.x + first.width && t.x + t.width > first.x).map((t) => t.y),
    first.y + size.height + gap,
  );
  return { ...first, y: top - size.height - gap };
}

/** Room a Steps template's stage lane takes above its first node (its label), which a frame keeps clear. */
export const LANE_HEAD = 28;

/** The frame of a group: the members' bounding box with room around it and the label above (`above` more
 * room still, e.g. `LANE_HEAD` where stage lanes are drawn). */
export function groupFrame(members: Box[], above = 0): Box | null {
  if (!members.length) return null;
  const x0 = Math.min(...members.map((b) => b.x)) - GROUP_MARGIN;
  const y0 = Math.min(...members.map((b) => b.y)) - GROUP_MARGIN - GROUP_LABEL - above;
  const x1 = Math.max(...members.map((b) => b.x + b.width)) + GROUP_MARGIN;
  const y1 = Math.max(...members.map((b) => b.y + b.height)) + GROUP_MARGIN;
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

/** The segment drawn between a comment and its node: straight across where the boxes face each other, else
 * between their nearest corners. */
export function tether(comment: Box, node: Box): { x1: number; y1: number; x2: number; y2: number } | null {
  if (overlaps(comment, node, 0)) return null;
  const axis = (a0: number, a1: number, b0: number, b1: number) => {
    const lo = Math.max(a0, b0);
    const hi = Math.min(a1, b1);
    if (lo <= hi) return [(lo + hi) / 2, (lo + hi) / 2]; // facing: one coordinate for both ends
    return a1 < b0 ? [a1, b0] : [a0, b1];
  };
  const [x1, x2] = axis(comment.x, comment.x + comment.width, node.x, node.x + node.width);
  const [y1, y2] = axis(comment.y, comment.y + comment.height, node.y, node.y + node.height);
  return { x1, y1, x2, y2 };
}

/** The template holding the node at `path` (a canvas path such as "outer/inner"). */
export const ownerOf = (graph: Graph, path: string): string => scopeTemplateName(graph, splitPath(path).scope);
