// A small keyed store: each node component subscribes to its own entry, so that a status update or a
// validation change redraws the nodes it concerns and nothing else (thousands of nodes stay fast).
import { useSyncExternalStore } from "react";

export class KeyedStore<T> {
  private values = new Map<string, T>();
  private listeners = new Map<string, Set<() => void>>();
  private allListeners = new Set<(keys: readonly string[]) => void>();
  private version = 0;

  get(key: string): T | undefined {
    return this.values.get(key);
  }

  /** Replace the entries named in `changes` (`undefined` removes one) and notify their subscribers. */
  update(changes: Record<string, T | undefined>): void {
    for (const [key, value] of Object.entries(changes)) {
      if (value === undefined) this.values.delete(key);
      else this.values.set(key, value);
      this.listeners.get(key)?.forEach((l) => l());
    }
    this.version++;
    const keys = Object.keys(changes);
    this.allListeners.forEach((l) => l(keys));
  }

  /** Replace every entry. */
  reset(next: Record<string, T>): void {
    const keys = new Set([...this.values.keys(), ...Object.keys(next)]);
    const changes: Record<string, T | undefined> = {};
    for (const key of keys) if (this.values.get(key) !== next[key]) changes[key] = next[key];
    this.update(changes);
  }

  entries(): [string, T][] {
    return [...this.values.entries()];
  }

  subscribe(key: string, listener: () => void): () => void {
    let set = this.listeners.get(key);
    if (!set) this.listeners.set(key, (set = new Set()));
    set.add(listener);
    return () => set!.delete(listener);
  }

  /** `listener` is called after every update, with the keys it changed. */
  subscribeAll(listener: (keys: readonly string[]) => void): () => void {
    this.allListeners.add(listener);
    return () => this.allListeners.delete(listener);
  }

  getVersion = (): number => this.version;
}

/** One value that changes (a run's phase and progress): the component reading it re-renders, its parents do not. */
export class Live<T> {
  private listeners = new Set<() => void>();
  constructor(private value: T) {}

  get = (): T => this.value;

  set(value: T): void {
    if (value === this.value) return;
    this.value = value;
    this.listeners.forEach((l) => l());
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };
}

export function useLive<T>(live: Live<T>): T {
  return useSyncExternalStore(live.subscribe, live.get);
}

export function useKey<T>(store: KeyedStore<T>, key: string): T | undefined {
  return useSyncExternalStore(
    (l) => store.subscribe(key, l),
    () => store.get(key),
  );
}

export function useStoreVersion<T>(store: KeyedStore<T>): number {
  return useSyncExternalStore((l) => store.subscribeAll(l), store.getVersion);
}
