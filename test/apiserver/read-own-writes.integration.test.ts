/**
 * A client reads its own writes through one API server, also when that server's member is a Raft
 * follower that has not yet heard its write committed (store/revision-wait.ts): a ServiceAccount
 * created and at once named by a pod, 60 times, is found by admission every time. Before the
 * store client carried its last revision on serializable reads, 6 of 60 such pods were refused
 * 403 "serviceaccount not found" on this machine (and CI failed on one, 2026-12-03).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callAs, startApiHarness, type ApiHarness } from './harness.js';

let h: ApiHarness;
beforeAll(async () => { h = await startApiHarness(); }, 120_000);
afterAll(async () => { await h?.stop(); });

const call = (method: string, path: string, body?: unknown) => callAs(h, method, path, { token: h.token, ...(body !== undefined ? { body } : {}) });

describe('read your own writes through one API server', () => {
  it('admission finds a ServiceAccount created just before, every time', async () => {
    const answers: string[] = [];
    for (let i = 0; i < 60; i++) {
      const account = await call('POST', '/api/v1/namespaces/default/serviceaccounts', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: `robot-${i}` }, automountServiceAccountToken: false });
      expect(account.status).toBe(201);
      const pod = await call('POST', '/api/v1/namespaces/default/pods', {
        apiVersion: 'v1', kind: 'Pod', metadata: { name: `robot-pod-${i}` }, spec: { serviceAccountName: `robot-${i}`, containers: [{ name: 'c', image: 'busybox' }] },
      });
      if (pod.status !== 201) answers.push(`${i}: ${pod.status} ${String(pod.json['message'])}`);
    }
    expect(answers).toEqual([]);
  });
});
