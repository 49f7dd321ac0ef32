/**
 * One ConfigMap create through the harness, timed on the test's clock: the quorum and partition
 * suites judge when each write was started and answered, and with what.
 */
import type { ApiHarness } from './harness.js';

export interface WriteOutcome {
  readonly name: string;
  readonly startedMs: number;
  readonly endedMs: number;
  readonly status: number;
  readonly message: string;
}

export async function timedCreate(h: ApiHarness, name: string): Promise<WriteOutcome> {
  const startedMs = Date.now();
  const reply = await h.request('POST', '/api/v1/namespaces/default/configmaps', {
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { n: name } }),
  });
  const message = reply.status >= 400 ? String((JSON.parse(reply.body) as { message?: string }).message) : '';
  return { name, startedMs, endedMs: Date.now(), status: reply.status, message };
}
