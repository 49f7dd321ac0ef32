/**
 * Request validation. Commands arrive decoded from the Raft log, so nothing about their shape is
 * trusted: a malformed command is refused with InvalidRequestError on every member alike, before
 * anything is written (the apply transaction keeps whatever a refused command wrote, so refusal
 * must come first).
 */
import { InvalidRequestError } from '../errors.js';
import { checkStorableKey, keyBytes } from './key-layout.js';
import { mvccLimits } from './limits.js';
import type { Compare, DeleteRequest, KeyRange, PutRequest, RangeRequest, TxnOp, TxnRequest, WriteCommand } from './types.js';

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function checkNonNegativeInteger(value: unknown, what: string): void {
  if (value !== undefined && !(typeof value === 'number' && Number.isSafeInteger(value) && value >= 0)) {
    throw new InvalidRequestError(`${what} must be a non-negative integer`);
  }
}

function checkOptionalBoolean(value: unknown, what: string): void {
  if (value !== undefined && typeof value !== 'boolean') throw new InvalidRequestError(`${what} must be a boolean`);
}

export function checkLeaseId(id: unknown): asserts id is number {
  if (!(typeof id === 'number' && Number.isSafeInteger(id) && id > 0 && id <= mvccLimits.leaseIdMax)) {
    throw new InvalidRequestError('a lease id must be a positive integer');
  }
}

export function checkRange(range: KeyRange): void {
  if (!isObject(range) || typeof range.key !== 'string') throw new InvalidRequestError('a range needs a key string');
  if (range.end !== undefined && typeof range.end !== 'string') throw new InvalidRequestError('a range end must be a string');
  checkOptionalBoolean(range.prefix, 'prefix');
  if (range.prefix === true && range.end !== undefined) throw new InvalidRequestError('a range takes prefix or end, not both');
  if (range.key.length === 0 && range.prefix !== true && range.end === undefined) {
    throw new InvalidRequestError('a key must be non-empty (use prefix with an empty key for every key)');
  }
  if (keyBytes(range.key).length > mvccLimits.keyBytesMax) throw new InvalidRequestError('range key too long');
}

export function checkRangeRequest(request: RangeRequest): void {
  checkRange(request);
  checkNonNegativeInteger(request.limit, 'limit');
  checkNonNegativeInteger(request.revision, 'revision');
  checkOptionalBoolean(request.keysOnly, 'keysOnly');
  checkOptionalBoolean(request.countOnly, 'countOnly');
}

export function checkPut(request: PutRequest): void {
  if (!isObject(request)) throw new InvalidRequestError('a put needs a request');
  checkStorableKey(request.key, mvccLimits.keyBytesMax);
  if (!(request.value instanceof Uint8Array)) throw new InvalidRequestError('a value must be bytes');
  if (request.lease !== undefined && request.lease !== 0) checkLeaseId(request.lease);
  checkOptionalBoolean(request.prevKv, 'prevKv');
  checkOptionalBoolean(request.ignoreLease, 'ignoreLease');
  if (request.ignoreLease === true && request.lease !== undefined && request.lease !== 0) {
    throw new InvalidRequestError('ignoreLease and lease are exclusive');
  }
}

export function checkDelete(request: DeleteRequest): void {
  checkRange(request);
  checkOptionalBoolean(request.prevKv, 'prevKv');
}

const compareTargets = new Set(['version', 'createRevision', 'modRevision', 'lease', 'value']);
const compareOps = new Set(['equal', 'notEqual', 'greater', 'less']);

function checkCompare(compare: Compare): void {
  if (!isObject(compare) || typeof compare.key !== 'string' || compare.key.length === 0) {
    throw new InvalidRequestError('a compare needs a non-empty key');
  }
  if (!compareTargets.has(compare.target)) throw new InvalidRequestError(`unknown compare target ${String(compare.target)}`);
  if (!compareOps.has(compare.op)) throw new InvalidRequestError(`unknown compare op ${String(compare.op)}`);
  if (compare.target === 'value' ? !(compare.value instanceof Uint8Array) : typeof compare.value !== 'number') {
    throw new InvalidRequestError(`compare on ${compare.target} has a value of the wrong type`);
  }
}

function checkOp(op: TxnOp): void {
  if (!isObject(op)) throw new InvalidRequestError('a txn operation must be an object');
  if (op.type === 'put') checkPut(op.request);
  else if (op.type === 'delete') checkDelete(op.request);
  else if (op.type === 'range') checkRangeRequest(op.request);
  else throw new InvalidRequestError(`unknown txn operation ${String((op as { type: unknown }).type)}`);
}

