/**
 * The store member actor: its lifecycle (opening → running → stopped, or failed) and, while
 * running, its Raft role as states (follower, candidate, leader). Other actors learn of leadership
 * changes from the emitted `raft.leaderChanged` event.
 *
 * Side effects live in invoked actors: `openStore` opens the disk and builds the driver;
 * `runMember` owns the tick timer, the Raft transport and the client service, and reports role
 * changes back as events. The composition root (actors/server.ts, or the simulation) passes the
 * bus, clock, storage and randomness in `input`, so the same machine runs on NATS and LMDB in a
 * process and on the simulated network and disk in a simulation.
 */
import { assign, emit, fromCallback, fromPromise, setup } from 'xstate';
import type { Bus } from '../bus/transport.js';
import type { Clock } from '../bus/clock.js';
import type { Prng } from '../bus/prng.js';
import type { Logger } from '../bus/logger.js';
import type { Backend } from './backend.js';
import type { RaftLogStorage } from './raft-log-storage.js';
import type { MemberId, Role } from './raft/types.js';
import { RaftDriver } from './raft-driver.js';
import { RaftTransport } from './raft-transport.js';
import { MemberService } from './member-service.js';
import { checkDriverLimits, driverLimits, type RaftTiming } from './driver-limits.js';
import { checkRequestDedupLimits } from './request-dedup.js';
import { storeClientLimits } from './store-client.js';
import type { StoreObserver } from './telemetry.js';

export interface MemberInput {
  readonly cluster: string;
  readonly self: MemberId;
  readonly initialMembers: readonly MemberId[];
  readonly bus: Bus;
  readonly clock: Clock;
  readonly random: Prng;
  readonly timing: RaftTiming;
  /** Opens (or creates, or migrates) this member's disk; may throw CorruptedDataError. */
  readonly openStorage: () => MemberStorage;
  readonly snapshotEveryEntries?: number;
  /** Applied data bytes between snapshots (driverLimits.snapshotEveryBytes by default; the simulator makes it tiny). */
  readonly snapshotEveryBytes?: number;
  /** The request dedup window and bytes (requestDedupLimits by default; the simulator scales the window). */
  readonly dedupLimits?: { readonly retryWindowMs: number; readonly bytesMax: number };
  /** How the driver defers its Ready loop (see RaftDriverOptions.defer); a zero-delay timer by default. */
  readonly defer?: (fn: () => void) => void;
  /** Where the Raft transport reports dropped (malformed or forged) input. */
  readonly logger?: Logger;  /** Metrics sink (store/telemetry.ts); absent in the simulation. */
  readonly observer?: StoreObserver;
}

/** A member's disk: the state machine's tables and the Raft log (the WAL), opened together. */
export interface MemberStorage {
  readonly backend: Backend;
  readonly log: RaftLogStorage;
  /** Closes both, with whatever a graceful stop records (store/member-storage.ts); else the log, then the backend. */
  readonly close?: () => void;
}

/** Closes the storage (a graceful stop): its own `close`, or the log then the state machine. */
export function closeStorage(storage: MemberStorage): void {
  if (storage.close !== undefined) {
    storage.close();
    return;
  }
  try {
    storage.log.close();
  } finally {
    storage.backend.close();
  }
}

export interface MemberContext {
  readonly input: MemberInput;
  driver: RaftDriver | null;
  transport: RaftTransport | null;
  storage: MemberStorage | null;
  /** The client service, built with the driver and started while running (null before): the API in this process calls it directly. */
  service: MemberService | null;
  error: Error | null;
}

export type MemberEvent =
  | { type: 'raft.roleChanged'; role: Role; leader: MemberId | null; term: number }
  | { type: 'member.stop' };

export type MemberEmitted = { type: 'raft.leaderChanged'; leader: MemberId | null; term: number; role: Role };

