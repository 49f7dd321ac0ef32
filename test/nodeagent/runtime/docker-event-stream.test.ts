/**
 * The engine event stream over a fake engine: events of this owner's containers become runtime
 * events; when the stream ends (dockerd restarted) it is re-opened from the last event's second
 * with a growing, bounded backoff, and the events the new stream replays are not reported twice.
 */
import { PassThrough } from 'node:stream';
import type Dockerode from 'dockerode';
import { describe, expect, it } from 'vitest';
import { SystemClock } from '../../../bus/clock.js';
import type { Logger } from '../../../bus/logger.js';
import { EngineEventStream, type EngineContainerEvent } from '../../../nodeagent/runtime/docker/event-stream.js';
import { dockerLabels } from '../../../nodeagent/runtime/docker/labels.js';
import { runtimeLabels } from '../../../nodeagent/runtime/types.js';
import { waitUntil } from '../../support/wait.js';

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };

function eventLine(action: string, id: string, timeNano: bigint): string {
  // As the engine writes it: nanoseconds as a JSON number with every digit.
  return `${JSON.stringify({
    Type: 'container', Action: action, timeNano: 0,
    Actor: { ID: id, Attributes: { [dockerLabels.kind]: 'container', [dockerLabels.sandbox]: 'sb', [runtimeLabels.podUid]: 'u' } },
  }).replace('"timeNano":0', `"timeNano":${timeNano}`)}\n`;
}

const until = (what: string, holds: () => boolean): Promise<boolean> => waitUntil(what, holds, { timeoutMs: 5_000, intervalMs: 10 });

describe('engine event stream', () => {
  it('reports start and die, re-opens after the stream ends and drops replayed events', async () => {
    const opened: { since: number; filters: string }[] = [];
    const streams: PassThrough[] = [];
    const fake = {
      getEvents: async (options: { since: number; filters: string }) => {
        opened.push(options);
        const stream = new PassThrough();
        streams.push(stream);
        return stream;
      },
    } as unknown as Dockerode;
    const startMs = 1_700_000_000_000;
    const seen: EngineContainerEvent[] = [];
    const events = new EngineEventStream(fake, { owner: 'o1', clock: new SystemClock(), logger: silent, wallMs: () => startMs, onEvent: (event) => seen.push(event) });
    events.start();
    await until('the first open', () => streams.length === 1);
    expect(opened[0]?.since).toBe(startMs / 1000);
    expect(JSON.parse(opened[0]?.filters ?? '{}')).toEqual({ type: ['container'], event: ['start', 'die'], label: [`${dockerLabels.owner}=o1`] });
    const base = BigInt(startMs) * 1_000_000n;
    // One event cut across two chunks, and one from before the runtime opened (the relist's business).
    const first = eventLine('start', 'c1', base + 5n);
    streams[0]?.write(eventLine('die', 'old', base - 1n) + first.slice(0, 20));
    streams[0]?.write(first.slice(20) + eventLine('die', 'c1', base + 9n));
    await until('two events', () => seen.length === 2);
    expect(seen.map((event) => `${event.type}:${event.containerId}`)).toEqual(['started:c1', 'exited:c1']);
    expect(seen[1]).toMatchObject({ sandboxId: 'sb', podUid: 'u' });
    streams[0]?.end();
    await until('the re-open', () => streams.length === 2);
    expect(opened[1]?.since).toBe(startMs / 1000);
    // The new stream replays the second's events, then a new one.
    streams[1]?.write(first + eventLine('die', 'c1', base + 9n) + eventLine('start', 'c2', base + 20n));
    await until('the new event', () => seen.length === 3);
    expect(seen[2]?.containerId).toBe('c2');
    events.close();
    expect(streams[1]?.destroyed).toBe(true);
  });
});
