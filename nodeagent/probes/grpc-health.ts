/**
 * gRPC probes (`probe.grpc`): one call of the standard health service
 * `grpc.health.v1.Health/Check` over cleartext HTTP/2, as the kubelet makes it; healthy when the
 * answer is SERVING.
 *
 * Decision: spoken directly on `node:http2` instead of adding a gRPC dependency: the call is one
 * unary request whose messages have a single field each (HealthCheckRequest.service = 1, string;
 * HealthCheckResponse.status = 1, enum), so framing (1 flag byte + 4 length bytes) and those two
 * protobuf fields are all there is to it.
 */
import http2 from 'node:http2';
import type { GRPCAction } from 'kubernetes-types/core/v1.js';
import type { ActionContext, ActionResult } from './probe-actions.js';
import { withTimeout } from './timeout.js';

const servingStatuses = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'] as const;

/** A length-prefixed gRPC message holding HealthCheckRequest{service}. */
export function healthCheckRequest(service: string): Buffer {
  const name = Buffer.from(service, 'utf8');
  const body = name.length === 0 ? Buffer.alloc(0) : Buffer.concat([Buffer.from([0x0a]), varint(name.length), name]);
  const header = Buffer.alloc(5);
  header.writeUInt32BE(body.length, 1);
  return Buffer.concat([header, body]);
}

function varint(value: number): Buffer {
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    bytes.push((rest & 0x7f) | 0x80);
    rest >>>= 7;
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

/** HealthCheckResponse.status from a length-prefixed message (0, UNKNOWN, when the field is absent). */
export function healthCheckStatus(frame: Buffer): number | undefined {
  if (frame.length < 5) return undefined;
  const body = frame.subarray(5, 5 + frame.readUInt32BE(1));
  for (let index = 0; index < body.length;) {
    const tag = body[index] ?? 0;
    index += 1;
    let value = 0;
    let shift = 0;
    for (;;) {
      const byte = body[index] ?? 0;
      index += 1;
      value += (byte & 0x7f) * 2 ** shift;
      shift += 7;
      if ((byte & 0x80) === 0 || index >= body.length) break;
    }
    if (tag === 0x08) return value;
    // Only varint fields are expected; anything else means the answer is not a HealthCheckResponse.
    if ((tag & 0x07) !== 0) return undefined;
  }
  return 0;
}

export function runGrpcAction(action: GRPCAction, context: ActionContext): Promise<ActionResult> {
  const host = context.podIp;
  if (host === null) return Promise.resolve({ outcome: 'failure', message: 'the pod has no IP yet' });
  const authority = `${host.includes(':') ? `[${host}]` : host}:${action.port}`;
  return withTimeout(context.clock, context.timeoutMs, (settle) => {
    const session = http2.connect(`http://${authority}`);
    session.on('error', (error) => settle({ outcome: 'failure', message: `failed to connect service "${authority}": ${error.message}` }));
    const call = session.request({ ':method': 'POST', ':path': '/grpc.health.v1.Health/Check', 'content-type': 'application/grpc', te: 'trailers' });
    const chunks: Buffer[] = [];
    let grpcStatus: string | undefined;
    call.on('response', (headers) => {
      // A trailers-only answer carries grpc-status in the headers.
      if (headers['grpc-status'] !== undefined) grpcStatus = String(headers['grpc-status']);
    });
    call.on('trailers', (trailers) => {
      grpcStatus = String(trailers['grpc-status'] ?? grpcStatus ?? '');
    });
    call.on('data', (chunk: Buffer) => chunks.push(chunk));
    call.on('error', (error) => settle({ outcome: 'failure', message: `health rpc failed: ${error.message}` }));
    call.on('end', () => {
      if (grpcStatus !== '0') {
        settle({ outcome: 'failure', message: `health rpc failed with grpc-status ${grpcStatus ?? 'none'}` });
        return;
      }
      const status = healthCheckStatus(Buffer.concat(chunks));
      const name = status === undefined ? 'an unreadable answer' : servingStatuses[status] ?? String(status);
      settle(status === 1 ? { outcome: 'success', message: '' } : { outcome: 'failure', message: `service unhealthy (responded with "${name}")` });
    });
    call.end(healthCheckRequest(action.service ?? ''));
    return () => session.destroy();
  }, () => ({ outcome: 'failure', message: `timeout: health rpc did not complete within ${context.timeoutMs} ms` }));
}
