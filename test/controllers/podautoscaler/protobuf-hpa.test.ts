/**
 * `kubectl autoscale`'s protobuf body (autoscaling/v1 HorizontalPodAutoscaler in the `k8s\0`
 * envelope) read into its JSON form. The bodies are encoded here field by field as Go's
 * generated marshaller writes them (non-pointer fields always, "" included; pointers when set).
 */
import { describe, expect, it } from 'vitest';
import { decodeHpaV1Protobuf } from '../../../actors/apiserver/http/protobuf-hpa.js';

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

describe('decodeHpaV1Protobuf', () => {
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
});
