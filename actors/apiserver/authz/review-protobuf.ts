/**
 * kubectl 1.32 posts SelfSubjectAccessReview and SelfSubjectRulesReview as Kubernetes protobuf
 * (`application/vnd.kubernetes.protobuf`), not JSON. This reads just the spec fields those reviews
 * carry (k8s.io/api/authorization/v1/generated.proto) out of the `k8s\0` envelope; the answer
 * goes back as JSON, which the client accepts. Anything unreadable is a 400.
 */
import { apiErrors } from '../status.js';

export const protobufMediaType = 'application/vnd.kubernetes.protobuf';
const envelopeMagic = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

type Fields = Map<number, (Buffer | number)[]>;

function decode(buffer: Buffer): Fields {
  const fields: Fields = new Map();
  let offset = 0;
  const varint = (): number => {
    let result = 0;
    let shift = 0;
    for (;;) {
      const byte = buffer[offset++];
      if (byte === undefined) throw apiErrors.badRequest('protobuf body: truncated varint');
      result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7;
      if (shift > 49) throw apiErrors.badRequest('protobuf body: varint too long');
    }
  };
  while (offset < buffer.length) {
    const tag = varint();
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    let value: Buffer | number;
    if (wire === 0) value = varint();
    else if (wire === 2) {
      const length = varint();
      if (offset + length > buffer.length) throw apiErrors.badRequest('protobuf body: truncated field');
      value = buffer.subarray(offset, offset + length);
      offset += length;
    } else if (wire === 1) { value = 0; offset += 8; } else if (wire === 5) { value = 0; offset += 4; } else throw apiErrors.badRequest(`protobuf body: unsupported wire type ${wire}`);
    const list = fields.get(field) ?? [];
    list.push(value);
    fields.set(field, list);
  }
  return fields;
}

function bytes(fields: Fields, field: number): Buffer | null {
  const value = fields.get(field)?.[0];
  return Buffer.isBuffer(value) ? value : null;
}

function text(fields: Fields, field: number): string {
  return bytes(fields, field)?.toString('utf8') ?? '';
}

function message(fields: Fields, field: number): Fields | null {
  const value = bytes(fields, field);
  return value === null ? null : decode(value);
}

/** The review's `spec` as its JSON form would carry it. */
export function decodeReviewSpec(body: Buffer, kind: string): Record<string, unknown> {
  if (!body.subarray(0, envelopeMagic.length).equals(envelopeMagic)) throw apiErrors.badRequest('protobuf body: missing the k8s envelope');
  const raw = bytes(decode(body.subarray(envelopeMagic.length)), 2);
  if (raw === null) throw apiErrors.badRequest('protobuf body: empty envelope');
  const spec = message(decode(raw), 2) ?? new Map();
  if (kind === 'SelfSubjectRulesReview') return { namespace: text(spec, 1) };
  const resource = message(spec, 1);
  const nonResource = message(spec, 2);
  if (resource !== null) {
    const names = ['namespace', 'verb', 'group', 'version', 'resource', 'subresource', 'name'];
    return { resourceAttributes: Object.fromEntries(names.map((name, i) => [name, text(resource, i + 1)])) };
  }
  if (nonResource !== null) return { nonResourceAttributes: { path: text(nonResource, 1), verb: text(nonResource, 2) } };
  return {};
}

