/**
 * Test helpers: a scripted clock for hand-written histories, a generator that drives a real
 * (atomic, hence linearizable) register with random overlaps, and a brute-force checker that
 * enumerates every order, to compare the real checker with on small histories.
 */
import { Prng } from '../../bus/prng.js';
import { HistoryRecorder, type Operation, type OperationHandle, type RecordedOperation } from '../../scenarios/history/index.js';

/** A recorder whose clock the test sets: `at(ms)` then invoke or complete. */
export class Script {
  private ms = 0;
  readonly recorder = new HistoryRecorder(() => this.ms);

  at(ms: number): this {
    this.ms = ms;
    return this;
  }

  invoke(client: string, operation: Operation): OperationHandle {
    return this.recorder.invoke(client, operation);
  }

  operations(): readonly RecordedOperation[] {
    return this.recorder.operations();
  }
}

export const put = (key: string, value: string): Operation => ({ type: 'put', key, value });
export const get = (key: string): Operation => ({ type: 'get', key });
export const cas = (key: string, expected: string | null, value: string): Operation => ({ type: 'cas', key, expected, value });
export const del = (key: string): Operation => ({ type: 'delete', key });

export interface GeneratorOptions {
  readonly clients: number;
  readonly keys: number;
  readonly operations: number;
  /** Chance that an applied operation is reported unknown instead of ok. */
  readonly unknownRate: number;
  /** Chance that an operation is abandoned before applying: reported failed or unknown, and, when unknown, maybe applied later. */
  readonly abandonRate: number;
}

interface InFlight {
  readonly operation: Operation;
  readonly handle: OperationHandle;
  applied: boolean;
  result: string | boolean | null | undefined;
}

/**
 * Drives an atomic in-memory register map: every operation takes effect at one instant between
 * its invoke and its completion (or, for an abandoned unknown one, at some later instant or
 * never), so the recorded history is linearizable by construction.
 */
export function generateHistory(seed: number, options: GeneratorOptions): readonly RecordedOperation[] {
  const random = new Prng(seed);
  let ms = 0;
  const recorder = new HistoryRecorder(() => ms);
  const store = new Map<string, string>();
  const inFlight = new Map<number, InFlight>();
  const orphans: Operation[] = [];
  let invoked = 0;
  let sequence = 0;
  while (invoked < options.operations || inFlight.size > 0) {
    ms += random.int(3);
    if (orphans.length > 0 && random.chance(0.1)) {
      const index = random.int(orphans.length);
      const [orphan] = orphans.splice(index, 1);
      if (orphan !== undefined) apply(store, orphan);
    }
    const client = random.int(options.clients);
    const current = inFlight.get(client);
    if (current === undefined) {
      if (invoked >= options.operations) continue;
      invoked++;
      const operation = randomOperation(random, `c${client}-${++sequence}`, options.keys, store);
      inFlight.set(client, { operation, handle: recorder.invoke(`client${client}`, operation), applied: false, result: undefined });
    } else if (!current.applied) {
      if (random.chance(options.abandonRate)) {
        inFlight.delete(client);
        if (random.chance(0.5)) current.handle.fail();
        else {
          current.handle.unknown();
          if (random.chance(0.5)) orphans.push(current.operation);
        }
        continue;
      }
      current.result = apply(store, current.operation);
      current.applied = true;
    } else {
      inFlight.delete(client);
      if (random.chance(options.unknownRate)) current.handle.unknown();
      else current.handle.ok(current.result);
    }
  }
  return recorder.operations();
}

function randomOperation(random: Prng, value: string, keys: number, store: Map<string, string>): Operation {
  const key = `k${random.int(keys)}`;
  const roll = random.int(10);
  if (roll < 4) return put(key, value);
  if (roll < 7) return get(key);
  if (roll < 9) {
    // Mostly the current value, so that some cas succeed.
    const expected = random.chance(0.3) ? null : random.chance(0.6) ? (store.get(key) ?? 'never') : `c0-${random.int(100)}`;
    return cas(key, expected, value);
  }
  return del(key);
}

function apply(store: Map<string, string>, operation: Operation): string | boolean | null | undefined {
  switch (operation.type) {
    case 'put':
      store.set(operation.key, operation.value);
      return undefined;
    case 'get':
      return store.get(operation.key) ?? null;
    case 'cas': {
      const succeeded = (store.get(operation.key) ?? null) === operation.expected;
      if (succeeded) store.set(operation.key, operation.value);
      return succeeded;
    }
    case 'delete':
      store.delete(operation.key);
      return undefined;
  }
}

/**
 * Exhaustive reference for one key: tries every order that respects real time, with each
 * unknown operation either placed or left out, and string semantics written independently of
 * the checker's compiled model. Exponential: small histories only.
 */
export function bruteForceLinearizable(operations: readonly RecordedOperation[]): boolean {
  const live = operations.filter((op) => op.status !== 'fail');
  const search = (remaining: readonly RecordedOperation[], state: string | null): boolean => {
    if (remaining.every((op) => op.status !== 'ok')) return true;
    return remaining.some((op) => {
      const blocked = remaining.some((other) => other.status === 'ok' && (other.completeOrder ?? Infinity) < op.invokeOrder);
      if (blocked) return false;
      const next = step(op, state);
      return next !== 'impossible' && search(remaining.filter((other) => other !== op), next);
    });
  };
  return search(live, null);
}

function step(recorded: RecordedOperation, state: string | null): string | null | 'impossible' {
  const { operation, status, result } = recorded;
  const definite = status === 'ok';
  switch (operation.type) {
    case 'put':
      return operation.value;
    case 'delete':
      return null;
    case 'get':
      return !definite || result === state ? state : 'impossible';
    case 'cas': {
      const matches = state === operation.expected;
      if (!definite) return matches ? operation.value : state;
      if (result === true) return matches ? operation.value : 'impossible';
      return matches ? 'impossible' : state;
    }
  }
}
