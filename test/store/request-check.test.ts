/**
 * The member's door check (store/request-check.ts, issue 9 section 2: validate every field of
 * network input). Each malformed request below, of every StoreRequest kind, is refused with
 * InvalidRequestFieldError (code `invalidRequest`) naming exactly the bad field; the requests the
 * store client, the API server and the simulator send pass unchanged. The error crosses the bus
 * with its field (storeErrorFactories). The store watch inbox form agrees with the subject members
 * may subscribe to for watches (bus/nats-auth.ts).
 */
import { describe, expect, it } from 'vitest';
import { fromWire, toWire } from '../../bus/errors.js';
import { memberPermissions } from '../../bus/nats-auth.js';
import { subjectMatches } from '../../bus/subjects.js';
import { InvalidRequestError, InvalidRequestFieldError, RequestTooLargeError, storeErrorFactories } from '../../store/errors.js';
import { isStoreWatchInbox, storeWatchInboxPrefix } from '../../store/protocol.js';
import { checkStoreRequest, requestCheckLimits } from '../../store/request-check.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const inbox = '_INBOX.kubuswatch.3fa2c01b9d7e44a1';
const watch = { watchId: '3fa2c01b9d7e44a1-1', range: { key: '/registry/pods/', end: '/registry/pods0' }, startRevision: 0, prevKv: true, progressNotify: false, inbox };
const put = { key: '/registry/pods/a', value: bytes('x') };

/** Requests as the store client, the API and the simulator build them: all pass. */
const valid: Array<[string, unknown]> = [
  ['range', { type: 'range', request: { key: '/a', prefix: true, limit: 10, revision: 0, keysOnly: false }, consistency: 'linearizable' }],
  ['range of every key', { type: 'range', request: { key: '', prefix: true }, consistency: 'serializable' }],
  ['range to the end', { type: 'range', request: { key: '/a', end: '\0' }, consistency: 'serializable' }],
  ['range at least at a revision', { type: 'range', request: { key: '/a' }, consistency: 'serializable', minRevision: 12 }],
  ['put with an id', { type: 'write', command: { type: 'put', request: { ...put, lease: 0, prevKv: true } }, requestId: 'b7c1e0f2-8a4d-4c3b-9e6f-0123456789ab' }],
  ['put without an id', { type: 'write', command: { type: 'put', request: put }, requestId: null }],
  ['put with the id left out', { type: 'write', command: { type: 'put', request: put } }],
  ['delete', { type: 'write', command: { type: 'delete', request: { key: '/a', prefix: true, prevKv: true } }, requestId: 'w1-op7' }],
  ['txn', {
    type: 'write', requestId: null,
    command: { type: 'txn', request: {
      compare: [{ key: '/a', target: 'modRevision', op: 'equal', value: 4 }, { key: '/a', target: 'value', op: 'notEqual', value: bytes('y') }],
      success: [{ type: 'put', request: put }, { type: 'range', request: { key: '/b' } }], failure: [{ type: 'delete', request: { key: '/c' } }],
    } },
  }],
  ['compact', { type: 'write', command: { type: 'compact', revision: 12 }, requestId: null }],
  ['lease grant, the leader picks the id', { type: 'write', command: { type: 'leaseGrant', id: 0, ttlMs: 5_000 }, requestId: 'lease-grant-1' }],
  ['lease grant with an id', { type: 'write', command: { type: 'leaseGrant', id: 4242, ttlMs: 1 }, requestId: null }],
  ['lease revoke', { type: 'write', command: { type: 'leaseRevoke', id: 4242 }, requestId: null }],
  ['lease checkpoint', { type: 'write', command: { type: 'leaseCheckpoint', checkpoints: [{ id: 1, remainingMs: 0 }] }, requestId: null }],
  ['alarm raise (a member forwarding its own)', { type: 'write', command: { type: 'alarmRaise', alarm: { alarm: 'nospace', member: 's2', usedBytes: 10, quotaBytes: 8 } }, requestId: null }],
  ['alarm disarm', { type: 'write', command: { type: 'alarmDisarm' }, requestId: 'disarm-1' }],
  ['lease keep-alive', { type: 'leaseKeepAlive', id: 4242 }],
  ['watch create', { type: 'watchCreate', watch }],
  ['watch renew', { type: 'watchRenew', watchIds: [watch.watchId] }],
  ['watch cancel', { type: 'watchCancel', watchId: watch.watchId }],
  ['status', { type: 'status' }],
  ['add learner', { type: 'memberChange', change: { type: 'addLearner', member: 's4' } }],
  ['promote', { type: 'memberChange', change: { type: 'promote', member: 'node-4_b' } }],
  ['remove', { type: 'memberChange', change: { type: 'remove', member: 's1' } }],
  ['transfer leadership', { type: 'transferLeadership', to: 's2' }],
];

