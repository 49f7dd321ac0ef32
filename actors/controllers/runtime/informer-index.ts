/**
 * The indexes of an informer's cache: index name → value → keys. Each key remembers the values it
 * was filed under, so an update or delete unfiles exactly what was filed.
 */
import type { KubeObject } from '../../objects/meta.js';

export type IndexFunction<T> = (object: T) => readonly string[];

export const builtInIndexes: Readonly<Record<string, IndexFunction<KubeObject>>> = {
  namespace: (object) => (object.metadata.namespace !== undefined && object.metadata.namespace !== '' ? [object.metadata.namespace] : []),
  nodeName: (object) => {
    const nodeName = (object as { spec?: { nodeName?: unknown } }).spec?.nodeName;
    return typeof nodeName === 'string' && nodeName !== '' ? [nodeName] : [];
  },
  owner: (object) => (object.metadata.ownerReferences ?? []).map((ref) => ref.uid),
};

export class CacheIndexes<T> {
  private readonly functions = new Map<string, IndexFunction<T>>();
  private readonly byValue = new Map<string, Map<string, Set<string>>>();
  /** key → index → values it is filed under. */
  private readonly filed = new Map<string, Map<string, readonly string[]>>();

  has(name: string): boolean {
    return this.functions.has(name);
  }

  /** Adds an index and files the objects already cached under it. */
  add(name: string, keys: IndexFunction<T>, existing: Iterable<[string, T]>): void {
    this.functions.set(name, keys);
    this.byValue.set(name, new Map());
    for (const [key, object] of existing) this.fileOne(name, keys, key, object);
  }

  update(key: string, object: T): void {
    this.remove(key);
    for (const [name, keys] of this.functions) this.fileOne(name, keys, key, object);
  }

  remove(key: string): void {
    const filed = this.filed.get(key);
    if (filed === undefined) return;
    for (const [name, values] of filed) {
      const index = this.byValue.get(name);
      for (const value of values) {
        const set = index?.get(value);
        set?.delete(key);
        if (set?.size === 0) index?.delete(value);
      }
    }
    this.filed.delete(key);
  }

  keys(name: string, value: string): readonly string[] | undefined {
    const index = this.byValue.get(name);
    if (index === undefined) return undefined;
    return [...(index.get(value) ?? [])];
  }

  private fileOne(name: string, keysOf: IndexFunction<T>, key: string, object: T): void {
    let values: readonly string[];
    try {
      values = [...new Set(keysOf(object))];
    } catch {
      values = []; // an index function that throws on an odd object files it nowhere rather than break the cache
    }
    if (values.length === 0) return;
    const index = this.byValue.get(name) as Map<string, Set<string>>;
    for (const value of values) {
      let set = index.get(value);
      if (set === undefined) index.set(value, (set = new Set()));
      set.add(key);
    }
    let filed = this.filed.get(key);
    if (filed === undefined) this.filed.set(key, (filed = new Map()));
    filed.set(name, values);
  }
}
