// Paths of canvas nodes. A node's path is the chain of node names from the entrypoint ("prepare",
// "outer/inner"); a scope is the path of the group whose template holds the node ("" at the top).
import type { Graph, GraphNode, Template } from "./types";

export const joinPath = (scope: string, name: string): string => (scope ? `${scope}/${name}` : name);

export function splitPath(path: string): { scope: string; name: string } {
  const i = path.lastIndexOf("/");
  return i < 0 ? { scope: "", name: path } : { scope: path.slice(0, i), name: path.slice(i + 1) };
}

/** The name of the steps/dag template that holds the nodes of `scope`. */
export function scopeTemplateName(graph: Graph, scope: string): string {
  let name = graph.entrypoint;
  if (!scope) return name;
  for (const part of scope.split("/")) {
    const node = graph.templates[name]?.nodes?.find((n) => n.name === part);
    if (!node) throw new Error(`no node '${part}' in template '${name}' (path ${scope})`);
    name = node.template;
  }
  return name;
}

export function scopeTemplate(graph: Graph, scope: string): Template {
  const name = scopeTemplateName(graph, scope);
  const t = graph.templates[name];
  if (!t) throw new Error(`template '${name}' does not exist`);
  return t;
}

export function findNode(graph: Graph, path: string): GraphNode | undefined {
  const { scope, name } = splitPath(path);
  try {
    return scopeTemplate(graph, scope).nodes?.find((n) => n.name === name);
  } catch {
    return undefined;
  }
}

export const isContainer = (t: Template | undefined): boolean => t?.kind === "steps" || t?.kind === "dag";
