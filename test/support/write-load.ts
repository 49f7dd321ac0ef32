/**
 * Write load for integration tests: concurrent writers putting unique keys with request ids (so
 * the client may retry after an unknown outcome without applying twice). Records every
 * acknowledged key, so a test can prove that none was lost, and every failure by error name.
 */
import type { StoreClient } from '../../store/index.js';

export interface LoadReport {
  readonly acknowledged: ReadonlyMap<string, string>;
  readonly failures: ReadonlyMap<string, number>;
  /** Acknowledgement times (Date.now()), in order. */
  readonly ackTimes: readonly number[];
}

export class WriteLoad {
  private running = false;
  private readonly loops: Promise<void>[] = [];
  private readonly acknowledged = new Map<string, string>();
  private readonly failures = new Map<string, number>();
  private readonly ackTimes: number[] = [];

  constructor(private readonly client: StoreClient, private readonly options: { writers: number; prefix: string; valueBytes?: number; callTimeoutMs?: number }) {}

  start(): void {
    this.running = true;
    for (let w = 0; w < this.options.writers; w++) this.loops.push(this.loop(w));
  }

  async stop(): Promise<LoadReport> {
    this.running = false;
    await Promise.all(this.loops);
    return this.report();
  }

  report(): LoadReport {
    return { acknowledged: new Map(this.acknowledged), failures: new Map(this.failures), ackTimes: [...this.ackTimes] };
  }

  private async loop(writer: number): Promise<void> {
    const filler = 'x'.repeat(Math.max(0, (this.options.valueBytes ?? 32) - 16));
    for (let seq = 0; this.running; seq++) {
      const key = `${this.options.prefix}/${writer}/${seq}`;
      const value = `${writer}:${seq}:${filler}`;
      try {
        await this.client.put({ key, value: new TextEncoder().encode(value) }, { requestId: `${this.options.prefix}-${writer}-${seq}`, timeoutMs: this.options.callTimeoutMs ?? 15_000 });
        this.acknowledged.set(key, value);
        this.ackTimes.push(Date.now());
      } catch (error) {
        const name = error instanceof Error ? error.name : 'unknown';
        this.failures.set(name, (this.failures.get(name) ?? 0) + 1);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
  }
}

/** Every acknowledged key must be readable with its value; returns the missing or wrong keys. */
export async function findLost(client: StoreClient, prefix: string, acknowledged: ReadonlyMap<string, string>): Promise<{ lost: string[]; versionsAboveOne: string[] }> {
  const response = await client.range({ key: `${prefix}/`, prefix: true }, { timeoutMs: 20_000 });
  const stored = new Map(response.result.kvs.map((kv) => [keyText(kv.key), kv]));
  const lost: string[] = [];
  for (const [key, value] of acknowledged) {
    const kv = stored.get(key);
    if (kv === undefined || new TextDecoder().decode(kv.value) !== value) lost.push(key);
  }
  const versionsAboveOne = [...stored.values()].filter((kv) => kv.version !== 1).map((kv) => keyText(kv.key));
  return { lost, versionsAboveOne };
}

function keyText(key: string | Uint8Array): string {
  return typeof key === 'string' ? key : new TextDecoder().decode(key);
}
