// Undo/redo: a bounded stack of whole documents.
import type { Graph } from "./types";

export class History {
  private past: Graph[] = [];
  private future: Graph[] = [];

  constructor(private readonly limit = 200) {}

  /** Remember `previous` before an edit replaces it. */
  push(previous: Graph): void {
    this.past.push(previous);
    if (this.past.length > this.limit) this.past.shift();
    this.future = [];
  }

  undo(current: Graph): Graph | null {
    const g = this.past.pop();
    if (!g) return null;
    this.future.push(current);
    return g;
  }

  redo(current: Graph): Graph | null {
    const g = this.future.pop();
    if (!g) return null;
    this.past.push(current);
    return g;
  }

  get canUndo(): boolean {
    return this.past.length > 0;
  }

  get canRedo(): boolean {
    return this.future.length > 0;
  }
}
