/**
 * The object store's access to the cluster store: reads and compare-and-swap writes with the
 * deadlines and error mapping every API operation shares, plus the ids and names it generates.
 *
 * Decision: one write request (its reads, its CAS retries) shares one deadline, so a client gets
 * its 503/504 within the bound of limits.ts however many store calls the request needed. Reads
 * made on behalf of a write fail as "the write was not applied" (`precheck`).
 */
import { randomUUID } from 'node:crypto';
import type { Clock, Prng } from '../../../bus/index.js';
import type { Consistency, KeyValue, StoreClient, TxnOp } from '../../../store/index.js';
import { ApiError, apiErrors } from '../status.js';
import type { KubeObject } from '../types.js';
import { objectStoreLimits } from './limits.js';
import type { ResourceInfo } from './resources.js';
import { decodeObject, encodeObject } from './storage-codec.js';
import { toApiError, type StoreOperation } from './store-errors.js';

const generateNameAlphabet = 'bcdfghjklmnpqrstvwxz2456789';

export class StoreAccess {
  constructor(private readonly client: StoreClient, private readonly clock: Clock, private readonly random: Prng | undefined) {}

  async putIfUnchanged(info: ResourceInfo, kv: KeyValue, next: KubeObject, deadline: number): Promise<KubeObject | null> {
    const result = await this.write((options) => this.client.txn(
      [{ key: kv.key, target: 'modRevision', op: 'equal', value: kv.modRevision }],
      [{ type: 'put', request: { key: kv.key, value: encodeObject(next) } }], [], options,
    ), deadline);
    return result.succeeded ? decodeObject(info, { ...kv, value: encodeObject(next) }, result.revision) : null;
  }

  /**
   * Deletes the key if it is still at `kv`'s revision, with `alsoOps` in the same txn (a resource's
   * write hooks: a Service's address records); the last state with the deletion's resourceVersion,
   * or null on a lost race.
   */
  async removeIfUnchanged(info: ResourceInfo, kv: KeyValue, deadline: number, alsoOps: readonly TxnOp[] = []): Promise<KubeObject | null> {
    const result = await this.write((options) => this.client.txn(
      [{ key: kv.key, target: 'modRevision', op: 'equal', value: kv.modRevision }],
      [{ type: 'delete', request: { key: kv.key } }, ...alsoOps], [], options,
    ), deadline);
    return result.succeeded ? decodeObject(info, kv, result.revision) : null;
  }

  /** A read; inside a write (deadline set) it shares the write's deadline and its failures say the write did not apply. */
  async read(key: string, consistency: Consistency, deadline: number | null = null): Promise<KeyValue | null> {
    const timeoutMs = deadline === null ? objectStoreLimits.readTimeoutMs : this.remainingMs(deadline);
    return this.guard(deadline === null ? 'read' : 'precheck', () => this.client.get(key, { consistency, timeoutMs }));
  }

  readRange(request: { key: string; end: string; limit: number; revision: number }, consistency: Consistency, continuing: boolean) {
    return this.guard('read', () => this.client.range(request, { consistency, timeoutMs: objectStoreLimits.readTimeoutMs })).catch((error: unknown) => {
      if (continuing && error instanceof ApiError && error.httpStatus === 410) {
        throw apiErrors.expired('The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.');
      }
      throw error;
    });
  }

  /** One store write under a fresh request id, so the store client may retry it safely (object-store.ts says why). */
  write<T>(run: (options: { timeoutMs: number; requestId: string }) => Promise<T>, deadline: number): Promise<T> {
    return this.guard('write', () => run({ timeoutMs: this.remainingMs(deadline), requestId: this.uuid() }));
  }

  /** One write request, its reads and its CAS retries, answer within this (limits.ts says why). */
  writeDeadline(): number {
    return this.clock.now() + objectStoreLimits.writeTimeoutMs;
  }

  private remainingMs(deadline: number): number {
    // A floor, so that an exhausted deadline still makes one quick attempt that fails typed.
    return Math.max(objectStoreLimits.attemptFloorMs, deadline - this.clock.now());
  }

  async guard<T>(operation: StoreOperation, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw toApiError(error, operation);
    }
  }

  uuid(): string {
    const random = this.random;
    if (random === undefined) return randomUUID();
    const hex = Array.from({ length: 4 }, () => random.nextUint32().toString(16).padStart(8, '0')).join('');
    // RFC 4122 version 4, variant 10.
    const variant = ((parseInt(hex[16] ?? '0', 16) & 0x3) | 0x8).toString(16);
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
  }

  randomSuffix(): string {
    const random = this.random;
    const pick = (): number => (random !== undefined ? random.int(generateNameAlphabet.length) : Math.floor(Math.random() * generateNameAlphabet.length));
    return Array.from({ length: 5 }, () => generateNameAlphabet[pick()]).join('');
  }
}
