// The part of anywidget's model interface the widget uses (see anywidget's AFM: get/set/save_changes/on/send).
import { useEffect, useState } from "react";

export interface AnyModel {
  get(name: string): any;
  set(name: string, value: unknown): void;
  save_changes(): void;
  on(event: string, callback: (...args: any[]) => void): void;
  off(event?: string | null, callback?: ((...args: any[]) => void) | null): void;
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
