/**
 * Decides whether one key's history is linearizable: the Wing & Gong search with Lowe's
 * memoization, as in Porcupine and Knossos.
 *
 * Invokes and completions form one doubly linked list in real-time order. The search walks it:
 * at an invoke it tries to linearize that operation now (the model must accept its outcome);
 * on success it lifts the operation's two entries out of the list and restarts from the head; at
 * a completion whose operation is still in the list it has found an operation that had to take
 * effect before that point and could not, so it undoes the last choice (unlift) and tries the
 * next candidate. Lowe's cache of (set of linearized operations, model state) prunes every
 * configuration already explored.
 *
 * Unknown and pending operations complete at +infinity: they may be placed anywhere after their
 * invoke. The search succeeds as soon as every definite (ok) operation is placed; the unknown
 * ones left over are the ones that never took effect.
 *
 * Decision: the set of linearized operations is two bitsets (definite, unknown) with an
 * incrementally maintained Zobrist hash, so a cache lookup costs one Map probe plus a bitset
 * comparison on a hit, and states are interned integers (register-model.ts).
 *
 * Known limit: unknown operations stay open to the end, so refuting a history (proving a
 * violation) can mean trying every subset of them; with dozens of open unknown writes on a key
 * the budget runs out and the answer is 'undecided'. Linearizable histories are found fast,
 * since the search is nearly greedy when written values are unique. (A tried remedy, pruning on
 * subsets of the unknown set and never placing an unknown write right before another write, made
 * the common linearizable case several times slower and was dropped.)
 */
import { assert } from '../../bus/assert.js';
import { budgetCheckEveryIterations } from './limits.js';
import type { RecordedOperation } from './operation.js';
import { absentState, applyStep, compileStep, impossible, ValueTable, type StateId, type Step } from './register-model.js';

export type KeySearchResult =
  | { readonly result: 'ok' }
  | { readonly result: 'timeout' }
  | {
      readonly result: 'violation';
      /** The longest linearizable prefix found, in linearization order. */
      readonly prefix: readonly RecordedOperation[];
      /** The definite operation that had to be placed after the prefix and could not be. */
      readonly stuck: RecordedOperation;
      readonly values: ValueTable;
    };

interface Candidate {
  readonly recorded: RecordedOperation;
  readonly step: Step;
  readonly definite: boolean;
  /** Bit index among the definite candidates, or among the unknown ones. */
  readonly slot: number;
}

/** `operations` are one key's; failed ones are ignored. `deadline()` is polled during the search. */
export function searchKey(operations: readonly RecordedOperation[], deadline: () => boolean): KeySearchResult {
  const values = new ValueTable();
  const candidates: Candidate[] = [];
  const slots = { definite: 0, unknown: 0 };
  for (const recorded of operations) {
    if (recorded.status === 'fail') continue;
    const step = compileStep(recorded, values);
    if (step === null) continue;
    const definite = recorded.status === 'ok';
    const slot = definite ? slots.definite++ : slots.unknown++;
    candidates.push({ recorded, step, definite, slot });
  }
  const list = buildList(candidates);
  return new Search(candidates, list, values, deadline).run();
}

/**
 * Node 0 is the head sentinel; nodes 1..2n are invokes and completions in real-time order.
 * Completions of operations without a definite outcome sort last (+infinity).
 */
interface EntryList {
  readonly next: Int32Array;
  readonly prev: Int32Array;
  /** The candidate of each node. */
  readonly candidate: Int32Array;
  /** For an invoke node: its completion node; for a completion node: -1. */
  readonly completion: Int32Array;
}

function buildList(candidates: readonly Candidate[]): EntryList {
  const events: { order: number; candidate: number; invoke: boolean }[] = [];
  candidates.forEach((candidate, index) => {
    const { recorded } = candidate;
    events.push({ order: recorded.invokeOrder, candidate: index, invoke: true });
    const completeOrder = candidate.definite ? recorded.completeOrder : null;
    assert(!candidate.definite || completeOrder !== null, () => `ok operation #${recorded.id} has no completion order`);
    events.push({ order: completeOrder ?? Infinity, candidate: index, invoke: false });
  });
  // Ties happen only between +infinity completions; break them by candidate for determinism.
  events.sort((a, b) => a.order - b.order || a.candidate - b.candidate);
  const size = events.length + 1;
  const list: EntryList = {
    next: new Int32Array(size), prev: new Int32Array(size),
    candidate: new Int32Array(size).fill(-1), completion: new Int32Array(size).fill(-1),
  };
  const invokeNode = new Int32Array(candidates.length);
  events.forEach((event, index) => {
    const node = index + 1;
    list.prev[node] = node - 1;
    list.next[node - 1] = node;
    list.candidate[node] = event.candidate;
    if (event.invoke) invokeNode[event.candidate] = node;
    else list.completion[invokeNode[event.candidate] ?? 0] = node;
  });
  list.next[size - 1] = -1;
  return list;
}

interface CacheEntry {
  readonly definite: Uint32Array;
  readonly unknown: Uint32Array;
  readonly state: StateId;
}

class Search {
  private readonly definiteSet: Uint32Array;
  private readonly unknownSet: Uint32Array;
  private readonly zobrist: Int32Array;
  /** Zobrist hash of `definiteSet`. */
  private hash = 0;
  private state: StateId = absentState;
  private readonly cache = new Map<number, CacheEntry[]>();
  /** Invoke nodes of the linearized operations, in order, with what was current before each. */
  private readonly stackNodes: Int32Array;
  private readonly stackStates: Int32Array;
  private depth = 0;
  private definiteLeft: number;
  private best: { prefix: readonly RecordedOperation[]; stuck: RecordedOperation } | null = null;

