/**
 * What this proves: the env resolver builds a container's environment as the kubelet does —
 * service variables lowest, then envFrom, then env (later wins), `$(VAR)` expansion with `$$`
 * escapes and unknown references left as written, the downward API (pod fields, resources with
 * divisors and node-allocatable defaults), optional references skipped and missing required ones
 * typed as CreateContainerConfigError, envFrom prefixes with invalid keys skipped, service links
 * switched off by `enableServiceLinks: false` except the `kubernetes` Service of `default`.
 * How: a fake ApiClient holding the objects; pure helpers are tested directly.
 */
import { mkdtempSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import { createJsonLogger } from '../../../bus/logger.js';
import { SimulatedClock } from '../../../bus/clock.js';
import { FakeApi } from '../../controllers/runtime/fake-api.js';
import { coreResources, createClusterReader, createEnvResolver, EnvConfigError, expandVariables, resourceFieldValue, serviceEnvironment } from '../../../nodeagent/env/index.js';

const logLines: string[] = [];
const logger = createJsonLogger({ level: 'debug', write: (line) => void logLines.push(line) });

function cluster(): FakeApi {
  const api = new FakeApi();
  api.putSilently(coreResources.services, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'kubernetes', namespace: 'default' }, spec: { clusterIP: '10.96.0.1', ports: [{ name: 'https', port: 443, protocol: 'TCP' }] } });
  api.putSilently(coreResources.services, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web-api', namespace: 'shop' }, spec: { clusterIP: '10.96.0.20', ports: [{ name: 'http', port: 80, protocol: 'TCP' }, { port: 9090, protocol: 'UDP' }] } });
  api.putSilently(coreResources.services, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'headless', namespace: 'shop' }, spec: { clusterIP: 'None', ports: [{ port: 80 }] } });
  api.putSilently(coreResources.configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: 'shop' }, data: { MODE: 'fast', 'bad key': 'x', LEVEL: 'from-configmap' } });
  api.putSilently(coreResources.secrets, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'creds', namespace: 'shop' }, data: { password: Buffer.from('s3cret').toString('base64') } });
  api.putSilently(coreResources.nodes, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, status: { allocatable: { cpu: '4', memory: '8Gi', 'ephemeral-storage': '100Gi' } } });
  return api;
}

function pod(container: Container, spec: Partial<NonNullable<Pod['spec']>> = {}): Pod {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: 'web-1', namespace: 'shop', uid: 'u-1', labels: { app: 'web' }, annotations: { note: 'hi' } },
    spec: { nodeName: 'n1', serviceAccountName: 'builder', containers: [container], ...spec },
  };
}

const resolver = (api: FakeApi) => createEnvResolver({ api, nodeName: 'n1', logger, clock: new SimulatedClock() });
const asMap = (env: readonly { name: string; value: string }[]) => Object.fromEntries(env.map((e) => [e.name, e.value]));

describe('expandVariables', () => {
  const lookup = (name: string) => ({ A: 'a', B: 'b' } as Record<string, string>)[name];
  it('follows Kubernetes rules', () => {
    expect(expandVariables('$(A)-$(B)', lookup)).toBe('a-b');
    expect(expandVariables('$$(A)', lookup)).toBe('$(A)');
    expect(expandVariables('$(MISSING)', lookup)).toBe('$(MISSING)');
    expect(expandVariables('$(A', lookup)).toBe('$(A');
    expect(expandVariables('cost: $5 $', lookup)).toBe('cost: $5 $');
    expect(expandVariables('$()', lookup)).toBe('$()');
    expect(expandVariables('$$$$', lookup)).toBe('$$');
  });
});

describe('service variables', () => {
  it('makes host, port, named port and docker link variables', () => {
    const env = asMap(serviceEnvironment([{ metadata: { name: 'web-api' }, spec: { clusterIP: '10.0.0.5', ports: [{ name: 'http', port: 80, protocol: 'TCP' }] } }]));
    expect(env).toEqual({
      WEB_API_SERVICE_HOST: '10.0.0.5', WEB_API_SERVICE_PORT: '80', WEB_API_SERVICE_PORT_HTTP: '80',
      WEB_API_PORT: 'tcp://10.0.0.5:80', WEB_API_PORT_80_TCP: 'tcp://10.0.0.5:80', WEB_API_PORT_80_TCP_PROTO: 'tcp',
      WEB_API_PORT_80_TCP_PORT: '80', WEB_API_PORT_80_TCP_ADDR: '10.0.0.5',
    });
  });
});

