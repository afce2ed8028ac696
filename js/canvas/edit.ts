// Edits of the document. Each takes a graph and returns a new one (the input is never modified), so
// that undo/redo is a stack of documents and every edit reaches the host as a whole new graph.
import { joinPath, scopeTemplate, scopeTemplateName, splitPath } from "./scope";
import type { Endpoint, Graph, GraphEdge, GraphNode, Json, Position, Template } from "./types";

const clone = (g: Graph): Graph => structuredClone(g);

function positionsOf(graph: Graph, template: string): Record<string, Position> {
  graph.layout ??= {};
  graph.layout.templates ??= {};
  const tl = (graph.layout.templates[template] ??= {});
  return (tl.nodes ??= {});
}

/** A node name not yet used in `t`, derived from `base` (template names are valid node names). */
export function uniqueName(t: Template, base: string): string {
  const used = new Set((t.nodes ?? []).map((n) => n.name));
  const stem = base.replace(/[^-a-zA-Z0-9]/g, "-").replace(/^[^a-zA-Z0-9]+/, "") || "step";
  if (!used.has(stem)) return stem;
  for (let i = 2; ; i++) if (!used.has(`${stem}-${i}`)) return `${stem}-${i}`;
}

/** Add a step/task running `templateName` (adding `definition` to the templates when it is new). */
export function addNode(
  input: Graph,
  scope: string,
  templateName: string,
  definition: Template | undefined,
  position: Position,
  stage?: { index: number; insert: boolean },
): { graph: Graph; path: string } {
  const graph = clone(input);
  const existing = graph.templates[templateName];
  if (!existing || (definition && JSON.stringify(existing) !== JSON.stringify(definition))) {
    if (!definition) throw new Error(`unknown template '${templateName}'`);
    // a new template; a different one of the same name gets a name of its own
    let name = templateName;
    for (
      let i = 2;
      graph.templates[name] && JSON.stringify(graph.templates[name]) !== JSON.stringify(definition);
      i++
    ) {
      name = `${templateName}-${i}`;
    }
    templateName = name;
    graph.templates[name] ??= structuredClone(definition);
  }
  const owner = scopeTemplateName(graph, scope);
  const t = graph.templates[owner];
  const name = uniqueName(t, templateName);
  const node: GraphNode = { name, template: templateName };
  if (t.kind === "steps") {
    const stages = (t.nodes ?? []).map((n) => n.stage ?? 0);
    if (stage?.insert) for (const n of t.nodes ?? []) if ((n.stage ?? 0) >= stage.index) n.stage = (n.stage ?? 0) + 1;
    node.stage = stage ? stage.index : stages.length ? Math.max(...stages) + 1 : 0;
  }
  t.nodes = [...(t.nodes ?? []), node];
  positionsOf(graph, owner)[name] = { x: Math.round(position.x), y: Math.round(position.y) };
  return { graph, path: joinPath(scope, name) };
}

const touches = (e: GraphEdge, name: string) => e.source.node === name || e.target.node === name;

/** Remove nodes (by path) and edges (by scope and edge), with every edge that touches a removed node. */
export function removeItems(input: Graph, paths: string[], edges: { scope: string; edge: GraphEdge }[]): Graph {
  const graph = clone(input);
  for (const path of paths) {
    const { scope, name } = splitPath(path);
    let owner: string;
    try {
      owner = scopeTemplateName(graph, scope);
    } catch {
      continue; // inside a node removed just before
    }
    const t = graph.templates[owner];
    t.nodes = (t.nodes ?? []).filter((n) => n.name !== name);
    t.edges = (t.edges ?? []).filter((e) => !touches(e, name));
    delete positionsOf(graph, owner)[name];
  }
  for (const { scope, edge } of edges) {
    let t: Template;
    try {
      t = scopeTemplate(graph, scope);
    } catch {
      continue;
    }
    const key = JSON.stringify(edge);
    t.edges = (t.edges ?? []).filter((e) => JSON.stringify(e) !== key);
  }
  return graph;
}

const sameEnd = (a: Endpoint, b: Endpoint) => a.node === b.node && a.port === b.port && a.option === b.option;

