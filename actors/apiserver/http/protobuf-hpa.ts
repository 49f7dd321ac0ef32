/**
 * `kubectl autoscale` (1.32) POSTs an autoscaling/v1 HorizontalPodAutoscaler as Kubernetes
 * protobuf (`application/vnd.kubernetes.protobuf`, K8S-STREAMING.md §1), not JSON. This reads
 * that one message out of the `k8s\0` envelope (k8s.io/api/autoscaling/v1/generated.proto and
 * ObjectMeta of apimachinery's meta/v1) into its JSON form; the object then goes through the
 * ordinary create path (defaults, v1 → v2 conversion, admission, validation).
 *
 * Decision: a self-written reader of the fields kubectl sets, not a protobuf library with the
 * 65 .proto files: the one message is small, and every other protobuf body keeps its 415 with
 * the way around it. Go writes non-pointer fields always (`""`, 0): empty strings are dropped;
 * the pointer fields (minReplicas, targetCPUUtilizationPercentage) are kept when present, 0 included.
 */
import type { IncomingMessage } from 'node:http';
import { apiErrors } from '../status.js';
import type { KubeObject } from '../types.js';
import { protobufMediaType, readBodyBytes, requestMediaType } from './io.js';

const envelopeMagic = Buffer.from([0x6b, 0x38, 0x73, 0x00]);
/** Fields read from one message: the body size is bounded already, this bounds the maps a crafted body builds. */
const fieldsPerMessageMax = 10_000;

type Value = Buffer | number;
type Fields = Map<number, Value[]>;

function decode(buffer: Buffer): Fields {
  const fields: Fields = new Map();
  let offset = 0;
  let count = 0;
  const varint = (): number => {
    let result = 0;
    for (let shift = 0; shift <= 63; shift += 7) {
      const byte = buffer[offset++];
      if (byte === undefined) throw apiErrors.badRequest('protobuf body: truncated varint');
      // Above 2^53 precision is lost; the fields read here are int32 and small int64s.
      result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return result;
    }
    throw apiErrors.badRequest('protobuf body: varint too long');
  };
  while (offset < buffer.length) {
    if (++count > fieldsPerMessageMax) throw apiErrors.badRequest('protobuf body: too many fields');
    const tag = varint();
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    let value: Value;
    if (wire === 0) value = varint();
    else if (wire === 2) {
      const length = varint();
      if (offset + length > buffer.length) throw apiErrors.badRequest('protobuf body: truncated field');
      value = buffer.subarray(offset, offset + length);
      offset += length;
    } else if (wire === 1) { value = 0; offset += 8; } else if (wire === 5) { value = 0; offset += 4; } else {
      throw apiErrors.badRequest(`protobuf body: unsupported wire type ${wire}`);
    }
    const list = fields.get(field) ?? [];
    list.push(value);
    fields.set(field, list);
  }
  return fields;
}

const first = (fields: Fields, field: number): Value | undefined => fields.get(field)?.[0];
const bytesOf = (fields: Fields, field: number): Buffer | undefined => {
  const value = first(fields, field);
  return Buffer.isBuffer(value) ? value : undefined;
};
const textOf = (fields: Fields, field: number): string => bytesOf(fields, field)?.toString('utf8') ?? '';
const messageOf = (fields: Fields, field: number): Fields | undefined => {
  const value = bytesOf(fields, field);
  return value === undefined ? undefined : decode(value);
};
/** An int32 as a varint: negative values arrive as 64-bit two's complement. */
const int32Of = (fields: Fields, field: number): number | undefined => {
  const value = first(fields, field);
  if (typeof value !== 'number') return undefined;
  return value >= 2 ** 63 ? value - 2 ** 64 : value;
};

function stringMap(fields: Fields, field: number): Record<string, string> | undefined {
  const entries = (fields.get(field) ?? []).filter(Buffer.isBuffer).map((entry) => decode(entry));
  if (entries.length === 0) return undefined;
  return Object.fromEntries(entries.map((entry) => [textOf(entry, 1), textOf(entry, 2)]));
}

function nonEmpty(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== '' && value !== undefined));
}

/** ObjectMeta as a create carries it (1 name, 2 generateName, 3 namespace, 11 labels, 12 annotations, 14 finalizers). */
function objectMeta(fields: Fields | undefined): Record<string, unknown> {
  if (fields === undefined) return {};
  const finalizers = (fields.get(14) ?? []).filter(Buffer.isBuffer).map((value) => value.toString('utf8'));
  return nonEmpty({
    name: textOf(fields, 1), generateName: textOf(fields, 2), namespace: textOf(fields, 3),
    labels: stringMap(fields, 11), annotations: stringMap(fields, 12), finalizers: finalizers.length > 0 ? finalizers : undefined,
  });
}

/** The autoscaling/v1 HorizontalPodAutoscaler in a protobuf body, as its JSON form. */
export function decodeHpaV1Protobuf(body: Buffer): KubeObject {
  if (!body.subarray(0, envelopeMagic.length).equals(envelopeMagic)) throw apiErrors.badRequest('protobuf body: missing the k8s envelope');
  const envelope = decode(body.subarray(envelopeMagic.length));
  const typeMeta = messageOf(envelope, 1);
  const raw = bytesOf(envelope, 2);
  if (raw === undefined) throw apiErrors.badRequest('protobuf body: empty envelope');
  const object = decode(raw);
  const spec = messageOf(object, 2) ?? new Map();
  const target = messageOf(spec, 1) ?? new Map();
  const minReplicas = int32Of(spec, 2);
  const targetCpu = int32Of(spec, 4);
  return {
    // runtime.TypeMeta in the envelope: 1 apiVersion, 2 kind (meta/v1 TypeMeta numbers them the other way).
    apiVersion: (typeMeta !== undefined ? textOf(typeMeta, 1) : '') || 'autoscaling/v1',
    kind: (typeMeta !== undefined ? textOf(typeMeta, 2) : '') || 'HorizontalPodAutoscaler',
    metadata: objectMeta(messageOf(object, 1)),
    spec: {
      scaleTargetRef: nonEmpty({ kind: textOf(target, 1), name: textOf(target, 2), apiVersion: textOf(target, 3) }),
      ...(minReplicas !== undefined ? { minReplicas } : {}),
      maxReplicas: int32Of(spec, 3) ?? 0,
      ...(targetCpu !== undefined ? { targetCPUUtilizationPercentage: targetCpu } : {}),
    },
  } as KubeObject;
}

/**
 * The create handler's hook: the object of a protobuf autoscaling/v1 HPA create, read from the
 * raw body; undefined for every other request, whose body the handler reads as before (and
 * whose protobuf keeps its 415).
 */
export async function protobufHpaCreateBody(req: IncomingMessage, route: { readonly group: string; readonly version: string; readonly resource: string }, limitBytes: number): Promise<KubeObject | undefined> {
  if (requestMediaType(req) !== protobufMediaType) return undefined;
  if (route.group !== 'autoscaling' || route.version !== 'v1' || route.resource !== 'horizontalpodautoscalers') return undefined;
  return decodeHpaV1Protobuf(await readBodyBytes(req, limitBytes));
}
