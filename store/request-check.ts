/**
 * The member's door check: every field of a StoreRequest as it arrives decoded from the network,
 * before anything reaches the driver, the Raft log or the watch table. A malformed field is refused
 * with InvalidRequestFieldError (code `invalidRequest`) naming it, a value over the request size
 * limit with RequestTooLargeError as the driver would; nothing was proposed.
 *
 * Decision: checked before proposing, not only at apply. The apply-time checks (mvcc/validate.ts)
 * keep every member deterministic on whatever the log holds, but they come too late for what
 * happens before apply: a conf change for member `*` or `a.b` is applied by the core and then
 * breaks the subject table (bus/subjects.ts) in the Ready loop; a watch inbox is published to at
 * once, with the member's own NATS permissions; a lease id of 1e300 or a revision of NaN reaches
 * timers and comparisons. So the shape, the types and the bounds of each field are checked here
 * with the field's name, and the mvcc checks run on top (same rules as at apply, so a command
 * refused at apply is refused here first).
 *
 * Pure: no I/O, no state; the same request always gets the same answer.
 */
import { isValidToken } from '../bus/subjects.js';
import { driverLimits } from './driver-limits.js';
import { InvalidRequestError, InvalidRequestFieldError, RequestTooLargeError } from './errors.js';
import { byteRange, inByteRange, keyBytes } from './mvcc/key-layout.js';
import { mvccLimits } from './mvcc/limits.js';
import { checkCommand, checkDelete, checkPut, checkRange, checkRangeRequest, checkTxn } from './mvcc/validate.js';
import type { DeleteRequest, PutRequest, RangeRequest, TxnRequest, WriteCommand } from './mvcc/types.js';
import { isStoreWatchInbox, type StoreRequest } from './protocol.js';

export const requestCheckLimits = {
  /** Request ids are the clients' idempotency keys (UUIDs, `<name>-op<n>`): short, and kept in the dedup table. */
  requestIdLengthMax: 256,
  /** StoreWatch ids are `<16 characters>-<attempt>`; the bound leaves room without letting ids grow the watch table. */
  watchIdLengthMax: 128,
  /** Watch ids in one renewal: a client renews its own watches (StoreWatch sends one); more is not a client. */
  watchRenewIdsMax: 1_024,
  /** A value (or compared value) cannot exceed the largest request the driver accepts; beyond it, RequestTooLargeError. */
  valueBytesMax: driverLimits.requestBytesMax,
} as const;

type Fields = Readonly<Record<string, unknown>>;

function fail(field: string, reason: string): never {
  throw new InvalidRequestFieldError(field, reason);
}

function objectAt(value: unknown, field: string): Fields {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array) fail(field, 'must be an object');
  return value as Fields;
}

function arrayAt(value: unknown, field: string, lengthMax: number): readonly unknown[] {
  if (!Array.isArray(value)) fail(field, 'must be an array');
  if (value.length > lengthMax) fail(field, `has ${value.length} items, more than the limit of ${lengthMax}`);
  return value;
}

function integerAt(value: unknown, field: string, bounds: { min: number; max?: number }): void {
  const max = bounds.max ?? Number.MAX_SAFE_INTEGER;
  if (!(typeof value === 'number' && Number.isSafeInteger(value) && value >= bounds.min && value <= max)) {
    fail(field, `must be an integer in ${bounds.min}..${max}`);
  }
}

function optionalIntegerAt(value: unknown, field: string, bounds: { min: number; max?: number }): void {
  if (value !== undefined) integerAt(value, field, bounds);
}

function booleanAt(value: unknown, field: string): void {
  if (typeof value !== 'boolean') fail(field, 'must be a boolean');
}

function optionalBooleanAt(value: unknown, field: string): void {
  if (value !== undefined) booleanAt(value, field);
}

// Identifiers are echoed in replies, logs and watch messages: no control characters.
const printable = /^[^\x00-\x1f\x7f]+$/;

function identifierAt(value: unknown, field: string, lengthMax: number): void {
  if (typeof value !== 'string' || value.length === 0 || value.length > lengthMax || !printable.test(value)) {
    fail(field, `must be a non-empty string of at most ${lengthMax} printable characters`);
  }
}

/** Member ids become subject tokens (`raft.<id>.to.<id>`, `store.<id>`) and NATS user names. */
function memberIdAt(value: unknown, field: string): void {
  if (typeof value !== 'string' || !isValidToken(value)) {
    fail(field, "must be a member id: a non-empty token of printable ASCII without '.', '*', '>' or spaces");
  }
}

/** A key or range bound: a string of at most keyBytesMax UTF-8 bytes (UTF-8 is never shorter than UTF-16). */
function keyAt(value: unknown, field: string): void {
  if (typeof value !== 'string') fail(field, 'must be a string');
  // A UTF-16 unit is at most 3 UTF-8 bytes: a short key (every real one) needs no encoding here.
  if (value.length > mvccLimits.keyBytesMax || (value.length * 3 > mvccLimits.keyBytesMax && keyBytes(value).length > mvccLimits.keyBytesMax)) {
    fail(field, `must be at most ${mvccLimits.keyBytesMax} bytes`);
  }
}

