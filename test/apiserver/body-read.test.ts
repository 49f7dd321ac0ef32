/**
 * Request bodies are read before a request waits for a seat (fairness.ts): a stalled body is
 * answered 408 at the deadline with the connection closed, the bytes held by bodies are bounded
 * across the server (429 beyond), and the handler later gets the body that was read first.
 */
import { PassThrough } from 'node:stream';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../bus/index.js';
import { readBody, readBodyFirst, type BodyBudget } from '../../actors/apiserver/http/io.js';
import { ApiError } from '../../actors/apiserver/status.js';

function request(headers: Record<string, string> = {}): { req: IncomingMessage; body: PassThrough } {
  const body = new PassThrough();
  return { req: Object.assign(body, { headers }) as unknown as IncomingMessage, body };
}

function response(): { res: ServerResponse; headers: Map<string, string> } {
  const headers = new Map<string, string>();
  return { res: { setHeader: (name: string, value: string) => void headers.set(name, value) } as unknown as ServerResponse, headers };
}

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('readBodyFirst', () => {
  it('answers a stalled body 408 at the deadline, closes the connection and gives its bytes back', async () => {
    const clock = new SimulatedClock();
    const budget: BodyBudget = { used: 0, max: 1_000 };
    const { req, body } = request();
    const { res, headers } = response();
    const reading = readBodyFirst(req, res, { limitBytes: 100, timeoutMs: 10_000, clock, budget, retryAfterSeconds: 1 }).catch((error: unknown) => error);
    body.write('{"a":');
    await flush();
    expect(budget.used).toBe(5);
    clock.advance(9_999);
    await flush();
    clock.advance(1);
    const error = await reading;
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).httpStatus).toBe(408);
    expect(headers.get('Connection')).toBe('close');
    expect(budget.used).toBe(0);
  });

  it('hands the body to the handler later, and gives its bytes back when the request ends', async () => {
    const clock = new SimulatedClock();
    const budget: BodyBudget = { used: 0, max: 1_000 };
    const { req, body } = request();
    const reading = readBodyFirst(req, response().res, { limitBytes: 100, timeoutMs: 10_000, clock, budget, retryAfterSeconds: 1 });
    body.end('{"a":1}');
    const giveBack = await reading;
    expect(budget.used).toBe(7);
    expect(await readBody(req, 100)).toBe('{"a":1}');
    giveBack();
    expect(budget.used).toBe(0);
  });

  it('refuses with 429 when the bodies held across the server would pass the budget', async () => {
    const clock = new SimulatedClock();
    const budget: BodyBudget = { used: 995, max: 1_000 };
    const { req, body } = request();
    const reading = readBodyFirst(req, response().res, { limitBytes: 100, timeoutMs: 10_000, clock, budget, retryAfterSeconds: 3 }).catch((error: unknown) => error);
    body.end('0123456789');
    const error = (await reading) as ApiError;
    expect(error.httpStatus).toBe(429);
    expect(error.details?.retryAfterSeconds).toBe(3);
    expect(budget.used).toBe(995);
  });
});
