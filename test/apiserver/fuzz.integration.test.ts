/**
 * Bad input, fuzzed: valid objects of every kind, mutated by a seeded generator (fields removed,
 * values of the wrong type, bad names, out-of-range numbers, deep nesting), are created over
 * HTTPS. No answer may be a 5xx; a 422 must name the offending fields in `causes`; an object the
 * server accepts (201) must read back. A failure prints the seed and the mutation to replay it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Prng } from '../../bus/index.js';
import type { KubeObject } from '../../actors/apiserver/types.js';
import type { ResourceInfo } from '../../actors/apiserver/registry/resources.js';
import { requireComponent } from '../support/components.js';
import { validObjects } from './object-fixtures.js';
import { startApiHarness, type ApiHarness } from './harness.js';

const runs = requireComponent('nats-server', 'apt-get install -y nats-server');
const seed = Number(process.env['KUBUS_FUZZ_SEED'] ?? 20261128);
/** Mutated objects per run: enough to reach every kind many times, a few seconds of requests. */
const cases = 400;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function collectionPath(info: ResourceInfo): string {
  const base = info.group === '' ? `/api/${info.version}` : `/apis/${info.group}/${info.version}`;
  return info.namespaced ? `${base}/namespaces/default/${info.resource}` : `${base}/${info.resource}`;
}

/** Every path to a value in `value`, as key lists. */
function paths(value: Json, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  if (value !== null && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      const path = [...prefix, Array.isArray(value) ? Number(key) : key];
      out.push(path);
      paths(child as Json, path, out);
    }
  }
  return out;
}

const oddValues: Json[] = [
  null, true, -1, 0, 1e300, 2 ** 53 + 1, 3.5, '', 'UPPER_case name', 'x'.repeat(300), '../../etc', '\u0000', [], [1, 'a', null], {},
  { nested: { deeper: { deepest: [[[[[]]]]] } } },
];

function mutate(object: KubeObject, random: Prng): { object: Json; description: string } {
  const copy = structuredClone(object) as unknown as { [key: string]: Json };
  const candidates = paths(copy).filter((p) => p[0] !== 'apiVersion' && p[0] !== 'kind');
  const steps: string[] = [];
  const count = random.between(1, 3);
  for (let i = 0; i < count && candidates.length > 0; i++) {
    const path = random.pick(candidates);
    const parentPath = path.slice(0, -1);
    let parent: Json = copy;
    // An earlier step may have replaced an ancestor: then this path no longer exists.
    for (const key of parentPath) parent = parent !== null && typeof parent === 'object' ? (parent as { [key: string]: Json })[key as string] ?? null : null;
    if (parent === null || typeof parent !== 'object') continue;
    const key = path[path.length - 1] as string;
    const container = parent as { [key: string]: Json };
    if (random.chance(0.3)) {
      delete container[key];
      steps.push(`delete ${path.join('.')}`);
    } else {
      const value = random.pick(oddValues);
      container[key] = structuredClone(value);
      steps.push(`${path.join('.')} = ${JSON.stringify(value).slice(0, 40)}`);
    }
  }
  return { object: copy, description: steps.join('; ') };
}

describe.runIf(runs)('fuzzed invalid objects', () => {
  let h: ApiHarness;

  beforeAll(async () => {
    // One member: this suite is about the request pipeline, not replication.
    h = await startApiHarness({ members: 1 });
  });

  afterAll(async () => {
    await h?.stop();
  });

  it(`never answers 5xx, names fields in 422 causes, and reads back what it accepts (seed ${seed}, ${cases} cases)`, async () => {
    const random = new Prng(seed);
    const fixtures = validObjects().filter(([info]) => info.resource !== 'namespaces');
    const failures: string[] = [];
    const codes = new Map<number, number>();
    for (let i = 0; i < cases; i++) {
      const [info, valid] = random.pick(fixtures);
      const { object, description } = mutate({ ...valid, metadata: { ...valid.metadata, name: `fz-${i}` } }, random);
      const reply = await h.request('POST', collectionPath(info), { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(object) });
      codes.set(reply.status, (codes.get(reply.status) ?? 0) + 1);
      const where = `case ${i} ${info.kind} [${description}] → ${reply.status}`;
      if (reply.status >= 500) failures.push(`${where}: ${reply.body.slice(0, 200)}`);
      if (reply.status === 422) {
        const causes = (JSON.parse(reply.body) as { details?: { causes?: { field?: string }[] } }).details?.causes ?? [];
        if (causes.length === 0 || causes.some((c) => typeof c.field !== 'string' || c.field === '')) failures.push(`${where}: 422 without field causes: ${reply.body.slice(0, 200)}`);
      }
      if (reply.status === 201) {
        const name = (JSON.parse(reply.body) as KubeObject).metadata.name;
        const read = await h.request('GET', `${collectionPath(info)}/${name}`);
        if (read.status !== 200) failures.push(`${where}: accepted but reads back ${read.status}`);
      }
    }
    console.info(`fuzz seed ${seed}: ${[...codes].sort(([a], [b]) => a - b).map(([code, n]) => `${code}×${n}`).join(' ')}`);
    expect(failures).toEqual([]);
    // The generator must mostly produce invalid objects, or the suite tests nothing.
    expect((codes.get(422) ?? 0) + (codes.get(400) ?? 0)).toBeGreaterThan(cases / 4);
  });
});
