/**
 * `kubectl autoscale`'s protobuf body (autoscaling/v1 HorizontalPodAutoscaler in the `k8s\0`
 * envelope) read into its JSON form. The bodies are encoded here field by field as Go's
 * generated marshaller writes them (non-pointer fields always, "" included; pointers when set).
 */
import { describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import { decodeHpaV1Protobuf, protobufHpaCreateBody } from '../../../actors/apiserver/http/protobuf-hpa.js';

const varint = (value: number): number[] => {
  const out: number[] = [];
  let rest = value;
  while (rest >= 0x80) { out.push((rest % 0x80) | 0x80); rest = Math.floor(rest / 0x80); }
  out.push(rest);
  return out;
};
const int = (field: number, value: number): number[] => [...varint(field * 8), ...varint(value)];
const bytes = (field: number, payload: number[] | string): number[] => {
  const data = typeof payload === 'string' ? [...Buffer.from(payload)] : payload;
  return [...varint(field * 8 + 2), ...varint(data.length), ...data];
};

function kubectlAutoscaleBody(options: { min?: number; cpu?: number }): Buffer {
  const meta = [...bytes(1, 'web'), ...bytes(2, ''), ...bytes(3, ''), ...bytes(11, [...bytes(1, 'app'), ...bytes(2, 'web')])];
  const target = [...bytes(1, 'Deployment'), ...bytes(2, 'web'), ...bytes(3, 'apps/v1')];
  const spec = [...bytes(1, target), ...(options.min !== undefined ? int(2, options.min) : []), ...int(3, 4), ...(options.cpu !== undefined ? int(4, options.cpu) : [])];
  const status = [...int(3, 0), ...int(4, 0)];
  const object = [...bytes(1, meta), ...bytes(2, spec), ...bytes(3, status)];
  const typeMeta = [...bytes(1, 'autoscaling/v1'), ...bytes(2, 'HorizontalPodAutoscaler')];
  return Buffer.from([0x6b, 0x38, 0x73, 0x00, ...bytes(1, typeMeta), ...bytes(2, object), ...bytes(3, ''), ...bytes(4, '')]);
}

/** `kubectl autoscale deployment web --min=2 --max=5 --cpu-percent=60` (kubectl 1.32.4), captured with -v=8. */
const captured = Buffer.from([
  '6b 38 73 00 0a 29 0a 0e  61 75 74 6f 73 63 61 6c',
  '69 6e 67 2f 76 31 12 17  48 6f 72 69 7a 6f 6e 74',
  '61 6c 50 6f 64 41 75 74  6f 73 63 61 6c 65 72 12',
  '3f 0a 13 0a 03 77 65 62  12 00 1a 00 22 00 2a 00',
  '32 00 38 00 42 00 12 22  0a 1a 0a 0a 44 65 70 6c',
  '6f 79 6d 65 6e 74 12 03  77 65 62 1a 07 61 70 70',
  '73 2f 76 31 10 02 18 05  20 3c 1a 04 18 00 20 00',
  '1a 00 22 00',
].join(' ').replace(/\s+/g, ''), 'hex');

describe('decodeHpaV1Protobuf', () => {
  it('reads the body kubectl 1.32 sent', () => {
    expect(decodeHpaV1Protobuf(captured)).toEqual({
      apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: { name: 'web' },
      spec: { scaleTargetRef: { kind: 'Deployment', name: 'web', apiVersion: 'apps/v1' }, minReplicas: 2, maxReplicas: 5, targetCPUUtilizationPercentage: 60 },
    });
  });
  it('reads what kubectl autoscale --min=1 --max=4 --cpu-percent=50 sends', () => {
    expect(decodeHpaV1Protobuf(kubectlAutoscaleBody({ min: 1, cpu: 50 }))).toEqual({
      apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'web', labels: { app: 'web' } },
      spec: { scaleTargetRef: { kind: 'Deployment', name: 'web', apiVersion: 'apps/v1' }, minReplicas: 1, maxReplicas: 4, targetCPUUtilizationPercentage: 50 },
    });
  });
  it('leaves unset pointer fields out and keeps a 0', () => {
    const decoded = decodeHpaV1Protobuf(kubectlAutoscaleBody({ min: 0 })) as unknown as { spec: Record<string, unknown> };
    expect(decoded.spec).toEqual({ scaleTargetRef: { kind: 'Deployment', name: 'web', apiVersion: 'apps/v1' }, minReplicas: 0, maxReplicas: 4 });
  });
  it('refuses a body that is not the envelope or is cut short', () => {
    expect(() => decodeHpaV1Protobuf(Buffer.from('{"kind":"x"}'))).toThrow(/missing the k8s envelope/);
    const body = kubectlAutoscaleBody({ min: 1 });
    expect(() => decodeHpaV1Protobuf(body.subarray(0, body.length - 20))).toThrow(/truncated/);
  });
  it('the create hook takes only protobuf autoscaling/v1 HPA creates', async () => {
    const request = (contentType: string): IncomingMessage => Object.assign(Readable.from([captured]), { headers: { 'content-type': contentType } }) as unknown as IncomingMessage;
    const hpaV1 = { group: 'autoscaling', version: 'v1', resource: 'horizontalpodautoscalers' };
    expect((await protobufHpaCreateBody(request('application/vnd.kubernetes.protobuf'), hpaV1, 1 << 20))?.metadata).toEqual({ name: 'web' });
    expect(await protobufHpaCreateBody(request('application/json'), hpaV1, 1 << 20)).toBeUndefined();
    expect(await protobufHpaCreateBody(request('application/vnd.kubernetes.protobuf'), { ...hpaV1, version: 'v2' }, 1 << 20)).toBeUndefined();
    expect(await protobufHpaCreateBody(request('application/vnd.kubernetes.protobuf'), { group: '', version: 'v1', resource: 'configmaps' }, 1 << 20)).toBeUndefined();
  });
});
