// What node components read from the canvas around them.
import { createContext, useContext } from "react";
import type { KeyedStore } from "./store";
import type { Issue, NodeStatus } from "./types";

export interface CanvasContextValue {
  mode: "edit" | "monitor";
  overview: boolean; // a large graph: zoomed out, the overview replaces compact nodes
  issues: KeyedStore<Issue[]>; // by node path
  status: KeyedStore<NodeStatus>; // by node path
  toggleCollapsed(path: string, collapsed: boolean): void;
}

export const CanvasContext = createContext<CanvasContextValue | null>(null);

export function useCanvas(): CanvasContextValue {
  const value = useContext(CanvasContext);
  if (!value) throw new Error("canvas components must be inside <CanvasContext.Provider>");
  return value;
}
