// Long work cut into slices so that the main thread is never blocked for long: a builder is written as a
// generator that yields after each unit of work (a node, a wire), and `drain` runs it for a time budget, gives
// the event loop a turn (input, frames, messages), and goes on. `runAll` runs the same generator to the end at
// once (small graphs, unit tests), so both paths share one builder.

/** Yield the event loop a turn: a macrotask (a MessageChannel message, not clamped like nested timeouts). */
export function nextTask(): Promise<void> {
  if (typeof MessageChannel === "undefined") return new Promise((r) => setTimeout(r, 0));
  return new Promise((resolve) => {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => {
      ch.port1.close();
      resolve();
    };
    ch.port2.postMessage(null);
  });
}

export class Cancelled extends Error {
  constructor() {
    super("cancelled");
  }
}

export interface DrainOptions {
  /** the longest a slice may run, in ms (checked every `check` steps) */
  budget?: number;
  check?: number;
  /** give the event loop its turn (default: nextTask) */
  pause?: () => Promise<void>;
  now?: () => number;
  /** stop (rejecting with Cancelled) when this says so, at the end of a slice */
  cancelled?: () => boolean;
}

/** Run `steps` to its end in slices of at most about `budget` ms; resolves to the number of slices. */
export async function drain(steps: Iterator<unknown>, options: DrainOptions = {}): Promise<number> {
  const { budget = 8, check = 32, pause = nextTask, now = () => performance.now(), cancelled } = options;
  let slices = 1;
  let start = now();
  for (let n = 1; ; n++) {
    if (steps.next().done) return slices;
    if (n % check === 0 && now() - start >= budget) {
      await pause();
      if (cancelled?.()) throw new Cancelled();
      slices++;
      start = now();
    }
  }
}

/** Run `steps` to its end now. */
export function runAll(steps: Iterator<unknown>): void {
  while (!steps.next().done);
}