/** Bytes over the request limit get the driver's own refusal (RequestTooLarge, 413 at the API), only sooner. */
function bytesAt(value: unknown, field: string): void {
  if (!(value instanceof Uint8Array)) fail(field, 'must be bytes');
  if (value.length > requestCheckLimits.valueBytesMax) throw new RequestTooLargeError(value.length, requestCheckLimits.valueBytesMax);
}

/** Runs an mvcc check and names the field its refusal is about. */
function within(field: string, check: () => void): void {
  try {
    check();
  } catch (error) {
    if (error instanceof InvalidRequestError && !(error instanceof InvalidRequestFieldError)) fail(field, `is invalid: ${error.message}`);
    throw error;
  }
}

function checkRangeFields(range: Fields, field: string): void {
  keyAt(range['key'], `${field}.key`);
  if (range['end'] !== undefined) keyAt(range['end'], `${field}.end`);
  optionalBooleanAt(range['prefix'], `${field}.prefix`);
}

function checkRangeRequestAt(value: unknown, field: string): void {
  const request = objectAt(value, field);
  checkRangeFields(request, field);
  optionalIntegerAt(request['limit'], `${field}.limit`, { min: 0 });
  optionalIntegerAt(request['revision'], `${field}.revision`, { min: 0 });
  optionalBooleanAt(request['keysOnly'], `${field}.keysOnly`);
  optionalBooleanAt(request['countOnly'], `${field}.countOnly`);
  within(field, () => checkRangeRequest(request as unknown as RangeRequest));
}

function checkLeaseAt(value: unknown, field: string, options: { zero: boolean }): void {
  integerAt(value, field, { min: options.zero ? 0 : 1, max: mvccLimits.leaseIdMax });
}

function checkPutAt(value: unknown, field: string): void {
  const request = objectAt(value, field);
  keyAt(request['key'], `${field}.key`);
  bytesAt(request['value'], `${field}.value`);
  if (request['lease'] !== undefined) checkLeaseAt(request['lease'], `${field}.lease`, { zero: true });
  optionalBooleanAt(request['prevKv'], `${field}.prevKv`);
  optionalBooleanAt(request['ignoreLease'], `${field}.ignoreLease`);
  within(field, () => checkPut(request as unknown as PutRequest));
}

function checkDeleteAt(value: unknown, field: string): void {
  const request = objectAt(value, field);
  checkRangeFields(request, field);
  optionalBooleanAt(request['prevKv'], `${field}.prevKv`);
  within(field, () => checkDelete(request as unknown as DeleteRequest));
}

const compareTargets: ReadonlySet<unknown> = new Set(['version', 'createRevision', 'modRevision', 'lease', 'value']);
const compareOps: ReadonlySet<unknown> = new Set(['equal', 'notEqual', 'greater', 'less']);

function checkCompareAt(value: unknown, field: string): void {
  const compare = objectAt(value, field);
  keyAt(compare['key'], `${field}.key`);
  if (!compareTargets.has(compare['target'])) fail(`${field}.target`, `must be one of ${[...compareTargets].join(', ')}`);
  if (!compareOps.has(compare['op'])) fail(`${field}.op`, `must be one of ${[...compareOps].join(', ')}`);
  if (compare['target'] === 'value') bytesAt(compare['value'], `${field}.value`);
  // Versions, revisions and lease ids are non-negative; comparing against anything else is a mistake.
  else integerAt(compare['value'], `${field}.value`, { min: 0 });
}

function checkTxnOpAt(value: unknown, field: string): void {
  const op = objectAt(value, field);
  if (op['type'] === 'put') checkPutAt(op['request'], `${field}.request`);
  else if (op['type'] === 'delete') checkDeleteAt(op['request'], `${field}.request`);
  else if (op['type'] === 'range') checkRangeRequestAt(op['request'], `${field}.request`);
  else fail(`${field}.type`, 'must be put, delete or range');
}

function checkTxnAt(value: unknown, field: string): void {
  const request = objectAt(value, field);
  // Each array is bounded before it is walked; their sum is bounded by the mvcc check below.
  const compare = arrayAt(request['compare'], `${field}.compare`, mvccLimits.txnOpsMax);
  const success = arrayAt(request['success'], `${field}.success`, mvccLimits.txnOpsMax);
  const failure = arrayAt(request['failure'], `${field}.failure`, mvccLimits.txnOpsMax);
  compare.forEach((item, index) => checkCompareAt(item, `${field}.compare[${index}]`));
  success.forEach((item, index) => checkTxnOpAt(item, `${field}.success[${index}]`));
  failure.forEach((item, index) => checkTxnOpAt(item, `${field}.failure[${index}]`));
  within(field, () => checkTxn(request as unknown as TxnRequest, (range, key) => inByteRange(key, byteRange(range))));
}

