/**
 * A webhook's failure as a requester sees it: the webhook's name and the kind of failure
 * ("connection refused", "the host name did not resolve", an untrusted certificate), never the
 * address or port it tried, which used to reach any user whose request matched the webhook.
 */
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../bus/index.js';
import { callWebhook, networkReason } from '../../actors/apiserver/admission/webhook-client.js';

/** The call's failure (it must fail). */
const failureOf = (promise: Promise<unknown>): Promise<Error> =>
  promise.then(() => { throw new Error('the webhook call succeeded'); }, (error: unknown) => error as Error);

describe('webhook call errors', () => {
  it('say "failed calling webhook <name>" and the kind of failure, without the address', async () => {
    const port = await freePort();
    const error = await failureOf(callWebhook({ name: 'guard.example', clientConfig: { url: `https://127.0.0.1:${port}/review` } }, 'u1', {}));
    expect(error.message).toBe('failed calling webhook "guard.example": connection refused');
    expect(error.message).not.toContain(String(port));
  });

  it('a TLS failure names the certificate problem, not the peer', async () => {
    // A plain TCP server that hangs up: the TLS handshake fails.
    const server = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    try {
      const error = await failureOf(callWebhook({ name: 'tls.example', clientConfig: { url: `https://127.0.0.1:${port}/` } }, 'u1', {}));
      expect(error.message).toMatch(/^failed calling webhook "tls\.example": the connection (was reset|failed)/);
      expect(error.message).not.toContain('127.0.0.1');
      expect(error.message).not.toContain(String(port));
    } finally {
      server.close();
    }
  });

  it('maps socket error codes to words', () => {
    const coded = (code: string): Error => Object.assign(new Error(`connect ${code} 10.1.2.3:8443`), { code });
    expect(networkReason(coded('ENOTFOUND'))).toBe('the host name did not resolve');
    expect(networkReason(coded('EHOSTUNREACH'))).toBe('the host is unreachable');
    expect(networkReason(coded('DEPTH_ZERO_SELF_SIGNED_CERT'))).toBe('the server\'s certificate is not trusted (DEPTH_ZERO_SELF_SIGNED_CERT)');
    expect(networkReason(coded('EWEIRD 10.1.2.3'))).toBe('the connection failed (EWEIRD10123)');
    expect(networkReason(new Error('connect to 10.1.2.3'))).toBe('the connection failed');
  });
});