describe('resourceFieldValue', () => {
  const c: Container = { name: 'c', resources: { limits: { cpu: '500m', memory: '128Mi' }, requests: { cpu: '250m' } } };
  it('divides and rounds up; limits default to allocatable', () => {
    expect(resourceFieldValue(c, { resource: 'limits.cpu' }, {})).toBe('1');
    expect(resourceFieldValue(c, { resource: 'limits.cpu', divisor: '1m' }, {})).toBe('500');
    expect(resourceFieldValue(c, { resource: 'requests.cpu', divisor: '1m' }, {})).toBe('250');
    expect(resourceFieldValue(c, { resource: 'limits.memory', divisor: '1Mi' }, {})).toBe('128');
    expect(resourceFieldValue(c, { resource: 'requests.memory' }, {})).toBe(String(128 * 2 ** 20));
    expect(resourceFieldValue(c, { resource: 'limits.ephemeral-storage', divisor: '1Gi' }, { 'ephemeral-storage': 100 * 2 ** 30 })).toBe('100');
    expect(resourceFieldValue(c, { resource: 'limits.gpu' }, {})).toBeUndefined();
  });
});

describe('createEnvResolver', () => {
  it('orders and overrides as the kubelet does, expanding against earlier definitions', async () => {
    const container: Container = {
      name: 'app',
      envFrom: [{ configMapRef: { name: 'settings' }, prefix: 'CFG_' }, { configMapRef: { name: 'settings' } }],
      env: [
        { name: 'LEVEL', value: 'from-env' },
        { name: 'GREETING', value: 'mode=$(MODE) level=$(LEVEL) svc=$(WEB_API_SERVICE_HOST) raw=$$(MODE) none=$(NOPE)' },
        { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'creds', key: 'password' } } },
      ],
    };
    const env = await resolver(cluster()).resolve(pod(container), container, '127.64.0.5', '10.0.0.1');
    const map = asMap(env);
    expect(map['CFG_MODE']).toBe('fast');
    expect(map['LEVEL']).toBe('from-env');
    expect(map['GREETING']).toBe('mode=fast level=from-env svc=10.96.0.20 raw=$(MODE) none=$(NOPE)');
    expect(map['PASSWORD']).toBe('s3cret');
    expect(map['KUBERNETES_SERVICE_HOST']).toBe('10.96.0.1');
    expect(map['HEADLESS_SERVICE_HOST']).toBeUndefined();
    expect(Object.keys(map).some((k) => k.includes('bad key'))).toBe(false);
    expect(logLines.some((line) => line.includes('not a valid environment variable name'))).toBe(true);
    // Service variables come first in the list: they are the lowest precedence.
    expect(env[0]?.name).toMatch(/SERVICE|PORT/);
  });

  it('serves the downward API', async () => {
    const container: Container = {
      name: 'app',
      resources: { limits: { memory: '64Mi' } },
      env: [
        { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
        { name: 'POD_UID', valueFrom: { fieldRef: { fieldPath: 'metadata.uid' } } },
        { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
        { name: 'NOTE', valueFrom: { fieldRef: { fieldPath: "metadata.annotations['note']" } } },
        { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
        { name: 'SA', valueFrom: { fieldRef: { fieldPath: 'spec.serviceAccountName' } } },
        { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
        { name: 'HOST_IP', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } },
        { name: 'MEM_MI', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
        { name: 'CPU_LIMIT', valueFrom: { resourceFieldRef: { resource: 'limits.cpu' } } },
        { name: 'URL', value: 'http://$(POD_IP):8080' },
      ],
    };
    const map = asMap(await resolver(cluster()).resolve(pod(container), container, '127.64.0.5', '10.0.0.1'));
    expect(map).toMatchObject({
      POD_NAME: 'web-1', POD_NAMESPACE: 'shop', POD_UID: 'u-1', APP: 'web', NOTE: 'hi', NODE: 'n1', SA: 'builder',
      POD_IP: '127.64.0.5', HOST_IP: '10.0.0.1', MEM_MI: '64', CPU_LIMIT: '4', URL: 'http://127.64.0.5:8080',
    });
  });

  it('skips missing optional references and types missing required ones', async () => {
    const optional: Container = {
      name: 'app',
      envFrom: [{ secretRef: { name: 'absent', optional: true } }],
      env: [
        { name: 'A', valueFrom: { configMapKeyRef: { name: 'absent', key: 'k', optional: true } } },
        { name: 'B', valueFrom: { configMapKeyRef: { name: 'settings', key: 'nokey', optional: true } } },
      ],
    };
    const map = asMap(await resolver(cluster()).resolve(pod(optional), optional, null, '10.0.0.1'));
    expect(map['A']).toBeUndefined();
    expect(map['B']).toBeUndefined();

    const required: Container = { name: 'app', env: [{ name: 'A', valueFrom: { secretKeyRef: { name: 'creds', key: 'nokey' } } }] };
    const error = await resolver(cluster()).resolve(pod(required), required, null, '10.0.0.1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EnvConfigError);
    expect((error as EnvConfigError).reason).toBe('CreateContainerConfigError');
    expect((error as EnvConfigError).message).toContain('key "nokey" not found in secret "creds"');

    const missingFrom: Container = { name: 'app', envFrom: [{ configMapRef: { name: 'absent' } }] };
    await expect(resolver(cluster()).resolve(pod(missingFrom), missingFrom, null, '10.0.0.1')).rejects.toThrow(/configmap "absent" not found/);
  });

  it('leaves out namespace services when enableServiceLinks is false, but keeps kubernetes', async () => {
    const container: Container = { name: 'app' };
    const map = asMap(await resolver(cluster()).resolve(pod(container, { enableServiceLinks: false }), container, null, '10.0.0.1'));
    expect(map['KUBERNETES_SERVICE_HOST']).toBe('10.96.0.1');
    expect(map['WEB_API_SERVICE_HOST']).toBeUndefined();
  });

  it('reads each object once within the cache TTL', async () => {
    const api = cluster();
    const container: Container = { name: 'app', env: [{ name: 'M', valueFrom: { configMapKeyRef: { name: 'settings', key: 'MODE' } } }] };
    const env = resolver(api);
    await env.resolve(pod(container), container, null, '10.0.0.1');
    await env.resolve(pod(container), container, null, '10.0.0.1');
    expect(api.calls.filter((call) => call === 'get configmaps shop/settings')).toHaveLength(1);
  });
});

describe('offline', () => {
  it('resolves from the last known objects when the API does not answer, also after a restart', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'kubus-env-'));
    const api = cluster();
    const container: Container = {
      name: 'app', resources: {},
      envFrom: [{ configMapRef: { name: 'settings' } }],
      env: [{ name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'creds', key: 'password' } } }, { name: 'CPU', valueFrom: { resourceFieldRef: { resource: 'limits.cpu' } } }],
    };
    const online = asMap(await createEnvResolver({ api, nodeName: 'n1', logger, clock: new SimulatedClock(), dir }).resolve(pod(container), container, null, '10.0.0.1'));
    expect(statSync(path.join(dir, 'env', 'last-known.json')).mode & 0o777).toBe(0o600);
    api.down = true;
    // A new reader on the same directory: an agent restarted while the control plane is away.
    const readerClock = new SimulatedClock();
    const reader = createClusterReader({ api, clock: readerClock, nodeName: 'n1', dir });
    const offline = asMap(await createEnvResolver({ api, nodeName: 'n1', logger, reader }).resolve(pod(container), container, null, '10.0.0.1'));
    expect(offline).toEqual(online);
    expect(offline['PASSWORD']).toBe('s3cret');
    expect(offline['CPU']).toBe('4');
    // Once a request went unanswered, known objects are used without asking (no timeout per object).
    expect(reader.unreachable()).toBe(true);
    readerClock.advance(10_000); // past the read cache's TTL, within the unreachable hold
    const callsBefore = api.calls.length;
    await reader.secretData('shop', 'creds');
    await reader.services('shop');
    expect(api.calls.length).toBe(callsBefore);
    readerClock.advance(30_000); // the hold is over: the API is asked again
    await reader.services('shop');
    expect(api.calls.length).toBe(callsBefore + 1);
  });

  it('never overrides a definite answer with an old value', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'kubus-env-'));
    const api = cluster();
    const container: Container = { name: 'app', env: [{ name: 'M', valueFrom: { configMapKeyRef: { name: 'settings', key: 'MODE' } } }] };
    const clock = new SimulatedClock();
    const env = createEnvResolver({ api, nodeName: 'n1', logger, clock, dir });
    await env.resolve(pod(container), container, null, '10.0.0.1');
    api.deleteSilently(coreResources.configmaps, 'shop/settings');
    clock.advance(60_000);
    await expect(env.resolve(pod(container), container, null, '10.0.0.1')).rejects.toBeInstanceOf(EnvConfigError);
  });
});
