/**
 * The chain around the plugins, on a fake object storage: the order (mutating webhooks before
 * validation and quota, validating webhooks see the final object), the webhook configuration cache
 * following its watch, and the bound on concurrent webhook calls.
 */
import { describe, expect, it } from 'vitest';
import { AdmissionChain, CallSlots, type AdmissionResponse, type WebhookSpec } from '../../actors/apiserver/admission/index.js';
import type { AdmissionRequest } from '../../actors/apiserver/http/admission.js';
import type { ObjectStorage, WatchSink } from '../../actors/apiserver/http/objects-port.js';
import { findResource, type ResourceInfo } from '../../actors/apiserver/registry/resources.js';
import { ApiError, apiErrors } from '../../actors/apiserver/status.js';
import type { KubeObject } from '../../actors/apiserver/types.js';
import type { Logger } from '../../bus/index.js';
import { waitUntil } from '../support/wait.js';

const silent: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, child: () => silent };
const pods = findResource('', 'v1', 'pods') as ResourceInfo;

/** Objects by `resource/namespace`; watches on webhook configurations get the events `emit` sends. */
class FakeStorage {
  readonly items = new Map<string, KubeObject[]>();
  readonly sinks = new Map<string, WatchSink>();
  put(resource: string, namespace: string | null, object: KubeObject): void {
    const key = `${resource}/${namespace ?? ''}`;
    this.items.set(key, [...(this.items.get(key) ?? []), object]);
  }
  readonly port: ObjectStorage = {
    get: async (info, namespace, name) => {
      const found = (this.items.get(`${info.resource}/${namespace ?? ''}`) ?? []).find((o) => o.metadata.name === name);
      if (found === undefined) throw apiErrors.notFound(info.resource, info.group, name);
      return found;
    },
    list: async (info, namespace) => ({ items: this.items.get(`${info.resource}/${namespace ?? ''}`) ?? [], resourceVersion: '1' }),
    watch: async (info, _namespace, _opts, sink) => { this.sinks.set(info.resource, sink); return { stop: () => this.sinks.delete(info.resource) }; },
    create: async () => { throw new Error('unused'); },
    update: async () => { throw new Error('unused'); },
    guaranteedUpdate: async () => { throw new Error('unused'); },
    delete: async () => { throw new Error('unused'); },
    deleteCollection: async () => { throw new Error('unused'); },
  };
}

const pod = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'ns' }, spec: { containers: [{ name: 'c', image: 'nginx:1.27' }] } });
const configuration = (kind: string, name: string, webhooks: WebhookSpec[]): KubeObject =>
  ({ apiVersion: 'admissionregistration.k8s.io/v1', kind, metadata: { name }, webhooks } as unknown as KubeObject);
const hook = (name: string): WebhookSpec => ({
  name, sideEffects: 'None', clientConfig: { url: 'https://127.0.0.1:1/' }, rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }],
});
const create = (object: KubeObject, dryRun = false): AdmissionRequest =>
  ({ info: pods, operation: 'CREATE', user: { name: 'admin', uid: '1', groups: ['system:masters'] }, namespace: 'ns', name: object.metadata.name ?? null, subresource: null, object, old: null, dryRun });

describe('AdmissionChain', () => {
  it('runs mutating webhooks before validation and quota, and validating webhooks on the final object', async () => {
    const storage = new FakeStorage();
    storage.put('namespaces', null, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ns' }, status: { phase: 'Active' } });
    storage.put('mutatingwebhookconfigurations', null, configuration('MutatingWebhookConfiguration', 'm', [hook('label.test')]));
    storage.put('validatingwebhookconfigurations', null, configuration('ValidatingWebhookConfiguration', 'v', [hook('check.test')]));
    const seen: { webhook: string; labels: unknown; dryRun: boolean }[] = [];
    const chain = new AdmissionChain({
      objects: storage.port, logger: silent,
      call: async (webhook, uid, review): Promise<AdmissionResponse> => {
        const request = (review as { request: { object: KubeObject; dryRun: boolean } }).request;
        seen.push({ webhook: webhook.name, labels: request.object.metadata.labels, dryRun: request.dryRun });
        if (webhook.name === 'label.test') {
          return { uid, allowed: true, patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify([{ op: 'add', path: '/metadata/labels', value: { team: 'a' } }])).toString('base64') };
        }
        return { uid, allowed: true };
      },
    }).start();
    const out = await chain.admit(create(pod('p'), true));
    expect(out?.metadata.labels).toEqual({ team: 'a' });
    // Defaulting ran too (the pod spec gets its restartPolicy).
    expect((out?.['spec'] as { restartPolicy?: string }).restartPolicy).toBe('Always');
    expect(seen).toEqual([{ webhook: 'label.test', labels: undefined, dryRun: true }, { webhook: 'check.test', labels: { team: 'a' }, dryRun: true }]);

    // A quota counted after mutation refuses the next pod; the validating webhook is then never called.
    storage.put('resourcequotas', 'ns', { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'one-pod' }, spec: { hard: { pods: '1' } } });
    storage.put('pods', 'ns', pod('existing'));
    seen.length = 0;
    const refused = await chain.admit(create(pod('q'))).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ApiError);
    expect((refused as ApiError).message).toContain('exceeded quota: one-pod');
    expect(seen.map((s) => s.webhook)).toEqual(['label.test']);
    chain.stop();
  });

  it('follows webhook configurations through the watch', async () => {
    const storage = new FakeStorage();
    storage.put('namespaces', null, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ns' } });
    const called: string[] = [];
    const chain = new AdmissionChain({
      objects: storage.port, logger: silent,
      call: async (webhook, uid) => { called.push(webhook.name); return { uid, allowed: false, status: { message: 'no' } }; },
    }).start();
    expect(await chain.admit(create(pod('p')))).not.toBeNull();
    await waitUntil('the validating watch', () => storage.sinks.has('validatingwebhookconfigurations'), { timeoutMs: 2_000 });
    storage.sinks.get('validatingwebhookconfigurations')?.event({ type: 'ADDED', object: configuration('ValidatingWebhookConfiguration', 'v', [hook('deny.test')]) });
    await expect(chain.admit(create(pod('p')))).rejects.toThrow('admission webhook "deny.test" denied the request: no');
    storage.sinks.get('validatingwebhookconfigurations')?.event({ type: 'DELETED', object: configuration('ValidatingWebhookConfiguration', 'v', []) });
    expect(await chain.admit(create(pod('p')))).not.toBeNull();
    expect(called).toEqual(['deny.test']);
    chain.stop();
  });
});

describe('CallSlots', () => {
  it('bounds calls in flight and refuses with 429 beyond the queue', async () => {
    const slots = new CallSlots(1, 1);
    let release: () => void = () => undefined;
    const first = slots.run(() => new Promise<string>((resolve) => { release = () => resolve('first'); }));
    const second = slots.run(async () => 'second');
    await expect(slots.run(async () => 'third')).rejects.toMatchObject({ httpStatus: 429 });
    release();
    expect(await first).toBe('first');
    expect(await second).toBe('second');
    expect(await slots.run(async () => 'again')).toBe('again');
  });
});