/** Add an edge in `scope`. An input fed by a wire has one source: the wire replaces an earlier wire or
 * literal into the same port. */
export function connect(input: Graph, scope: string, edge: GraphEdge): Graph {
  const graph = clone(input);
  const t = scopeTemplate(graph, scope);
  const control = edge.kind === "control";
  t.edges = (t.edges ?? []).filter((e) =>
    control
      ? !(e.kind === "control" && sameEnd(e.source, edge.source) && sameEnd(e.target, edge.target))
      : e.kind === "control" || !sameEnd(e.target, edge.target),
  );
  t.edges.push(edge);
  const target = t.nodes?.find((n) => n.name === edge.target.node);
  if (target && edge.target.port) {
    const key = edge.kind === "artifact" ? "artifacts" : "parameters";
    const literals = target[key];
    if (literals && edge.target.port in literals) {
      delete literals[edge.target.port];
      if (!Object.keys(literals).length) delete target[key]; // writers omit empty keys
    }
  }
  if (target && edge.target.option === "with_param") delete target.with_param;
  return graph;
}

/** The node fields the properties panel edits; `undefined` removes a field. */
export type NodePatch = Partial<Omit<GraphNode, "name" | "template">> & { name?: string };

export function updateNode(input: Graph, path: string, patch: NodePatch): { graph: Graph; path: string } {
  const graph = clone(input);
  const { scope, name } = splitPath(path);
  const owner = scopeTemplateName(graph, scope);
  const t = graph.templates[owner];
  const node = t.nodes?.find((n) => n.name === name);
  if (!node) throw new Error(`no node '${path}'`);
  let newPath = path;
  for (const [key, value] of Object.entries(patch)) {
    if (key === "name") continue;
    if (value === undefined) delete (node as unknown as Record<string, unknown>)[key];
    else (node as unknown as Record<string, unknown>)[key] = value;
  }
  if (patch.name !== undefined && patch.name !== name) {
    const newName = patch.name;
    if (t.nodes!.some((n) => n.name === newName)) throw new Error(`a node named '${newName}' already exists`);
    node.name = newName;
    for (const e of t.edges ?? []) {
      if (e.source.node === name) e.source.node = newName;
      if (e.target.node === name) e.target.node = newName;
    }
    const positions = positionsOf(graph, owner);
    if (positions[name]) {
      positions[newName] = positions[name];
      delete positions[name];
    }
    newPath = joinPath(scope, newName);
  }
  return { graph, path: newPath };
}

/** Set (or with `undefined`, clear) the literal value of a node's input parameter. */
export function setLiteral(input: Graph, path: string, port: string, value: Json | undefined): Graph {
  const graph = clone(input);
  const { scope, name } = splitPath(path);
  const node = scopeTemplate(graph, scope).nodes?.find((n) => n.name === name);
  if (!node) throw new Error(`no node '${path}'`);
  const params = { ...(node.parameters ?? {}) };
  if (value === undefined) delete params[port];
  else params[port] = value;
  if (Object.keys(params).length) node.parameters = params;
  else delete node.parameters;
  return graph;
}

/** Record moved nodes' positions (each relative to its own template's origin). */
export function movePositions(input: Graph, moves: { path: string; x: number; y: number }[]): Graph {
  const graph = clone(input);
  for (const m of moves) {
    const { scope, name } = splitPath(m.path);
    const owner = name.startsWith("@") ? graph.entrypoint : scopeTemplateName(graph, scope);
    const positions = positionsOf(graph, owner);
    positions[name] = { ...positions[name], x: Math.round(m.x), y: Math.round(m.y) };
  }
  return graph;
}

export function setCollapsed(input: Graph, path: string, collapsed: boolean): Graph {
  const graph = clone(input);
  const { scope, name } = splitPath(path);
  const owner = scopeTemplateName(graph, scope);
  const positions = positionsOf(graph, owner);
  positions[name] = positions[name] ? { ...positions[name], collapsed } : { x: 0, y: 0, collapsed };
  return graph;
}

/** What copy puts on the clipboard: nodes of one scope and the edges among them. */
export interface Clip {
  nodes: GraphNode[];
  edges: GraphEdge[];
  templates: Record<string, Template>;
  positions: Record<string, Position>;
}