export const storeMemberMachine = setup({
  types: {
    context: {} as MemberContext,
    input: {} as MemberInput,
    events: {} as MemberEvent,
    emitted: {} as MemberEmitted,
  },
  actors: {
    openStore: fromPromise<{ driver: RaftDriver; transport: RaftTransport; storage: MemberStorage; service: MemberService }, MemberInput>(async ({ input }) => {
      checkDriverLimits(input.timing);
      checkRequestDedupLimits(storeClientLimits.callTimeoutMs);
      const storage = input.openStorage();
      const { backend, log } = storage;
      try {
        const transportHolder: { transport: RaftTransport | null } = { transport: null };
        const driver = new RaftDriver({
          self: input.self,
          initialMembers: input.initialMembers,
          backend,
          log,
          clock: input.clock,
          random: input.random,
          timing: input.timing,
          snapshotEveryEntries: input.snapshotEveryEntries ?? driverLimits.snapshotEveryEntries,
          ...(input.snapshotEveryBytes !== undefined ? { snapshotEveryBytes: input.snapshotEveryBytes } : {}),
          ...(input.dedupLimits !== undefined ? { dedupLimits: input.dedupLimits } : {}),
          send: (messages) => transportHolder.transport?.send(messages),
          defer: input.defer ?? ((fn) => void input.clock.setTimeout(fn, 0)),
          ...(input.observer !== undefined ? { observer: input.observer } : {}),
        });
        transportHolder.transport = new RaftTransport({
          bus: input.bus,
          cluster: input.cluster,
          self: input.self,
          onMessages: (messages) => driver.receive(messages),
          onSnapshotSent: (to, ok) => driver.reportSnapshot(to, ok),
          ...(input.logger !== undefined ? { logger: input.logger.child({ component: 'raft-transport' }) } : {}),
        });
        const service = new MemberService({ driver, bus: input.bus, cluster: input.cluster, clock: input.clock, random: input.random.fork(), backend });
        return { driver, transport: transportHolder.transport, storage, service };
      } catch (error) {
        closeStorage(storage);
        throw error;
      }
    }),
    runMember: fromCallback<MemberEvent, { input: MemberInput; driver: RaftDriver; transport: RaftTransport; service: MemberService }>(({ input, sendBack }) => {
      const { driver, transport, service } = input;
      const { clock, timing } = input.input;
      const unsubscribe = driver.subscribe({
        roleChanged: (role, leader, term) => sendBack({ type: 'raft.roleChanged', role, leader, term }),
      });
      let timer = -1;
      const schedule = (): void => {
        timer = clock.setTimeout(() => {
          driver.tick();
          service.tick();
          schedule();
        }, timing.tickMs);
      };
      transport.start();
      service.start();
      schedule();
      return () => {
        clock.clearTimeout(timer);
        unsubscribe();
        service.stop();
        transport.stop();
        driver.stop();
      };
    }),
  },
  guards: {
    becameLeader: ({ event }) => event.type === 'raft.roleChanged' && event.role === 'leader',
    becameCandidate: ({ event }) => event.type === 'raft.roleChanged' && (event.role === 'candidate' || event.role === 'preCandidate'),
  },
  actions: {
    announce: emit(({ event }) => {
      const change = event as Extract<MemberEvent, { type: 'raft.roleChanged' }>;
      return { type: 'raft.leaderChanged' as const, leader: change.leader, term: change.term, role: change.role };
    }),
    closeBackend: ({ context }) => {
      if (context.storage !== null) closeStorage(context.storage);
    },
  },
}).createMachine({
  id: 'storeMember',
  context: ({ input }) => ({ input, driver: null, transport: null, storage: null, service: null, error: null }),
  initial: 'opening',
  states: {
    opening: {
      invoke: {
        src: 'openStore',
        input: ({ context }) => context.input,
        onDone: {
          target: 'running',
          actions: assign({
            driver: ({ event }) => event.output.driver,
            transport: ({ event }) => event.output.transport,
            storage: ({ event }) => event.output.storage,
            service: ({ event }) => event.output.service,
          }),
        },
        onError: { target: 'failed', actions: assign({ error: ({ event }) => event.error as Error }) },
      },
      on: { 'member.stop': 'stopped' },
    },
    running: {
      invoke: {
        src: 'runMember',
        input: ({ context }) => ({ input: context.input, driver: context.driver as RaftDriver, transport: context.transport as RaftTransport, service: context.service as MemberService }),
      },
      initial: 'follower',
      on: {
        'raft.roleChanged': [
          { guard: 'becameLeader', target: '.leader', actions: 'announce' },
          { guard: 'becameCandidate', target: '.candidate', actions: 'announce' },
          { target: '.follower', actions: 'announce' },
        ],
        'member.stop': 'stopped',
      },
      states: { follower: {}, candidate: {}, leader: {} },
    },
    /** Refuses to serve: corrupted data or a broken start-up; the error says what to do. */
    failed: {
      on: { 'member.stop': 'stopped' },
    },
    stopped: { type: 'final', entry: 'closeBackend' },
  },
});

