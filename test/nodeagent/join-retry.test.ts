/** Joining retries an unreachable server with doubling delays and a progress line each, gives up after its bound naming the server, and never retries a refusal. */
import { describe, expect, it } from 'vitest';
import { createJsonLogger } from '../../bus/logger.js';
import { isTransientStatus, TransportError } from '../../nodeagent/join/https-client.js';
import { whileUnreachable } from '../../nodeagent/join/retry.js';
import { BootstrapTokenRefusedError, ServerUnreachableError } from '../../nodeagent/join/index.js';

function setup(attemptsMax: number) {
  const lines: string[] = [];
  const slept: number[] = [];
  const options = {
    server: 'https://m:6443', what: 'fetching the CA', attemptsMax,
    sleep: async (ms: number) => void slept.push(ms),
    logger: createJsonLogger({ level: 'info', write: (line) => void lines.push(line) }),
  };
  return { lines, slept, options };
}

describe('join retries', () => {
  it('retries transport failures with doubling delays and progress lines, then gives up naming the server', async () => {
    const { lines, slept, options } = setup(4);
    let calls = 0;
    const error = await whileUnreachable(async () => {
      calls += 1;
      throw new TransportError('connect ECONNREFUSED', 'ECONNREFUSED');
    }, options).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServerUnreachableError);
    expect((error as Error).message).toMatch(/cannot reach https:\/\/m:6443 after 4 attempts.*check --server/);
    expect(calls).toBe(4);
    expect(slept).toEqual([1_000, 2_000, 4_000]);
    expect(lines.filter((line) => line.includes('unreachable'))).toHaveLength(3);
  });

  it('succeeds once the server answers', async () => {
    const { options } = setup(10);
    let calls = 0;
    expect(await whileUnreachable(async () => (++calls < 3 ? Promise.reject(new TransportError('reset')) : 'ok'), options)).toBe('ok');
  });

  it('never retries a refusal or a certificate problem', async () => {
    const { slept, options } = setup(10);
    await expect(whileUnreachable(async () => Promise.reject(new BootstrapTokenRefusedError('s', 'abcdef', '401')), options)).rejects.toBeInstanceOf(BootstrapTokenRefusedError);
    await expect(whileUnreachable(async () => Promise.reject(new TransportError('bad cert', 'ERR_TLS_CERT_ALTNAME_INVALID')), options)).rejects.toBeInstanceOf(TransportError);
    expect(slept).toEqual([]);
  });
});

describe('transient answers', () => {
  it('treats 429, 502, 503 and 504 (a store electing, a busy member) as retryable, refusals and bugs not', () => {
    expect([429, 502, 503, 504].every(isTransientStatus)).toBe(true);
    expect([400, 401, 403, 404, 409, 422, 500].some(isTransientStatus)).toBe(false);
  });
});

