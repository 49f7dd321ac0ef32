/**
 * What this proves: gRPC probes call `grpc.health.v1.Health/Check` over cleartext HTTP/2 as the
 * kubelet does: SERVING is a success, NOT_SERVING a failure naming the status, a non-zero
 * grpc-status and a refused connection are failures, and a server that never answers times out on
 * the clock. How: a real HTTP/2 server on 127.0.0.1 answering the health protocol by hand
 * (framing + the one protobuf field), per requested service name.
 */
import http2 from 'node:http2';
import type net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimulatedClock, SystemClock } from '../../../bus/clock.js';
import type { ContainerRuntime } from '../../../nodeagent/runtime/types.js';
import { healthCheckRequest, healthCheckStatus, runGrpcAction, type ActionContext } from '../../../nodeagent/probes/index.js';

let server: http2.Http2Server;
let port = 0;

/** HealthCheckResponse{status} framed. */
function response(status: number): Buffer {
  return Buffer.from([0, 0, 0, 0, 2, 0x08, status]);
}

/** The service name out of a framed HealthCheckRequest. */
function serviceOf(frame: Buffer): string {
  return frame.length > 7 ? frame.subarray(7).toString('utf8') : '';
}

beforeAll(async () => {
  server = http2.createServer();
  server.on('stream', (stream) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => {
      const service = serviceOf(Buffer.concat(chunks));
      if (service === 'hang') return;
      if (service === 'broken') {
        stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '12' }, { endStream: true });
        return;
      }
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(response(service === 'down' ? 2 : 1));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as net.AddressInfo).port;
});

afterAll(() => {
  server.close();
});

function context(overrides: Partial<ActionContext> = {}): ActionContext {
  return { runtime: {} as ContainerRuntime, clock: new SystemClock(), containerId: 'c', container: { name: 'app' }, podIp: '127.0.0.1', timeoutMs: 2_000, ...overrides };
}

describe('grpc health probe', () => {
  it('frames the request and reads the status', () => {
    expect(healthCheckRequest('')).toEqual(Buffer.from([0, 0, 0, 0, 0]));
    expect(healthCheckRequest('db')).toEqual(Buffer.from([0, 0, 0, 0, 4, 0x0a, 2, 0x64, 0x62]));
    expect(healthCheckStatus(response(1))).toBe(1);
    expect(healthCheckStatus(Buffer.from([0, 0, 0, 0, 0]))).toBe(0);
  });

  it('succeeds on SERVING and fails on NOT_SERVING or a grpc error', async () => {
    expect(await runGrpcAction({ port }, context())).toEqual({ outcome: 'success', message: '' });
    expect(await runGrpcAction({ port, service: 'down' }, context())).toEqual({ outcome: 'failure', message: 'service unhealthy (responded with "NOT_SERVING")' });
    expect((await runGrpcAction({ port, service: 'broken' }, context())).message).toContain('grpc-status 12');
  });

  it('fails on a refused connection and times out on the clock', async () => {
    const closed = http2.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    expect((await runGrpcAction({ port: closedPort }, context())).message).toContain('ECONNREFUSED');
    const clock = new SimulatedClock();
    const pending = runGrpcAction({ port, service: 'hang' }, context({ clock, timeoutMs: 1_000 }));
    clock.advance(1_000);
    expect((await pending).message).toContain('did not complete within 1000 ms');
  });
});