const write = (command: unknown, requestId: unknown = null): unknown => ({ type: 'write', command, requestId });
const txn = (request: Record<string, unknown>): unknown => write({ type: 'txn', request: { compare: [], success: [], failure: [], ...request } });
const withWatch = (fields: Record<string, unknown>): unknown => ({ type: 'watchCreate', watch: { ...watch, ...fields } });

/** [what, request, the field the refusal must name]. */
const malformed: Array<[string, unknown, string]> = [
  // The envelope.
  ['no request at all', null, 'request'],
  ['an array', [], 'request'],
  ['an unknown type', { type: 'drop' }, 'type'],
  ['no type', {}, 'type'],
  // memberChange: the review's crash (a member id that is not a subject token enters the configuration).
  ['a conf change of unknown type', { type: 'memberChange', change: { type: 'addVoter', member: 's4' } }, 'change.type'],
  ['a learner named *', { type: 'memberChange', change: { type: 'addLearner', member: '*' } }, 'change.member'],
  ['a learner named a.b', { type: 'memberChange', change: { type: 'addLearner', member: 'a.b' } }, 'change.member'],
  ['a learner named >', { type: 'memberChange', change: { type: 'addLearner', member: '>' } }, 'change.member'],
  ['a learner with a space', { type: 'memberChange', change: { type: 'addLearner', member: 's 4' } }, 'change.member'],
  ['a learner with an empty id', { type: 'memberChange', change: { type: 'addLearner', member: '' } }, 'change.member'],
  ['a learner with a number id', { type: 'memberChange', change: { type: 'addLearner', member: 4 } }, 'change.member'],
  ['a learner with an over-long id', { type: 'memberChange', change: { type: 'addLearner', member: 'm'.repeat(129) } }, 'change.member'],
  ['no change', { type: 'memberChange' }, 'change'],
  ['a change that is a string', { type: 'memberChange', change: 'addLearner s4' }, 'change'],
  // transferLeadership.
  ['leadership to *', { type: 'transferLeadership', to: '*' }, 'to'],
  ['leadership to nobody', { type: 'transferLeadership' }, 'to'],
  ['leadership to an object', { type: 'transferLeadership', to: { id: 's2' } }, 'to'],
  // watchCreate: the inbox is where the member publishes, with its own permissions.
  ["a watch streaming to another member's raft subject", withWatch({ inbox: 'kubus.test.raft.s1.to.s2' }), 'watch.inbox'],
  ["a watch streaming to a client's API inbox", withWatch({ inbox: 'kubus.test.inbox.scheduler.1' }), 'watch.inbox'],
  ["a watch streaming to another caller's reply inbox", withWatch({ inbox: '_INBOX.member-s2.abc' }), 'watch.inbox'],
  ['a watch inbox with a wildcard', withWatch({ inbox: '_INBOX.kubuswatch.*' }), 'watch.inbox'],
  ['a watch inbox with two tokens', withWatch({ inbox: '_INBOX.kubuswatch.a.b' }), 'watch.inbox'],
  ['a watch inbox with nothing after the prefix', withWatch({ inbox: '_INBOX.kubuswatch.' }), 'watch.inbox'],
  ['a watch inbox that is not a string', withWatch({ inbox: 7 }), 'watch.inbox'],
  ['a watch without an id', withWatch({ watchId: '' }), 'watch.watchId'],
  ['a watch id with a newline', withWatch({ watchId: 'a\nb' }), 'watch.watchId'],
  ['an over-long watch id', withWatch({ watchId: 'w'.repeat(requestCheckLimits.watchIdLengthMax + 1) }), 'watch.watchId'],
  ['a watch from a negative revision', withWatch({ startRevision: -1 }), 'watch.startRevision'],
  ['a watch from a fractional revision', withWatch({ startRevision: 1.5 }), 'watch.startRevision'],
  ['a watch from revision 2^53', withWatch({ startRevision: 2 ** 53 }), 'watch.startRevision'],
  ['a watch with prevKv "yes"', withWatch({ prevKv: 'yes' }), 'watch.prevKv'],
  ['a watch without progressNotify', withWatch({ progressNotify: undefined }), 'watch.progressNotify'],
  ['a watch without a range', withWatch({ range: null }), 'watch.range'],
  ['a watch range with a number key', withWatch({ range: { key: 5 } }), 'watch.range.key'],
  ['a watch range with an over-long end', withWatch({ range: { key: 'a', end: 'z'.repeat(4_097) } }), 'watch.range.end'],
  ['a watch range with an empty key and no end', withWatch({ range: { key: '' } }), 'watch.range'],
  ['a watch range with prefix and end', withWatch({ range: { key: 'a', end: 'b', prefix: true } }), 'watch.range'],
  ['no watch', { type: 'watchCreate' }, 'watch'],
  // watchRenew / watchCancel.
  ['renewing a string', { type: 'watchRenew', watchIds: 'w1' }, 'watchIds'],
  ['renewing too many watches', { type: 'watchRenew', watchIds: Array.from({ length: requestCheckLimits.watchRenewIdsMax + 1 }, (_, i) => `w${i}`) }, 'watchIds'],
  ['renewing a number', { type: 'watchRenew', watchIds: ['w1', 2] }, 'watchIds[1]'],
  ['canceling nothing', { type: 'watchCancel' }, 'watchId'],
  // leaseKeepAlive.
  ['keep-alive of lease 0', { type: 'leaseKeepAlive', id: 0 }, 'id'],
  ['keep-alive of lease "7"', { type: 'leaseKeepAlive', id: '7' }, 'id'],
  ['keep-alive of lease 1e300', { type: 'leaseKeepAlive', id: 1e300 }, 'id'],
  // range.
  ['a range without a request', { type: 'range', consistency: 'linearizable' }, 'request'],
  ['a range at least at a negative revision', { type: 'range', request: { key: '/a' }, consistency: 'serializable', minRevision: -1 }, 'minRevision'],
  ['a range with an unknown consistency', { type: 'range', request: { key: '/a' }, consistency: 'eventual' }, 'consistency'],
  ['a range with a number key', { type: 'range', request: { key: 1 }, consistency: 'linearizable' }, 'request.key'],
  ['a range with an over-long key', { type: 'range', request: { key: 'k'.repeat(4_097) }, consistency: 'linearizable' }, 'request.key'],
  ['a range with a negative limit', { type: 'range', request: { key: '/a', limit: -1 }, consistency: 'linearizable' }, 'request.limit'],
  ['a range at revision NaN', { type: 'range', request: { key: '/a', revision: Number.NaN }, consistency: 'linearizable' }, 'request.revision'],
  ['a range with keysOnly 1', { type: 'range', request: { key: '/a', keysOnly: 1 }, consistency: 'linearizable' }, 'request.keysOnly'],
  ['a range of an empty key', { type: 'range', request: { key: '' }, consistency: 'linearizable' }, 'request'],
  // write: request id and command envelope.
  ['a write with a number request id', write({ type: 'alarmDisarm' }, 42), 'requestId'],
  ['a write with an empty request id', write({ type: 'alarmDisarm' }, ''), 'requestId'],
  ['a write with an over-long request id', write({ type: 'alarmDisarm' }, 'r'.repeat(requestCheckLimits.requestIdLengthMax + 1)), 'requestId'],
  ['a write without a command', { type: 'write', requestId: null }, 'command'],
  ['a write of an unknown command', write({ type: 'drop' }), 'command.type'],
  // put.
  ['a put without a request', write({ type: 'put' }), 'command.request'],
  ['a put with an empty key', write({ type: 'put', request: { key: '', value: bytes('x') } }), 'command.request'],
  ['a put with a NUL in its key', write({ type: 'put', request: { key: 'a\0b', value: bytes('x') } }), 'command.request'],
  ['a put with an over-long key', write({ type: 'put', request: { key: 'k'.repeat(4_097), value: bytes('x') } }), 'command.request.key'],
  ['a put with a string value', write({ type: 'put', request: { key: '/a', value: 'x' } }), 'command.request.value'],
  ['a put with a negative lease', write({ type: 'put', request: { ...put, lease: -3 } }), 'command.request.lease'],
  ['a put with a lease and ignoreLease', write({ type: 'put', request: { ...put, lease: 3, ignoreLease: true } }), 'command.request'],
  ['a put with prevKv "true"', write({ type: 'put', request: { ...put, prevKv: 'true' } }), 'command.request.prevKv'],
  // delete.
  ['a delete with a number key', write({ type: 'delete', request: { key: 3 } }), 'command.request.key'],
  ['a delete with prefix "yes"', write({ type: 'delete', request: { key: '/a', prefix: 'yes' } }), 'command.request.prefix'],
  // txn.
  ['a txn without arrays', write({ type: 'txn', request: {} }), 'command.request.compare'],
  ['a txn with too many compares', txn({ compare: Array.from({ length: 129 }, () => ({ key: '/a', target: 'version', op: 'equal', value: 0 })) }), 'command.request.compare'],
  ['a txn of too many parts', txn({ compare: Array.from({ length: 100 }, () => ({ key: '/a', target: 'version', op: 'equal', value: 0 })), success: Array.from({ length: 29 }, (_, i) => ({ type: 'range', request: { key: `/r${i}` } })) }), 'command.request'],
  ['a compare of an unknown target', txn({ compare: [{ key: '/a', target: 'owner', op: 'equal', value: 1 }] }), 'command.request.compare[0].target'],
  ['a compare of an unknown op', txn({ compare: [{ key: '/a', target: 'version', op: 'like', value: 1 }] }), 'command.request.compare[0].op'],
  ['a compare of a version with bytes', txn({ compare: [{ key: '/a', target: 'version', op: 'equal', value: bytes('1') }] }), 'command.request.compare[0].value'],
  ['a compare of a revision with Infinity', txn({ compare: [{ key: '/a', target: 'modRevision', op: 'less', value: Number.POSITIVE_INFINITY }] }), 'command.request.compare[0].value'],
  ['a compare of a value with a number', txn({ compare: [{ key: '/a', target: 'value', op: 'equal', value: 3 }] }), 'command.request.compare[0].value'],
  ['a compare with an empty key', txn({ compare: [{ key: '', target: 'version', op: 'equal', value: 0 }] }), 'command.request'],
  ['a txn op of an unknown type', txn({ success: [{ type: 'compact', request: {} }] }), 'command.request.success[0].type'],
  ['a txn put with a string value', txn({ failure: [{ type: 'put', request: { key: '/a', value: 'v' } }] }), 'command.request.failure[0].request.value'],
  ['a txn range with a negative limit', txn({ success: [{ type: 'range', request: { key: '/a', limit: -5 } }] }), 'command.request.success[0].request.limit'],
  ['a txn putting one key twice', txn({ success: [{ type: 'put', request: put }, { type: 'put', request: put }] }), 'command.request'],
  // compact.
  ['a compact without a revision', write({ type: 'compact' }), 'command.revision'],
  ['a compact at a negative revision', write({ type: 'compact', revision: -1 }), 'command.revision'],
  // leases.
  ['a grant of lease -1', write({ type: 'leaseGrant', id: -1, ttlMs: 1_000 }), 'command.id'],
  ['a grant of lease 1.5', write({ type: 'leaseGrant', id: 1.5, ttlMs: 1_000 }), 'command.id'],
  ['a grant of lease 2^53', write({ type: 'leaseGrant', id: 2 ** 53, ttlMs: 1_000 }), 'command.id'],
  ['a grant of a string id', write({ type: 'leaseGrant', id: '9', ttlMs: 1_000 }), 'command.id'],
  ['a grant with a zero TTL', write({ type: 'leaseGrant', id: 0, ttlMs: 0 }), 'command.ttlMs'],
  ['a grant with a TTL over a day', write({ type: 'leaseGrant', id: 0, ttlMs: 86_400_001 }), 'command.ttlMs'],
  ['a grant without a TTL', write({ type: 'leaseGrant', id: 0 }), 'command.ttlMs'],
  ['a revoke of lease 0', write({ type: 'leaseRevoke', id: 0 }), 'command.id'],
  ['a checkpoint list that is an object', write({ type: 'leaseCheckpoint', checkpoints: { id: 1 } }), 'command.checkpoints'],
  ['a checkpoint with a negative remainder', write({ type: 'leaseCheckpoint', checkpoints: [{ id: 1, remainingMs: -1 }] }), 'command.checkpoints[0].remainingMs'],
  // alarms.
  ['an alarm of an unknown kind', write({ type: 'alarmRaise', alarm: { alarm: 'corrupt', member: 's1', usedBytes: 1, quotaBytes: 1 } }), 'command.alarm.alarm'],
  ['an alarm for member *', write({ type: 'alarmRaise', alarm: { alarm: 'nospace', member: '*', usedBytes: 1, quotaBytes: 1 } }), 'command.alarm.member'],
  ['an alarm without its sizes', write({ type: 'alarmRaise', alarm: { alarm: 'nospace', member: 's1' } }), 'command.alarm.usedBytes'],
];

