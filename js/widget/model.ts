// The part of anywidget's model interface the widget uses (see anywidget's AFM: get/set/save_changes/on/send).
import { useEffect, useMemo, useState } from "react";
import { Live } from "@dflow-lab/canvas/store";

export interface AnyModel {
  get(name: string): unknown;
  set(name: string, value: unknown): void;
  save_changes(): void;
  on<A extends unknown[]>(event: string, callback: (...args: A) => void): void; // the caller states what the event carries
  off<A extends unknown[]>(event?: string | null, callback?: ((...args: A) => void) | null): void;
  send(content: unknown, callbacks?: unknown, buffers?: unknown[]): void;
}

/** A synced trait of the Python widget as React state. */
export function useTrait<T>(model: AnyModel, name: string): T {
  const [value, setValue] = useState<T>(() => model.get(name) as T);
  useEffect(() => {
    const update = () => setValue(model.get(name) as T);
    model.on(`change:${name}`, update);
    update();
    return () => model.off(`change:${name}`, update);
  }, [model, name]);
  return value;
}

/** A synced trait as a `Live` value: only the components reading it re-render when it changes (a run's state,
 * sent with every status batch). */
export function useLiveTrait<T>(model: AnyModel, name: string): Live<T> {
  const live = useMemo(() => new Live<T>(model.get(name) as T), [model, name]);
  useEffect(() => {
    const update = () => live.set(model.get(name) as T);
    model.on(`change:${name}`, update);
    update();
    return () => model.off(`change:${name}`, update);
  }, [model, name, live]);
  return live;
}
