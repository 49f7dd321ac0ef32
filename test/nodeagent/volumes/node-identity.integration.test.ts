/**
 * What this proves: the env resolver and the volume manager work against the real API with a
 * node's identity (`system:node:<N>`, so the Node authorizer decides): a pod bound to the node has
 * its env (configMap and secret keys, envFrom, downward API, service variables, resources defaulting
 * to the Node's allocatable) and its volumes (configMap, secret, downwardAPI, the kube-api-access
 * volume ServiceAccount admission adds) resolved with only the reads the authorizer grants a node;
 * an object no pod of the node references is refused (403), so the reads really are the node's.
 * How: a one-member cluster (real nats-server and member process), a static token for the node
 * user, objects created as admin, then the parts run in this process with a NatsApiClient.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { SystemClock } from '../../../bus/clock.js';
import { createJsonLogger } from '../../../bus/logger.js';
import { NatsApiClient } from '../../../actors/controllers/runtime/api-client.js';
import { startApiHarness, type ApiHarness } from '../../apiserver/harness.js';
import { adminApi, createHollowNodes } from '../../support/control-plane.js';
import { waitUntil } from '../../support/wait.js';
import { coreResources, createClusterReader, createEnvResolver } from '../../../nodeagent/env/index.js';
import { createVolumeManager } from '../../../nodeagent/volumes/index.js';

const nodeToken = 'h5-node-token-0123456789abcdef';
const logger = createJsonLogger({ level: 'error', write: () => undefined });
let h: ApiHarness;
let node: string;
let pod: Pod;

beforeAll(async () => {
  h = await startApiHarness({ members: 1, users: [{ token: nodeToken, name: 'system:node:h5-1', groups: ['system:nodes', 'system:authenticated'] }] });
  [node] = (await createHollowNodes(h, 1, { prefix: 'h5', cpu: '3', memory: '6Gi' })) as [string];
  const admin = adminApi(h);
  await admin.create(coreResources.configmaps, 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'app-config' }, data: { MODE: 'fast', 'app.yaml': 'a: 1\n' } });
  await admin.create(coreResources.configmaps, 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'not-referenced' }, data: { X: '1' } });
  await admin.create(coreResources.secrets, 'default', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'creds' }, data: { password: Buffer.from('s3cret').toString('base64') } });
  await admin.create(coreResources.services, 'default', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web-api' }, spec: { clusterIP: '127.96.0.20', ports: [{ port: 80, protocol: 'TCP' }] } });
  await waitUntil('kube-root-ca.crt published', async () => (await admin.get(coreResources.configmaps, 'default', 'kube-root-ca.crt').catch(() => null)) !== null, { timeoutMs: 30_000 });
  const created = await admin.create<Pod>({ group: '', version: 'v1', resource: 'pods', namespaced: true }, 'default', {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: 'h5-pod', labels: { app: 'h5' } },
    spec: {
      nodeName: node,
      containers: [{
        name: 'app', image: 'busybox', command: ['sleep', '3600'],
        envFrom: [{ configMapRef: { name: 'app-config' }, prefix: 'CFG_' }],
        env: [
          { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'creds', key: 'password' } } },
          { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
          { name: 'CPU', valueFrom: { resourceFieldRef: { resource: 'limits.cpu' } } },
          { name: 'URL', value: 'http://$(POD_IP):8080/$(CFG_MODE)' },
        ],
        volumeMounts: [{ name: 'config', mountPath: '/etc/app' }, { name: 'creds', mountPath: '/etc/creds' }, { name: 'info', mountPath: '/etc/info' }],
      }],
      volumes: [
        { name: 'config', configMap: { name: 'app-config', items: [{ key: 'app.yaml', path: 'app.yaml' }] } },
        { name: 'creds', secret: { secretName: 'creds' } },
        { name: 'info', downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] } },
      ],
    },
  });
  pod = created;
}, 120_000);

afterAll(async () => {
  await h?.stop();
});

function nodeApi(): NatsApiClient {
  return new NatsApiClient({ bus: h.cluster.bus(), cluster: h.cluster.cluster, token: nodeToken, clock: new SystemClock(), inboxOwner: 'test-admin', requestTimeoutMs: 5_000 });
}

describe('env and volumes as the node', () => {
  it('resolves env and sets up volumes with only what the node may read', async () => {
    const api = nodeApi();
    const clock = new SystemClock();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'kubus-h5-node-'));
    const reader = createClusterReader({ api, clock, nodeName: node, dir, logger });
    const container = pod.spec!.containers[0]!;
    const env = Object.fromEntries((await createEnvResolver({ api, nodeName: node, logger, reader }).resolve(pod, container, '127.64.0.7', '10.0.0.1')).map((e) => [e.name, e.value]));
    expect(env).toMatchObject({ CFG_MODE: 'fast', PASSWORD: 's3cret', POD_IP: '127.64.0.7', CPU: '3', URL: 'http://127.64.0.7:8080/fast' });
    // kubus allocates no cluster IPs yet: the Service names one itself (one without gets no variables, as in Kubernetes).
    expect(env['WEB_API_SERVICE_HOST']).toBe('127.96.0.20');
    expect(env['WEB_API_SERVICE_PORT']).toBe('80');

    const volumes = await createVolumeManager({ api, dir, nodeName: node, clock, logger, reader, nodeIp: '10.0.0.1' }).setUp(pod, '127.64.0.7');
    const mounts = volumes.mountsFor(container);
    const at = (mountPath: string): string => mounts.find((m) => m.containerPath === mountPath)?.hostPath ?? '';
    expect(readFileSync(path.join(at('/etc/app'), 'app.yaml'), 'utf8')).toBe('a: 1\n');
    expect(readFileSync(path.join(at('/etc/creds'), 'password'), 'utf8')).toBe('s3cret');
    expect(readFileSync(path.join(at('/etc/info'), 'labels'), 'utf8')).toBe('app="h5"');
    // ServiceAccount admission's API access volume: the CA and namespace at least.
    const access = at('/var/run/secrets/kubernetes.io/serviceaccount');
    expect(access).not.toBe('');
    expect(readFileSync(path.join(access, 'namespace'), 'utf8')).toBe('default');
    expect(readFileSync(path.join(access, 'ca.crt'), 'utf8')).toContain('BEGIN CERTIFICATE');

    // The reads are the node's: an object no pod of the node references is refused.
    await expect(reader.configMapData('default', 'not-referenced')).rejects.toMatchObject({ code: 'forbidden' });
  });
});
