/**
 * The engine's container events (`start`, `die`) for this agent's containers, as the runtime's
 * `started`/`exited` events: pod workers react at once instead of at the next relist. The stream
 * is re-opened with a bounded backoff when it ends (dockerd restarted), from the time of the last
 * event seen, and events at or before that instant are dropped (no double reports).
 */
import type Dockerode from 'dockerode';
import type { Clock, TimerId } from '../../../bus/clock.js';
import type { Logger } from '../../../bus/logger.js';
import { runtimeLabels } from '../types.js';
import { dockerLabels } from './labels.js';
import { dockerLimits as limits } from './limits.js';

export interface EngineContainerEvent {
  readonly type: 'started' | 'exited';
  readonly containerId: string;
  readonly sandboxId: string;
  readonly podUid: string;
  readonly timeNano: bigint;
}

interface RawEvent {
  readonly Type?: string;
  readonly Action?: string;
  readonly id?: string;
  readonly timeNano?: number | string;
  readonly time?: number;
  readonly Actor?: { readonly ID?: string; readonly Attributes?: Record<string, string> };
}

/** One engine event line as a runtime event; null for events the runtime does not report (sandboxes, other actions). */
export function parseEngineEvent(line: string): EngineContainerEvent | null {
  let raw: RawEvent;
  try {
    raw = JSON.parse(line) as RawEvent;
  } catch {
    return null;
  }
  const attributes = raw.Actor?.Attributes ?? {};
  if (raw.Type !== 'container' || attributes[dockerLabels.kind] !== 'container') return null;
  const type = raw.Action === 'start' ? 'started' : raw.Action === 'die' ? 'exited' : null;
  const containerId = raw.Actor?.ID ?? raw.id;
  if (type === null || containerId === undefined) return null;
  // Read from the text: as a JSON number, nanoseconds since 1970 lose their last digits (past 2^53).
  const exact = /"timeNano"\s*:\s*(\d+)/.exec(line)?.[1];
  const timeNano = exact !== undefined ? BigInt(exact) : BigInt(raw.time ?? 0) * 1_000_000_000n;
  return { type, containerId, sandboxId: attributes[dockerLabels.sandbox] ?? '', podUid: attributes[runtimeLabels.podUid] ?? '', timeNano };
}

export interface EventStreamOptions {
  readonly owner: string;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Wall time, for the first `since` (events before the runtime opened are the relist's). */
  readonly wallMs: () => number;
  readonly onEvent: (event: EngineContainerEvent) => void;
}

export class EngineEventStream {
  private stream: (NodeJS.ReadableStream & { destroy?: () => void }) | null = null;
  private timer: TimerId | null = null;
  private closed = false;
  private retryMs: number = limits.eventRetryMinMs;
  private lastNano: bigint;

  constructor(private readonly docker: Dockerode, private readonly options: EventStreamOptions) {
    this.lastNano = BigInt(Math.floor(options.wallMs())) * 1_000_000n;
  }

  start(): void {
    void this.open();
  }

  close(): void {
    this.closed = true;
    if (this.timer !== null) this.options.clock.clearTimeout(this.timer);
    this.timer = null;
    this.stream?.destroy?.();
    this.stream = null;
  }

  private async open(): Promise<void> {
    if (this.closed) return;
    try {
      const stream = (await this.docker.getEvents({
        since: Number(this.lastNano / 1_000_000_000n),
        filters: JSON.stringify({ type: ['container'], event: ['start', 'die'], label: [`${dockerLabels.owner}=${this.options.owner}`] }),
      })) as NodeJS.ReadableStream & { destroy?: () => void };
      if (this.closed) {
        stream.destroy?.();
        return;
      }
      this.stream = stream;
      let pending = '';
      await new Promise<void>((resolve, reject) => {
        stream.on('data', (chunk: Buffer) => {
          this.retryMs = limits.eventRetryMinMs;
          pending += chunk.toString('utf8');
          const lines = pending.split('\n');
          pending = lines.pop() ?? '';
          if (pending.length > limits.eventLineBytesMax) pending = '';
          for (const line of lines) this.deliver(line);
        });
        stream.on('end', () => resolve());
        stream.on('close', () => resolve());
        stream.on('error', (error: Error) => reject(error));
      });
    } catch (error) {
      if (!this.closed) this.options.logger.warn('docker event stream failed; reopening', { error: String(error), retryMs: this.retryMs });
    }
    this.stream = null;
    this.retry();
  }

  private deliver(line: string): void {
    if (line.trim() === '') return;
    const event = parseEngineEvent(line);
    if (event === null || event.timeNano <= this.lastNano) return;
    this.lastNano = event.timeNano;
    this.options.onEvent(event);
  }

  private retry(): void {
    if (this.closed) return;
    const delay = this.retryMs;
    this.retryMs = Math.min(limits.eventRetryMaxMs, this.retryMs * 2);
    this.timer = this.options.clock.setTimeout(() => {
      this.timer = null;
      void this.open();
    }, delay);
  }
}