function checkAlarmAt(value: unknown, field: string): void {
  const alarm = objectAt(value, field);
  if (alarm['alarm'] !== 'nospace') fail(`${field}.alarm`, 'must be "nospace"');
  memberIdAt(alarm['member'], `${field}.member`);
  integerAt(alarm['usedBytes'], `${field}.usedBytes`, { min: 0 });
  integerAt(alarm['quotaBytes'], `${field}.quotaBytes`, { min: 0 });
}

function checkCommandAt(value: unknown, field: string): void {
  const command = objectAt(value, field);
  switch (command['type']) {
    case 'put':
      checkPutAt(command['request'], `${field}.request`);
      break;
    case 'delete':
      checkDeleteAt(command['request'], `${field}.request`);
      break;
    case 'txn':
      checkTxnAt(command['request'], `${field}.request`);
      break;
    case 'compact':
      integerAt(command['revision'], `${field}.revision`, { min: 0 });
      break;
    case 'leaseGrant':
      // 0 lets the leader choose the id (LeaseScheduler.grant).
      checkLeaseAt(command['id'], `${field}.id`, { zero: true });
      integerAt(command['ttlMs'], `${field}.ttlMs`, { min: 1, max: mvccLimits.leaseTtlMsMax });
      return;
    case 'leaseRevoke':
      checkLeaseAt(command['id'], `${field}.id`, { zero: false });
      break;
    case 'leaseCheckpoint':
      arrayAt(command['checkpoints'], `${field}.checkpoints`, mvccLimits.checkpointsMax).forEach((item, index) => {
        const checkpoint = objectAt(item, `${field}.checkpoints[${index}]`);
        checkLeaseAt(checkpoint['id'], `${field}.checkpoints[${index}].id`, { zero: false });
        integerAt(checkpoint['remainingMs'], `${field}.checkpoints[${index}].remainingMs`, { min: 0 });
      });
      break;
    case 'alarmRaise':
      checkAlarmAt(command['alarm'], `${field}.alarm`);
      break;
    case 'alarmDisarm':
      break;
    default:
      fail(`${field}.type`, 'must be a known write command (put, delete, txn, compact, leaseGrant, leaseRevoke, leaseCheckpoint, alarmRaise, alarmDisarm)');
  }
  within(field, () => checkCommand(command as unknown as WriteCommand));
}

function checkRequestIdAt(value: unknown, field: string): void {
  if (value !== null && value !== undefined) identifierAt(value, field, requestCheckLimits.requestIdLengthMax);
}

function checkWatchCreateAt(value: unknown, field: string): void {
  const watch = objectAt(value, field);
  identifierAt(watch['watchId'], `${field}.watchId`, requestCheckLimits.watchIdLengthMax);
  const range = objectAt(watch['range'], `${field}.range`);
  checkRangeFields(range, `${field}.range`);
  within(`${field}.range`, () => checkRange(range as unknown as RangeRequest));
  integerAt(watch['startRevision'], `${field}.startRevision`, { min: 0 });
  booleanAt(watch['prevKv'], `${field}.prevKv`);
  booleanAt(watch['progressNotify'], `${field}.progressNotify`);
  if (!isStoreWatchInbox(watch['inbox'])) fail(`${field}.inbox`, 'must be a store watch inbox _INBOX.kubuswatch.<token>');
}

const consistencies: ReadonlySet<unknown> = new Set(['linearizable', 'serializable']);
const confChangeTypes: ReadonlySet<unknown> = new Set(['addLearner', 'promote', 'remove']);

/** Returns the request, typed, or throws InvalidRequestFieldError naming the first bad field. */
export function checkStoreRequest(value: unknown): StoreRequest {
  const request = objectAt(value, 'request');
  switch (request['type']) {
    case 'range':
      checkRangeRequestAt(request['request'], 'request');
      if (!consistencies.has(request['consistency'])) fail('consistency', 'must be linearizable or serializable');
      optionalIntegerAt(request['minRevision'], 'minRevision', { min: 0 });
      break;
    case 'write':
      checkRequestIdAt(request['requestId'], 'requestId');
      checkCommandAt(request['command'], 'command');
      break;
    case 'leaseKeepAlive':
      checkLeaseAt(request['id'], 'id', { zero: false });
      break;
    case 'watchCreate':
      checkWatchCreateAt(request['watch'], 'watch');
      break;
    case 'watchRenew':
      arrayAt(request['watchIds'], 'watchIds', requestCheckLimits.watchRenewIdsMax).forEach((id, index) =>
        identifierAt(id, `watchIds[${index}]`, requestCheckLimits.watchIdLengthMax),
      );
      break;
    case 'watchCancel':
      identifierAt(request['watchId'], 'watchId', requestCheckLimits.watchIdLengthMax);
      break;
    case 'status':
      break;
    case 'memberChange': {
      const change = objectAt(request['change'], 'change');
      if (!confChangeTypes.has(change['type'])) fail('change.type', 'must be addLearner, promote or remove');
      memberIdAt(change['member'], 'change.member');
      break;
    }
    case 'transferLeadership':
      memberIdAt(request['to'], 'to');
      break;
    default:
      fail('type', 'must be a known store request type');
  }
  return request as unknown as StoreRequest;
}
