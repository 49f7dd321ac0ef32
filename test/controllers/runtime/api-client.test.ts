/**
 * The NATS API client against a stub front on the simulated network: requests carry the bearer
 * token, JSON bodies and the patch content type; a 429 is retried after its Retry-After, at most
 * tooManyRequestsRetriesMax times, then thrown typed; other failures are thrown at once.
 */
import { describe, expect, test } from 'vitest';
import { Prng, SimNetwork, SimulatedClock, serve } from '../../../bus/index.js';
import { subjects } from '../../../bus/subjects.js';
import { NatsApiClient } from '../../../actors/controllers/runtime/api-client.js';
import { ConflictError, TooManyRequestsError } from '../../../actors/controllers/runtime/api-errors.js';
import { runtimeLimits } from '../../../actors/controllers/runtime/limits.js';
import { refs } from '../../../actors/controllers/runtime/resource-refs.js';
import type { ApiNatsRequest, ApiNatsResponse } from '../../../actors/apiserver/nats-front.js';
import { simHarness } from '../../bus/sim-harness.js';

function setup(answer: (request: ApiNatsRequest, index: number) => ApiNatsResponse) {
  const clock = new SimulatedClock();
  const network = new SimNetwork({ clock, random: new Prng(3) });
  const seen: { at: number; request: ApiNatsRequest }[] = [];
  serve(network.connect('front'), subjects('test').api(), (raw) => {
    const request = raw as ApiNatsRequest;
    seen.push({ at: clock.now(), request });
    return answer(request, seen.length - 1);
  }, { concurrencyMax: 4, pendingMax: 16, queue: 'api' });
  const api = new NatsApiClient({ bus: network.connect('component'), cluster: 'test', token: 'secret', clock, inboxOwner: 'component-test' });
  return { api, seen, ...simHarness(clock, 5) };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}): ApiNatsResponse =>
  ({ status, headers: { 'content-type': 'application/json', ...headers }, body: new TextEncoder().encode(JSON.stringify(body)) });
const tooMany = (seconds: string) => json(429, { kind: 'Status', code: 429, reason: 'TooManyRequests', message: 'slow down' }, { 'retry-after': seconds });

describe('NatsApiClient', () => {
  test('a patch carries the token, the merge-patch content type and the JSON body', async () => {
    const { api, seen, settle } = setup(() => json(200, { kind: 'Pod', metadata: { name: 'p' } }));
    const pod = await settle(api.patch(refs.pods, 'default', 'p', { metadata: { labels: { a: 'b' } } }, 'merge', { subresource: 'status' }), 5_000);
    expect(pod).toEqual({ kind: 'Pod', metadata: { name: 'p' } });
    const request = seen[0]?.request as ApiNatsRequest;
    expect([request.method, request.path, request.headers['Authorization'], request.headers['Content-Type']])
      .toEqual(['PATCH', '/api/v1/namespaces/default/pods/p/status', 'Bearer secret', 'application/merge-patch+json']);
    expect(JSON.parse(new TextDecoder().decode(request.body))).toEqual({ metadata: { labels: { a: 'b' } } });
  });

  test('429 twice, then 200: retried after each Retry-After', async () => {
    const { api, seen, settle } = setup((_, i) => (i < 2 ? tooMany('1') : json(201, { kind: 'Pod' })));
    await settle(api.create(refs.pods, 'default', { kind: 'Pod' }), 10_000);
    expect(seen).toHaveLength(3);
    const gaps = [(seen[1]?.at as number) - (seen[0]?.at as number), (seen[2]?.at as number) - (seen[1]?.at as number)];
    expect(gaps.every((gap) => gap >= 1_000 && gap < 1_050)).toBe(true);
  });

  test('429 every time: given up after the bound, thrown as TooManyRequestsError', async () => {
    const { api, seen, settle } = setup(() => tooMany('1'));
    const error = await settle(api.get(refs.pods, 'default', 'p').catch((e: unknown) => e), 20_000);
    expect(error).toBeInstanceOf(TooManyRequestsError);
    expect((error as TooManyRequestsError).retryAfterSeconds).toBe(1);
    expect(seen).toHaveLength(runtimeLimits.tooManyRequestsRetriesMax + 1);
  });

  test('a 409 is thrown at once, typed', async () => {
    const { api, seen, settle } = setup(() => json(409, { kind: 'Status', code: 409, reason: 'Conflict', message: 'the object has been modified' }));
    const error = await settle(api.update(refs.pods, 'default', 'p', {}).catch((e: unknown) => e), 5_000);
    expect(error).toBeInstanceOf(ConflictError);
    expect(seen).toHaveLength(1);
  });
});
