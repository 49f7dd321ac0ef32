/**
 * Indexes of the placed pods (bound and assumed) that make affinity and spread cost what matches,
 * not what exists: pods by (namespace, label, value) and by namespace, each pod's node, and the
 * affinity terms of placed pods aggregated by identical term (one Deployment's pods share theirs)
 * with their counts per topology value, so "does any placed pod's anti-affinity refuse this pod
 * here" is one check per distinct term, not one per pod.
 */
import { compileSelector } from '../objects/index.js';
import type { NodeInfo } from './node-info.js';
import type { AffinityTerm, PodInfo } from './pod-info.js';

/** Which placed pods' terms: required anti-affinity (filter), or those that score the newcomer. */
export type TermKind = 'requiredAntiAffinity' | 'requiredAffinity' | 'preferredAffinity' | 'preferredAntiAffinity';

export interface IndexedTerm {
  readonly kind: TermKind;
  readonly term: AffinityTerm;
  /** Topology value (node label of term.topologyKey) → placed pods with this term there. */
  readonly counts: Map<string, number>;
  pods: number;
}

const termKinds: readonly TermKind[] = ['requiredAntiAffinity', 'requiredAffinity', 'preferredAffinity', 'preferredAntiAffinity'];

function labelKey(namespace: string, key: string, value: string): string {
  return `${namespace}\u0000${key}\u0000${value}`;
}

function bucket<K, V>(map: Map<K, Set<V>>, key: K): Set<V> {
  let set = map.get(key);
  if (set === undefined) map.set(key, (set = new Set()));
  return set;
}

/** A placed pod with its node, as the index hands them out (no second lookup per match). */
export interface Placed {
  readonly info: PodInfo;
  readonly node: NodeInfo;
}

export class PodIndex {
  private readonly byLabel = new Map<string, Set<Placed>>();
  private readonly byNamespace = new Map<string, Set<Placed>>();
  private readonly placed = new Map<string, Placed>();
  private readonly terms = new Map<string, IndexedTerm>();

  add(info: PodInfo, node: NodeInfo): void {
    const entry: Placed = { info, node };
    this.placed.set(info.key, entry);
    bucket(this.byNamespace, info.namespace).add(entry);
    for (const [k, v] of Object.entries(info.labels)) bucket(this.byLabel, labelKey(info.namespace, k, v)).add(entry);
    for (const kind of termKinds) for (const term of info[kind]) this.countTerm(kind, term, node, 1);
  }

  remove(info: PodInfo, node: NodeInfo): void {
    const entry = this.placed.get(info.key);
    if (entry === undefined) return;
    this.placed.delete(info.key);
    this.byNamespace.get(info.namespace)?.delete(entry);
    for (const [k, v] of Object.entries(info.labels)) {
      const key = labelKey(info.namespace, k, v);
      const set = this.byLabel.get(key);
      set?.delete(entry);
      if (set?.size === 0) this.byLabel.delete(key);
    }
    for (const kind of termKinds) for (const term of info[kind]) this.countTerm(kind, term, node, -1);
  }

  private countTerm(kind: TermKind, term: AffinityTerm, node: NodeInfo, by: number): void {
    const id = `${kind}\u0000${term.signature}`;
    let entry = this.terms.get(id);
    if (entry === undefined) {
      if (by < 0) return;
      this.terms.set(id, (entry = { kind, term, counts: new Map(), pods: 0 }));
    }
    entry.pods += by;
    const value = node.labels[term.topologyKey];
    if (value !== undefined) {
      const next = (entry.counts.get(value) ?? 0) + by;
      if (next <= 0) entry.counts.delete(value);
      else entry.counts.set(value, next);
    }
    if (entry.pods <= 0) this.terms.delete(id);
  }

  indexedTerms(): Iterable<IndexedTerm> {
    return this.terms.values();
  }

  /** Calls `visit` for each placed pod a term selects (namespaces and selector), with its node. */
  forEachMatching(term: Pick<AffinityTerm, 'namespaces' | 'namespaceSelector' | 'selector'>, namespaceMatches: (namespace: string) => boolean,
    visit: (info: PodInfo, node: NodeInfo) => void): void {
    const selector = term.selector;
    if (selector === undefined) return;
    const matches = compileSelector(selector);
    let first: [string, string] | undefined;
    for (const pair of Object.entries(selector.matchLabels ?? {})) { first = pair; break; }
    const scan = (set: Set<Placed> | undefined): void => {
      if (set === undefined) return;
      for (const p of set) if (matches(p.info.labels)) visit(p.info, p.node);
    };
    if (term.namespaceSelector === undefined) {
      for (const ns of term.namespaces) scan(first === undefined ? this.byNamespace.get(ns) : this.byLabel.get(labelKey(ns, first[0], first[1])));
      return;
    }
    for (const [ns, set] of this.byNamespace) {
      if (!term.namespaces.has(ns) && !namespaceMatches(ns)) continue;
      scan(first === undefined ? set : this.byLabel.get(labelKey(ns, first[0], first[1])));
    }
  }

  /** A fresh index of the given nodes' pods (for what-if snapshots). */
  static of(nodes: readonly NodeInfo[]): PodIndex {
    const index = new PodIndex();
    for (const node of nodes) for (const info of node.pods.values()) index.add(info, node);
    return index;
  }
}
