/**
 * A shared informer seen through a `kubernetes-types` shape. The runtime's informers hold loose
 * `KubeObject`s (whatever the API stored); the workload controllers read typed fields, and this is
 * the one place that says the cache holds that kind.
 */
import type { Informer } from '../runtime/types.js';

export interface TypedInformer<T> {
  get(key: string): T | undefined;
  list(): T[];
  byIndex(index: string, value: string): T[];
  addHandlers(handlers: { onAdd?(object: T): void; onUpdate?(previous: T, next: T): void; onDelete?(object: T): void }): () => void;
}

export function typedInformer<T>(informer: Informer): TypedInformer<T> {
  return informer as unknown as TypedInformer<T>;
}
