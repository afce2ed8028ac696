// React hooks over Lumino signals.
import type { ISignal } from "@lumino/signaling";
import { useEffect, useState } from "react";

/** Re-render the calling component whenever `signal` is emitted. */
export function useSignal<T>(signal: ISignal<T, unknown>): void {
  const [, setTick] = useState(0);
  useEffect(() => {
    const bump = () => setTick((t) => t + 1);
    signal.connect(bump);
    return () => {
      signal.disconnect(bump);
    };
  }, [signal]);
}