describe('store request check', () => {
  it.each(valid)('passes %s', (_what, request) => {
    expect(checkStoreRequest(request)).toBe(request);
  });

  it.each(malformed)('refuses %s, naming the field', (_what, request, field) => {
    let refusal: unknown = null;
    try {
      checkStoreRequest(request);
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(InvalidRequestFieldError);
    const error = refusal as InvalidRequestFieldError;
    expect(error.code).toBe('invalidRequest');
    expect(error.field).toBe(field);
    expect(error.message).toContain(field);
  });

  it('refuses a value over the request limit as the driver does, with RequestTooLargeError', () => {
    const limit = requestCheckLimits.valueBytesMax;
    for (const command of [
      { type: 'put', request: { key: '/a', value: new Uint8Array(limit + 1) } },
      { type: 'txn', request: { compare: [{ key: '/a', target: 'value', op: 'equal', value: new Uint8Array(limit + 1) }], success: [], failure: [] } },
    ]) {
      expect(() => checkStoreRequest(write(command)), command.type).toThrow(RequestTooLargeError);
    }
    expect(() => checkStoreRequest(write({ type: 'put', request: { key: '/a', value: new Uint8Array(limit) } }))).not.toThrow();
  });

  it('covers every request kind with a refusal', () => {
    const kinds = new Set(malformed.map(([, request]) => (request as { type?: unknown } | null)?.type));
    for (const kind of ['range', 'write', 'leaseKeepAlive', 'watchCreate', 'watchRenew', 'watchCancel', 'memberChange', 'transferLeadership']) expect(kinds.has(kind), kind).toBe(true);
    const commands = new Set(malformed.map(([, request]) => (request as { command?: { type?: unknown } } | null)?.command?.type));
    for (const command of ['put', 'delete', 'txn', 'compact', 'leaseGrant', 'leaseRevoke', 'leaseCheckpoint', 'alarmRaise']) expect(commands.has(command), command).toBe(true);
  });

  it('the refusal crosses the bus as the same class with its field', () => {
    const sent = new InvalidRequestFieldError('change.member', 'must be a member id');
    const received = fromWire(toWire(sent), storeErrorFactories);
    expect(received).toBeInstanceOf(InvalidRequestFieldError);
    expect(received).toBeInstanceOf(InvalidRequestError);
    expect((received as InvalidRequestFieldError).field).toBe('change.member');
    expect((received as InvalidRequestFieldError).reason).toBe('must be a member id');
    expect(received.message).toBe(sent.message);
    // A plain InvalidRequestError (apply-time refusals) still comes back as itself.
    const plain = fromWire(toWire(new InvalidRequestError('duplicate key')), storeErrorFactories);
    expect(plain).toBeInstanceOf(InvalidRequestError);
    expect(plain).not.toBeInstanceOf(InvalidRequestFieldError);
  });

  it('the store watch inbox form is what members may subscribe to for watches, and nothing wider', () => {
    const permitted = memberPermissions('test', 's1').subscribe;
    expect(permitted).toContain(`${storeWatchInboxPrefix}>`);
    expect(isStoreWatchInbox(inbox)).toBe(true);
    expect(permitted.some((pattern) => subjectMatches(pattern, inbox))).toBe(true);
    // Nothing a member may publish on besides watch streams and replies is a store watch inbox.
    for (const subject of ['kubus.test.raft.s1.to.s2', 'kubus.test.store.s2', 'kubus.test.api', 'kubus.test.inbox.x.y', '_INBOX.member-s2.x']) {
      expect(isStoreWatchInbox(subject), subject).toBe(false);
    }
  });
});
