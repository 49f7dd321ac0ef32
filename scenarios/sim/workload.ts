/**
 * Simulated clients: each loops issuing register operations (put, get, compare-and-set, delete)
 * on a handful of keys through the real StoreClient, and records every operation with its invoke
 * and completion time and outcome for the linearizability check. Failures that say "not applied"
 * (NoQuorum, NotLeader, ProposalDropped) are recorded as failed; timeouts and OutcomeUnknown as
 * unknown, which the checker lets happen at any time after the invoke, or never.
 */
import { BusTimeoutError, type Bus, type Clock, type Prng } from '../../bus/index.js';
import { OutcomeUnknownError, StoreClient } from '../../store/index.js';
import { HistoryRecorder, type Operation } from '../history/index.js';

export interface WorkloadOptions {
  readonly clients: number;
  readonly keys: number;
  readonly cluster: string;
  readonly members: readonly string[];
  readonly clock: Clock;
  readonly random: Prng;
  readonly connect: (name: string) => Bus;
  /** Pause between one client's operations, drawn uniformly. */
  readonly thinkMs: { readonly min: number; readonly max: number };
}

export class Workload {
  readonly history: HistoryRecorder;
  private running = false;
  private readonly loops: Promise<void>[] = [];
  private sequence = 0;
  completed = 0;
  succeeded = 0;

  constructor(private readonly options: WorkloadOptions) {
    this.history = new HistoryRecorder(() => options.clock.now());
  }

  start(): void {
    this.running = true;
    for (let i = 0; i < this.options.clients; i++) {
      const name = `client${i + 1}`;
      const random = this.options.random.fork();
      const client = new StoreClient({
        bus: this.options.connect(name),
        cluster: this.options.cluster,
        members: this.options.members,
        clock: this.options.clock,
        random: random.fork(),
        callTimeoutMs: 2_000,
        attemptTimeoutMs: 1_000,
      });
      this.loops.push(this.loop(name, client, random));
    }
  }

  /** Stops issuing new operations; in-flight ones finish or time out on their own. */
  stop(): void {
    this.running = false;
  }

  private async loop(name: string, client: StoreClient, random: Prng): Promise<void> {
    while (this.running) {
      await this.perform(name, client, random);
      await this.pause(random.between(this.options.thinkMs.min, this.options.thinkMs.max));
    }
  }

  private async perform(name: string, client: StoreClient, random: Prng): Promise<void> {
    const key = `k${random.int(this.options.keys)}`;
    const value = `${name}-${++this.sequence}`;
    const roll = random.int(10);
    const operation: Operation =
      roll < 4 ? { type: 'put', key, value }
      : roll < 7 ? { type: 'get', key }
      : roll < 9 ? { type: 'cas', key, expected: random.chance(0.3) ? null : `client${random.between(1, this.options.clients)}-${random.int(this.sequence + 1)}`, value }
      : { type: 'delete', key };
    const handle = this.history.invoke(name, operation);
    try {
      const result = await this.execute(client, operation);
      handle.ok(result);
      this.succeeded++;
    } catch (error) {
      if (error instanceof OutcomeUnknownError || error instanceof BusTimeoutError) handle.unknown();
      else handle.fail();
    }
    this.completed++;
  }

  private async execute(client: StoreClient, operation: Operation): Promise<string | boolean | null | undefined> {
    const encoder = new TextEncoder();
    switch (operation.type) {
      case 'put':
        await client.put({ key: operation.key, value: encoder.encode(operation.value) });
        return undefined;
      case 'get': {
        const kv = await client.get(operation.key);
        return kv === null ? null : new TextDecoder().decode(kv.value);
      }
      case 'cas': {
        const compare = operation.expected === null
          ? { key: operation.key, target: 'version' as const, op: 'equal' as const, value: 0 }
          : { key: operation.key, target: 'value' as const, op: 'equal' as const, value: encoder.encode(operation.expected) };
        const result = await client.txn([compare], [{ type: 'put', request: { key: operation.key, value: encoder.encode(operation.value) } }], []);
        return result.succeeded;
      }
      case 'delete':
        await client.delete({ key: operation.key });
        return undefined;
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => this.options.clock.setTimeout(resolve, ms));
  }
}