export function copyItems(graph: Graph, paths: string[]): Clip | null {
  if (!paths.length) return null;
  const scope = splitPath(paths[0]).scope;
  const names = new Set(paths.filter((p) => splitPath(p).scope === scope).map((p) => splitPath(p).name));
  const owner = scopeTemplateName(graph, scope);
  const t = graph.templates[owner];
  const nodes = (t.nodes ?? []).filter((n) => names.has(n.name));
  const templates: Record<string, Template> = {};
  for (const n of nodes) templates[n.template] = graph.templates[n.template];
  const all = graph.layout?.templates?.[owner]?.nodes ?? {};
  const positions: Record<string, Position> = {};
  for (const n of nodes) if (all[n.name]) positions[n.name] = all[n.name];
  return structuredClone({
    nodes,
    edges: (t.edges ?? []).filter((e) => names.has(e.source.node) && names.has(e.target.node)),
    templates,
    positions,
  });
}

/** Paste a clip into `scope`, renaming nodes that clash and offsetting positions. */
export function paste(input: Graph, scope: string, clip: Clip, offset = 40): { graph: Graph; paths: string[] } {
  const graph = clone(input);
  for (const [name, def] of Object.entries(clip.templates)) graph.templates[name] ??= structuredClone(def);
  const owner = scopeTemplateName(graph, scope);
  const t = graph.templates[owner];
  const positions = positionsOf(graph, owner);
  const renamed = new Map<string, string>();
  const stages = (t.nodes ?? []).map((n) => n.stage ?? 0);
  for (const node of clip.nodes) {
    const name = uniqueName(t, node.name);
    renamed.set(node.name, name);
    const copy: GraphNode = { ...structuredClone(node), name };
    delete copy.key; // a step key names one step: the copy gets none
    if (t.kind === "steps") copy.stage ??= stages.length ? Math.max(...stages) + 1 : 0;
    else delete copy.stage;
    t.nodes = [...(t.nodes ?? []), copy];
    const p = clip.positions[node.name] ?? { x: 0, y: 0 };
    positions[name] = { x: p.x + offset, y: p.y + offset };
  }
  for (const e of clip.edges) {
    t.edges = [
      ...(t.edges ?? []),
      {
        ...structuredClone(e),
        source: { ...e.source, node: renamed.get(e.source.node)! },
        target: { ...e.target, node: renamed.get(e.target.node)! },
      },
    ];
  }
  return { graph, paths: [...renamed.values()].map((n) => joinPath(scope, n)) };
}

/** Replace the definition of template `name` (its script, image, ports…) by `next`. Wires and literal
 * values of the nodes running it that name a port `next` no longer has are removed with it. */
export function updateTemplate(input: Graph, name: string, next: Template): Graph {
  const graph = clone(input);
  if (!graph.templates[name]) throw new Error(`no template '${name}'`);
  graph.templates[name] = structuredClone(next);
  const has = (group: Template["inputs"], kind: string, port: string | undefined) =>
    port === undefined ||
    Object.prototype.hasOwnProperty.call((kind === "artifact" ? group?.artifacts : group?.parameters) ?? {}, port);
  for (const owner of Object.values(graph.templates)) {
    if (owner.kind !== "steps" && owner.kind !== "dag") continue;
    const running = new Set((owner.nodes ?? []).filter((n) => n.template === name).map((n) => n.name));
    if (!running.size) continue;
    owner.edges = (owner.edges ?? []).filter(
      (e) =>
        e.kind === "control" ||
        ((!running.has(e.source.node) || has(next.outputs, e.kind, e.source.port)) &&
          (!running.has(e.target.node) || e.target.option !== undefined || has(next.inputs, e.kind, e.target.port))),
    );
    for (const n of owner.nodes ?? []) {
      if (!running.has(n.name)) continue;
      for (const key of ["parameters", "artifacts"] as const) {
        const literals = n[key];
        if (!literals) continue;
        for (const port of Object.keys(literals))
          if (!has(next.inputs, key === "artifacts" ? "artifact" : "parameter", port)) delete literals[port];
        if (!Object.keys(literals).length) delete n[key];
      }
    }
  }
  return graph;
}