/**
 * etcd's rule: within one branch, a key is put at most once and no deleted range covers a put
 * key. Both would make one key change twice at one revision, which the history cannot hold.
 */
function checkBranchWrites(ops: readonly TxnOp[], covers: (range: KeyRange, key: Uint8Array) => boolean): void {
  const putKeys = new Map<string, Uint8Array>();
  for (const op of ops) {
    if (op.type !== 'put') continue;
    if (putKeys.has(op.request.key)) throw new InvalidRequestError(`duplicate key ${op.request.key} in one txn branch`);
    putKeys.set(op.request.key, keyBytes(op.request.key));
  }
  for (const op of ops) {
    if (op.type !== 'delete') continue;
    for (const [key, bytes] of putKeys) {
      if (covers(op.request, bytes)) throw new InvalidRequestError(`key ${key} is both put and deleted in one txn branch`);
    }
  }
}

export function checkTxn(request: TxnRequest, covers: (range: KeyRange, key: Uint8Array) => boolean): void {
  if (!isObject(request) || !Array.isArray(request.compare) || !Array.isArray(request.success) || !Array.isArray(request.failure)) {
    throw new InvalidRequestError('a txn needs compare, success and failure arrays');
  }
  const size = request.compare.length + request.success.length + request.failure.length;
  if (size > mvccLimits.txnOpsMax) throw new InvalidRequestError(`txn of ${size} parts exceeds the limit of ${mvccLimits.txnOpsMax}`);
  request.compare.forEach(checkCompare);
  request.success.forEach(checkOp);
  request.failure.forEach(checkOp);
  checkBranchWrites(request.success, covers);
  checkBranchWrites(request.failure, covers);
}

/** The top-level shape; each handler checks its own request in depth. */
export function checkCommand(command: WriteCommand): void {
  if (!isObject(command) || typeof command.type !== 'string') throw new InvalidRequestError('a write command needs a type');
  switch (command.type) {
    case 'compact':
      checkNonNegativeInteger(command.revision, 'compact revision');
      if (command.revision === undefined) throw new InvalidRequestError('compact needs a revision');
      return;
    case 'leaseGrant':
      checkLeaseId(command.id);
      if (!(Number.isSafeInteger(command.ttlMs) && command.ttlMs > 0 && command.ttlMs <= mvccLimits.leaseTtlMsMax)) {
        throw new InvalidRequestError(`a lease TTL must be an integer in 1..${mvccLimits.leaseTtlMsMax} ms`);
      }
      return;
    case 'leaseRevoke':
      checkLeaseId(command.id);
      return;
    case 'leaseCheckpoint':
      if (!Array.isArray(command.checkpoints) || command.checkpoints.length > mvccLimits.checkpointsMax) {
        throw new InvalidRequestError(`a checkpoint command needs at most ${mvccLimits.checkpointsMax} checkpoints`);
      }
      for (const checkpoint of command.checkpoints) {
        if (!isObject(checkpoint)) throw new InvalidRequestError('a checkpoint must be an object');
        checkLeaseId(checkpoint.id);
        checkNonNegativeInteger(checkpoint.remainingMs, 'remainingMs');
      }
      return;
    case 'alarmRaise': {
      const alarm = command.alarm as unknown as Record<string, unknown>;
      if (!isObject(alarm) || alarm['alarm'] !== 'nospace') throw new InvalidRequestError('an alarm must be { alarm: "nospace", member, usedBytes, quotaBytes }');
      const member = alarm['member'];
      if (typeof member !== 'string' || member.length === 0 || member.length > mvccLimits.alarmMemberLengthMax || member.includes('\0')) {
        throw new InvalidRequestError(`an alarm's member must be a non-empty string of at most ${mvccLimits.alarmMemberLengthMax} characters`);
      }
      checkNonNegativeInteger(alarm['usedBytes'], 'usedBytes');
      checkNonNegativeInteger(alarm['quotaBytes'], 'quotaBytes');
      if (alarm['usedBytes'] === undefined || alarm['quotaBytes'] === undefined) throw new InvalidRequestError('an alarm needs usedBytes and quotaBytes');
      return;
    }
    case 'alarmDisarm':
      return;
    case 'put':
    case 'delete':
    case 'txn':
      if (!isObject(command.request)) throw new InvalidRequestError(`${command.type} needs a request`);
      return;
    default:
      throw new InvalidRequestError(`unknown write command ${String((command as { type: unknown }).type)}`);
  }
}