  constructor(
    private readonly candidates: readonly Candidate[],
    private readonly list: EntryList,
    private readonly values: ValueTable,
    private readonly deadline: () => boolean,
  ) {
    this.definiteLeft = candidates.filter((candidate) => candidate.definite).length;
    this.definiteSet = new Uint32Array(Math.ceil(this.definiteLeft / 32));
    this.unknownSet = new Uint32Array(Math.ceil((candidates.length - this.definiteLeft) / 32));
    this.zobrist = zobristTable(this.definiteSet.length * 32 + candidates.length - this.definiteLeft);
    this.stackNodes = new Int32Array(candidates.length);
    this.stackStates = new Int32Array(candidates.length);
  }

  run(): KeySearchResult {
    const { next, completion } = this.list;
    let node = next[0] ?? -1;
    let iterations = 0;
    while (this.definiteLeft > 0) {
      if (++iterations % budgetCheckEveryIterations === 0 && this.deadline()) return { result: 'timeout' };
      // Every definite completion precedes the +infinity ones, so the walk meets one first.
      assert(node > 0, 'linearizability search ran off the end of its list with definite operations left');
      const candidate = this.candidates[this.list.candidate[node] ?? -1];
      assert(candidate !== undefined, 'list node without a candidate');
      if ((completion[node] ?? -1) >= 0) {
        node = this.tryLinearize(node, candidate) ? (next[0] ?? -1) : (next[node] ?? -1);
        continue;
      }
      // A completion: its operation had to be placed by now. Undo the last choice.
      if (this.best === null || this.depth > this.best.prefix.length) this.recordBest(candidate);
      if (this.depth === 0) return this.violation();
      node = next[this.backtrack()] ?? -1;
    }
    return { result: 'ok' };
  }

  private tryLinearize(node: number, candidate: Candidate): boolean {
    const nextState = applyStep(candidate.step, this.state);
    if (nextState === impossible) return false;
    this.toggle(candidate);
    if (!this.remember(nextState)) {
      this.toggle(candidate);
      return false;
    }
    this.stackNodes[this.depth] = node;
    this.stackStates[this.depth] = this.state;
    this.depth++;
    this.state = nextState;
    if (candidate.definite) this.definiteLeft--;
    this.lift(node);
    return true;
  }

  /** Undoes the last placement; returns its invoke node, back in the list. */
  private backtrack(): number {
    this.depth--;
    const node = this.stackNodes[this.depth] ?? 0;
    const candidate = this.candidates[this.list.candidate[node] ?? -1];
    assert(candidate !== undefined, 'stacked node without a candidate');
    this.state = this.stackStates[this.depth] ?? absentState;
    this.toggle(candidate);
    if (candidate.definite) this.definiteLeft++;
    this.unlift(node);
    return node;
  }

  private toggle(candidate: Candidate): void {
    const set = candidate.definite ? this.definiteSet : this.unknownSet;
    const word = candidate.slot >>> 5;
    set[word] = (set[word] ?? 0) ^ (1 << (candidate.slot & 31));
    this.hash ^= this.zobrist[candidate.definite ? candidate.slot : this.definiteSet.length * 32 + candidate.slot] ?? 0;
  }

  /** Adds the current (linearized sets, state) to the cache; false when it was already there. */
  private remember(state: StateId): boolean {
    const key = (this.hash ^ Math.imul(state + 1, 0x9e3779b1)) | 0;
    const entry: CacheEntry = { definite: this.definiteSet, unknown: this.unknownSet, state };
    const bucket = this.cache.get(key);
    if (bucket !== undefined) {
      for (const cached of bucket) {
        if (cached.state === state && sameBits(cached.definite, entry.definite) && sameBits(cached.unknown, entry.unknown)) return false;
      }
    }
    const copy: CacheEntry = { definite: this.definiteSet.slice(), unknown: this.unknownSet.slice(), state };
    if (bucket === undefined) this.cache.set(key, [copy]);
    else bucket.push(copy);
    return true;
  }

  /** Removes an invoke node and its completion from the list (dancing links). */
  private lift(node: number): void {
    this.unlink(node);
    this.unlink(this.list.completion[node] ?? 0);
  }

  /** Puts back what `lift` removed; valid because lifts are undone in reverse order. */
  private unlift(node: number): void {
    this.relink(this.list.completion[node] ?? 0);
    this.relink(node);
  }

  private unlink(node: number): void {
    const { next, prev } = this.list;
    const before = prev[node] ?? 0;
    const after = next[node] ?? -1;
    next[before] = after;
    if (after >= 0) prev[after] = before;
  }

  private relink(node: number): void {
    const { next, prev } = this.list;
    const after = next[node] ?? -1;
    next[prev[node] ?? 0] = node;
    if (after >= 0) prev[after] = node;
  }

  private recordBest(stuck: Candidate): void {
    const prefix: RecordedOperation[] = [];
    for (let i = 0; i < this.depth; i++) {
      const candidate = this.candidates[this.list.candidate[this.stackNodes[i] ?? 0] ?? -1];
      if (candidate !== undefined) prefix.push(candidate.recorded);
    }
    this.best = { prefix, stuck: stuck.recorded };
  }

  private violation(): KeySearchResult {
    assert(this.best !== null, 'violation without a recorded best prefix');
    return { result: 'violation', prefix: this.best.prefix, stuck: this.best.stuck, values: this.values };
  }
}

function sameBits(a: Uint32Array, b: Uint32Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Fixed pseudo-random 32-bit values per operation (splitmix32 of the index): same run, same hashes. */
function zobristTable(count: number): Int32Array {
  const table = new Int32Array(count);
  let state = 0x5eed;
  for (let i = 0; i < count; i++) {
    state = (state + 0x9e3779b9) | 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    table[i] = z ^ (z >>> 16);
  }
  return table;
}
