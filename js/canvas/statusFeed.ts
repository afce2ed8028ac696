// A run's status messages applied to the canvas's status store without blocking the page. The server sends one
// message per batch (at least 0.1 s apart, `runview/live.py`): `{changes: {path: entry}, reset?, delta?}`.
// - `delta`: each entry holds only the fields that changed since the last message for that path (a field
//   `null` is gone); it is merged over the entry the store has. Without `delta` an entry replaces the old one.
//   `null` for a whole entry removes the path.
// - `reset`: the whole status; paths the store has and the message lacks are removed.
// A comparison's mark (`compare`, set by the page, not the server) stays on an entry the message replaces.
// A message of more than `slice` entries (a catch-up after a reconnect, the end of a 10,000-step run) is
// applied `slice` entries per task, in order, later messages queued behind it: each task stays well under
// 50 ms, and the page draws between them. A small message with nothing queued is applied at once.
import type { KeyedStore } from "./store";
import type { NodeStatus } from "./types";

export type StatusEntry = Partial<NodeStatus> | null;
export interface StatusMessage {
  changes: Record<string, StatusEntry>;
  reset?: boolean;
  delta?: boolean;
}

/** Entries applied per task (about 1-3 ms of store and listener work on a 10,000-node canvas). */
export const SLICE = 1000;

/** `entry` merged over `old`: given fields replace, `null` fields are dropped. */
export function mergeEntry(old: NodeStatus | undefined, entry: Partial<NodeStatus>): NodeStatus {
  const out: Record<string, unknown> = { ...(old ?? {}) };
  for (const [k, v] of Object.entries(entry)) {
    if (v === null || v === undefined) delete out[k];
    else out[k] = v;
  }
  return out as unknown as NodeStatus;
}

/** The new value of one path: merged (`delta`) or replaced, the old comparison mark kept; undefined removes. */
export function nextEntry(
  old: NodeStatus | undefined,
  entry: StatusEntry | undefined,
  delta: boolean,
): NodeStatus | undefined {
  if (!entry) return undefined;
  if (delta) return mergeEntry(old, entry);
  const next = mergeEntry(undefined, entry);
  if (old?.compare && next.compare === undefined) next.compare = old.compare;
  return next;
}

interface Pending {
  message: StatusMessage;
  keys: string[] | null; // the paths still to apply (null: not started: a reset's removals are found then)
}

export class StatusFeed {
  private queue: Pending[] = [];
  private scheduled = false;
  private readonly slice: number;
  private readonly schedule: (run: () => void) => void;

  constructor(
    private readonly store: KeyedStore<NodeStatus>,
    options: { slice?: number; schedule?: (run: () => void) => void } = {},
  ) {
    this.slice = options.slice ?? SLICE;
    this.schedule = options.schedule ?? ((run) => setTimeout(run, 0));
  }

  /** Entries received and not applied yet. */
  get pending(): number {
    let n = 0;
    for (const p of this.queue) n += p.keys ? p.keys.length : Object.keys(p.message.changes).length;
    return n;
  }

  push(message: StatusMessage): void {
    this.queue.push({ message, keys: null });
    if (this.queue.length === 1) this.step();
  }

  /** Drop what is queued (another run is shown). */
  clear(): void {
    this.queue = [];
  }

  /** Apply everything queued now. */
  flush(): void {
    while (this.queue.length) this.applySlice(Infinity);
  }

  private step = (): void => {
    this.scheduled = false;
    this.applySlice(this.slice);
    if (this.queue.length && !this.scheduled) {
      this.scheduled = true;
      this.schedule(this.step);
    }
  };

  private applySlice(room: number): void {
    while (this.queue.length && room > 0) {
      const head = this.queue[0];
      const { changes, reset, delta } = head.message;
      if (head.keys === null) {
        head.keys = Object.keys(changes);
        if (reset) for (const [k] of this.store.entries()) if (!(k in changes)) head.keys.push(k);
      }
      const take = head.keys.length <= room ? head.keys : head.keys.slice(0, room);
      head.keys = head.keys.length <= room ? [] : head.keys.slice(room);
      const update: Record<string, NodeStatus | undefined> = {};
      for (const k of take) update[k] = nextEntry(this.store.get(k), changes[k], !!delta && !reset);
      if (take.length) this.store.update(update);
      room -= take.length;
      if (!head.keys.length) this.queue.shift();
      if (room <= 0 && !take.length) break;
    }
  }
}

/** The steps a canvas repaints for status changes in one frame, at most (about 1 µs each; the rest wait). */
export const REPAINT_PER_FRAME = 2500;

/** Up to `n` of `set`'s members, removed from it (in insertion order: older changes first). */
export function takeSome<T>(set: Set<T>, n: number): Set<T> {
  const out = new Set<T>();
  for (const v of set) {
    if (out.size >= n) break;
    out.add(v);
  }
  for (const v of out) set.delete(v);
  return out;
}
