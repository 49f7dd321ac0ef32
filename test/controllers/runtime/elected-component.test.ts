/**
 * Two elected components on a fake API and a simulated clock (lease 15 s, renew 10 s, retry 2 s),
 * each running one controller. While A leads, only A reconciles. Cut off from the API, A stops
 * reconciling at its renew deadline; B, seeing A overdue, lists and syncs its caches before it
 * leads (no write is possible yet), and reconciles only after it acquired the Lease.
 */
import { describe, expect, test } from 'vitest';
import { SimulatedClock, createJsonLogger } from '../../../bus/index.js';
import { startElectedComponent } from '../../../actors/controllers/runtime/elected-component.js';
import { defaultLeaderElectionTiming } from '../../../actors/controllers/runtime/leader-election.js';
import { refs } from '../../../actors/controllers/runtime/resource-refs.js';
import type { ApiClient, ControllerSpec } from '../../../actors/controllers/runtime/types.js';
import { objectKey } from '../../../actors/objects/meta.js';
import { FakeApi, settle } from './fake-api.js';

const logger = createJsonLogger({ level: 'error', write: () => undefined });

function viewOf(api: FakeApi): { client: ApiClient; cut: { down: boolean } } {
  const cut = { down: false };
  const client = new Proxy(api, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => (cut.down ? Promise.reject(new Error('partitioned')) : (value as (...a: unknown[]) => unknown).apply(target, args));
    },
  });
  return { client: client as ApiClient, cut };
}

describe('elected component', () => {
  test('the standby warms its caches once the holder is overdue, and reconciles only after it leads', async () => {
    const clock = new SimulatedClock();
    const api = new FakeApi();
    api.putSilently(refs.nodes, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } });
    const log: string[] = [];
    const component = (identity: string) => {
      const view = viewOf(api);
      const spec: ControllerSpec = {
        name: 'nodes',
        watch: (ctx, queue) => {
          log.push(`${clock.now()} ${identity} watch`);
          return ctx.informers.informer(refs.nodes).addHandlers({ onAdd: (o) => queue.add(objectKey(o)) });
        },
        reconcile: async (key) => void log.push(`${clock.now()} ${identity} reconcile ${key}`),
      };
      const running = startElectedComponent({
        name: 'kube-controller-manager', specs: [spec], api: view.client, identity, timing: defaultLeaderElectionTiming,
        clock, wallClock: () => new Date(1_700_000_000_000 + clock.now()), logger, options: {},
      });
      return { running, cut: view.cut };
    };
    const run = async (ms: number): Promise<void> => {
      for (let t = 0; t < ms; t += 10) {
        clock.advance(10);
        await settle();
      }
    };
    const a = component('a');
    await settle();
    const b = component('b');
    await run(5_000);
    expect(a.running.isLeading()).toBe(true);
    expect(b.running.isLeading()).toBe(false);
    expect(log).toEqual(['0 a watch', '0 a reconcile n1']);
    log.length = 0;
    a.cut.down = true; // last renew at 4 s
    await run(20_000);
    expect(a.running.isLeading()).toBe(false);
    expect(b.running.isLeading()).toBe(true);
    const [watch, reconcile] = log;
    const at = (line: string | undefined) => Number(line?.split(' ')[0]);
    expect(log).toHaveLength(2);
    expect(watch).toMatch(/^\d+ b watch$/);
    expect(reconcile).toMatch(/^\d+ b reconcile n1$/);
    // Warmed after the holder was overdue (renew deadline past its last renew), reconciled at takeover (lease duration).
    expect(at(watch)).toBeGreaterThanOrEqual(4_000 + defaultLeaderElectionTiming.renewDeadlineMs);
    expect(at(watch)).toBeLessThan(4_000 + defaultLeaderElectionTiming.leaseDurationMs);
    expect(at(reconcile)).toBeGreaterThanOrEqual(4_000 + defaultLeaderElectionTiming.leaseDurationMs);
    expect(at(reconcile)).toBeLessThanOrEqual(4_000 + defaultLeaderElectionTiming.leaseDurationMs + 50);
    expect(b.running.activeSince()).not.toBeNull();
  });
});
