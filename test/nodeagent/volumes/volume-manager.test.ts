/**
 * What this proves: every volume type the agent supports lands on disk as Kubernetes lays it
 * out — emptyDir (disk, memory medium, sizeLimit reported), configMap and secret (keys, items,
 * modes, optional), downwardAPI, projected with a ServiceAccount token rotated at 80 % of its
 * life, hostPath type checks, PVCs bound to `kubus.io/local-path` PVs (directory created, then
 * removed once the PV is gone) — that refresh swaps `..data` atomically only when contents
 * change, that mountsFor resolves subPath and readOnly, and that tearDown removes only what
 * belongs to the pod. How: a fake ApiClient (TokenRequest answered with numbered tokens) and a
 * temporary directory; time on a SimulatedClock.
 */
import { existsSync, lstatSync, mkdtempSync, readFileSync, readlinkSync, readdirSync, statSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Pod, Volume } from 'kubernetes-types/core/v1.js';
import { SimulatedClock } from '../../../bus/clock.js';
import { createJsonLogger } from '../../../bus/logger.js';
import type { ResourceRef, WriteOptions } from '../../../actors/controllers/runtime/types.js';
import { ForbiddenError } from '../../../actors/controllers/runtime/api-errors.js';
import { FakeApi } from '../../controllers/runtime/fake-api.js';
import { coreResources } from '../../../nodeagent/env/index.js';
import { createVolumeManager, VolumeMountError, VolumeSetUpError } from '../../../nodeagent/volumes/index.js';

const logger = createJsonLogger({ level: 'error', write: () => undefined });

/** Answers TokenRequests with `token-<n>` for the lifetime asked; `forbidTokens` answers 403. */
class TokenApi extends FakeApi {
  tokensIssued = 0;
  forbidTokens = false;
  readonly tokenRequests: unknown[] = [];
  override async create<T>(resource: ResourceRef, namespace: string | undefined, body: unknown, options?: WriteOptions & { readonly name?: string }): Promise<T> {
    if (options?.subresource === 'token') {
      this.calls.push(`create serviceaccounts/token ${namespace ?? ''}/${options.name ?? ''}`);
      if (this.down) throw new Error('fake API unreachable');
      if (this.forbidTokens) throw new ForbiddenError(403, 'Forbidden', 'nodes may not create tokens', undefined, undefined);
      this.tokenRequests.push(body);
      this.tokensIssued += 1;
      const spec = (body as { spec: { expirationSeconds: number } }).spec;
      return { spec: { expirationSeconds: spec.expirationSeconds }, status: { token: `token-${this.tokensIssued}` } } as T;
    }
    if (resource.resource === 'events') {
      this.calls.push(`create events ${namespace ?? ''}`);
      return body as T;
    }
    return super.create<T>(resource, namespace, body);
  }
}

function setUp(options: { memoryRoot?: string; dir?: string; api?: TokenApi } = {}) {
  const dir = options.dir ?? mkdtempSync(path.join(os.tmpdir(), 'kubus-volumes-'));
  const api = options.api ?? new TokenApi();
  const clock = new SimulatedClock();
  api.putSilently(coreResources.configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'app-config', namespace: 'ns' }, data: { 'app.yaml': 'mode: fast\n', other: 'x' } });
  api.putSilently(coreResources.secrets, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'creds', namespace: 'ns' }, data: { password: Buffer.from('s3cret').toString('base64') } });
  api.putSilently(coreResources.nodes, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, status: { allocatable: { cpu: '2', memory: '4Gi' } } });
  let now = new Date('2026-12-03T04:00:00Z');
  const manager = createVolumeManager({
    api, dir, nodeName: 'n1', clock, logger, nodeIp: '10.0.0.1',
    wallClock: () => (now = new Date(now.getTime() + 1000)),
    memoryRoot: options.memoryRoot ?? path.join(dir, 'no-such-shm'),
  });
  return { dir, api, clock, manager };
}

function pod(volumes: Volume[], mounts: { name: string; mountPath: string; subPath?: string; readOnly?: boolean }[] = []): Pod {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: 'web-1', namespace: 'ns', uid: 'uid-1', labels: { app: 'web', tier: 'front' } },
    spec: { nodeName: 'n1', serviceAccountName: 'builder', volumes, containers: [{ name: 'app', resources: { limits: { memory: '64Mi' } }, volumeMounts: mounts }] },
  };
}

const volumeDir = (dir: string, name: string) => path.join(dir, 'volumes', 'uid-1', name);
const mode = (file: string) => statSync(file).mode & 0o777;

describe('emptyDir', () => {
  it('makes a world-writable directory, on the memory root when writable, and reports a size over the limit', async () => {
    const shm = mkdtempSync(path.join(os.tmpdir(), 'kubus-shm-'));
    const { dir, api, manager } = setUp({ memoryRoot: shm });
    const p = pod([
      { name: 'scratch', emptyDir: { sizeLimit: '1Ki' } },
      { name: 'cache', emptyDir: { medium: 'Memory' } },
    ], [{ name: 'scratch', mountPath: '/scratch' }, { name: 'cache', mountPath: '/cache', subPath: 'sub/dir' }]);
    const volumes = await manager.setUp(p, '127.64.0.2');
    expect(mode(volumeDir(dir, 'scratch'))).toBe(0o777);
    const mounts = volumes.mountsFor(p.spec!.containers[0]!);
    expect(mounts).toEqual([
      { containerPath: '/scratch', hostPath: volumeDir(dir, 'scratch'), readOnly: false },
      { containerPath: '/cache', hostPath: path.join(shm, 'kubus-n1', 'uid-1', 'cache', 'sub/dir'), readOnly: false },
    ]);
    expect(statSync(mounts[1]!.hostPath).isDirectory()).toBe(true);
    writeFileSync(path.join(volumeDir(dir, 'scratch'), 'big'), Buffer.alloc(4096));
    await manager.refresh(p, '127.64.0.2');
    await manager.refresh(p, '127.64.0.2');
    expect(api.calls.filter((c) => c.startsWith('create events'))).toHaveLength(1);
    await manager.tearDown(p);
    expect(existsSync(path.join(dir, 'volumes', 'uid-1'))).toBe(false);
    expect(existsSync(path.join(shm, 'kubus-n1', 'uid-1'))).toBe(false);
  });

  it('falls back to disk when the memory root is not writable', async () => {
    const { dir, manager } = setUp();
    const p = pod([{ name: 'cache', emptyDir: { medium: 'Memory' } }], [{ name: 'cache', mountPath: '/cache' }]);
    const volumes = await manager.setUp(p, null);
    expect(volumes.mountsFor(p.spec!.containers[0]!)[0]?.hostPath).toBe(volumeDir(dir, 'cache'));
  });
});

describe('configMap and secret', () => {
  it('writes keys, items and modes behind ..data, read-only', async () => {
    const { dir, manager } = setUp();
    const p = pod([
      { name: 'config', configMap: { name: 'app-config' } },
      { name: 'picked', configMap: { name: 'app-config', items: [{ key: 'app.yaml', path: 'conf/app.yaml', mode: 0o600 }], defaultMode: 0o640 } },
      { name: 'creds', secret: { secretName: 'creds', defaultMode: 0o400 } },
      { name: 'maybe', secret: { secretName: 'absent', optional: true } },
    ], [{ name: 'config', mountPath: '/etc/app' }, { name: 'config', mountPath: '/etc/app.yaml', subPath: 'app.yaml' }]);
    const volumes = await manager.setUp(p, null);
    const config = volumeDir(dir, 'config');
    expect(readFileSync(path.join(config, 'app.yaml'), 'utf8')).toBe('mode: fast\n');
    expect(readlinkSync(path.join(config, 'app.yaml'))).toBe('..data/app.yaml');
    expect(readlinkSync(path.join(config, '..data'))).toMatch(/^\.\.2026_12_03_04_00_\d\d\./);
    expect(mode(path.join(config, '..data', 'other'))).toBe(0o644);
    expect(readdirSync(volumeDir(dir, 'picked')).filter((n) => !n.startsWith('..'))).toEqual(['conf']);
    expect(mode(path.join(volumeDir(dir, 'picked'), 'conf', 'app.yaml'))).toBe(0o600);
    expect(readFileSync(path.join(volumeDir(dir, 'creds'), 'password'), 'utf8')).toBe('s3cret');
    expect(mode(path.join(volumeDir(dir, 'creds'), 'password'))).toBe(0o400);
    expect(readdirSync(volumeDir(dir, 'maybe')).filter((n) => !n.startsWith('..'))).toEqual([]);
    expect(volumes.mountsFor(p.spec!.containers[0]!)).toEqual([
      { containerPath: '/etc/app', hostPath: config, readOnly: true },
      { containerPath: '/etc/app.yaml', hostPath: path.join(config, 'app.yaml'), readOnly: true },
    ]);
  });

  it('refresh swaps ..data atomically when contents change and leaves it alone otherwise', async () => {
    const { dir, api, clock, manager } = setUp();
    const p = pod([{ name: 'config', configMap: { name: 'app-config' } }]);
    await manager.setUp(p, null);
    const config = volumeDir(dir, 'config');
    const first = readlinkSync(path.join(config, '..data'));
    await manager.refresh(p, null);
    expect(readlinkSync(path.join(config, '..data'))).toBe(first);
    // What a write that failed half-way leaves behind: removed by the next write.
    mkdirSync(path.join(config, '..2020_01_01_00_00_00.abc123'));
    api.putSilently(coreResources.configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'app-config', namespace: 'ns' }, data: { 'app.yaml': 'mode: slow\n' } });
    clock.advance(10_000); // past the read cache's TTL
    await manager.refresh(p, null);
    const second = readlinkSync(path.join(config, '..data'));
    expect(second).not.toBe(first);
    expect(readFileSync(path.join(config, 'app.yaml'), 'utf8')).toBe('mode: slow\n');
    expect(existsSync(path.join(config, 'other'))).toBe(false);
    expect(existsSync(path.join(config, first))).toBe(false);
    expect(readdirSync(config).sort()).toEqual(['..data', second, 'app.yaml'].sort());
  });

  it('fails a missing required configMap with a typed error', async () => {
    const { manager } = setUp();
    const error = await manager.setUp(pod([{ name: 'c', configMap: { name: 'absent' } }]), null).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VolumeSetUpError);
    expect((error as VolumeSetUpError).message).toContain('configmap "absent" not found');
  });
});

describe('downwardAPI and projected', () => {
  it('renders pod fields and resources', async () => {
    const { dir, manager } = setUp();
    await manager.setUp(pod([{ name: 'info', downwardAPI: { items: [
      { path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } },
      { path: 'ip', fieldRef: { fieldPath: 'status.podIP' } },
      { path: 'host', fieldRef: { fieldPath: 'status.hostIP' } },
      { path: 'mem', resourceFieldRef: { containerName: 'app', resource: 'limits.memory', divisor: '1Mi' } },
      { path: 'cpu', resourceFieldRef: { containerName: 'app', resource: 'limits.cpu' } },
    ] } }]), '127.64.0.9');
    const info = volumeDir(dir, 'info');
    expect(readFileSync(path.join(info, 'labels'), 'utf8')).toBe('app="web"\ntier="front"');
    expect(readFileSync(path.join(info, 'ip'), 'utf8')).toBe('127.64.0.9');
    expect(readFileSync(path.join(info, 'host'), 'utf8')).toBe('10.0.0.1');
    expect(readFileSync(path.join(info, 'mem'), 'utf8')).toBe('64');
    expect(readFileSync(path.join(info, 'cpu'), 'utf8')).toBe('2');
  });

  it('projects a ServiceAccount token and rotates it at 80 % of its life', async () => {
    const { dir, api, clock, manager } = setUp();
    const p = pod([{ name: 'sa', projected: { sources: [
      { serviceAccountToken: { path: 'token', audience: 'vault', expirationSeconds: 1000 } },
      { configMap: { name: 'app-config', items: [{ key: 'other', path: 'ca.crt' }] } },
      { downwardAPI: { items: [{ path: 'namespace', fieldRef: { fieldPath: 'metadata.namespace' } }] } },
    ] } }]);
    await manager.setUp(p, null);
    const sa = volumeDir(dir, 'sa');
    expect(readFileSync(path.join(sa, 'token'), 'utf8')).toBe('token-1');
    expect(readFileSync(path.join(sa, 'namespace'), 'utf8')).toBe('ns');
    expect(api.tokenRequests[0]).toMatchObject({ spec: { audiences: ['vault'], expirationSeconds: 1000, boundObjectRef: { kind: 'Pod', name: 'web-1', uid: 'uid-1' } } });
    expect(api.calls).toContain('create serviceaccounts/token ns/builder');
    clock.advance(790_000);
    await manager.refresh(p, null);
    expect(readFileSync(path.join(sa, 'token'), 'utf8')).toBe('token-1');
    clock.advance(20_000);
    await manager.refresh(p, null);
    expect(readFileSync(path.join(sa, 'token'), 'utf8')).toBe('token-2');
    // Forbidden while the held token is still valid: the old one is kept.
    api.forbidTokens = true;
    clock.advance(810_000);
    await manager.refresh(p, null);
    expect(readFileSync(path.join(sa, 'token'), 'utf8')).toBe('token-2');
  });

  it('says what permission is missing when the node may not request tokens', async () => {
    const { api, manager } = setUp();
    api.forbidTokens = true;
    await expect(manager.setUp(pod([{ name: 'sa', projected: { sources: [{ serviceAccountToken: { path: 'token' } }] } }]), null))
      .rejects.toThrow(/node authorizer must allow serviceaccounts\/token/);
  });
});

describe('hostPath and PVCs', () => {
  it('checks hostPath types', async () => {
    const { dir, manager } = setUp();
    const host = path.join(dir, 'host');
    await manager.setUp(pod([{ name: 'h', hostPath: { path: path.join(host, 'made'), type: 'DirectoryOrCreate' } }]), null);
    expect(statSync(path.join(host, 'made')).isDirectory()).toBe(true);
    await manager.setUp(pod([{ name: 'f', hostPath: { path: path.join(host, 'made', 'file'), type: 'FileOrCreate' } }]), null);
    expect(statSync(path.join(host, 'made', 'file')).isFile()).toBe(true);
    await expect(manager.setUp(pod([{ name: 'd', hostPath: { path: path.join(host, 'missing'), type: 'Directory' } }]), null)).rejects.toThrow(/does not exist/);
    await expect(manager.setUp(pod([{ name: 'd', hostPath: { path: path.join(host, 'made'), type: 'File' } }]), null)).rejects.toThrow(/is not a file/);
    await expect(manager.setUp(pod([{ name: 'd', hostPath: { path: path.join(host, 'nope', 'f'), type: 'FileOrCreate' } }]), null)).rejects.toThrow(/parent directory/);
    await expect(manager.setUp(pod([{ name: 's', hostPath: { path: path.join(host, 'made'), type: 'Socket' } }]), null)).rejects.toThrow(/is not a socket/);
  });

  it('creates a local-path PV directory and removes it once the PV is deleted; hostPath data stays at tearDown', async () => {
    const { dir, api, manager } = setUp();
    const base = path.join(dir, 'local-path');
    const pvDir = path.join(base, 'pvc-c1_ns_data');
    api.putSilently(coreResources.persistentvolumeclaims, { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data', namespace: 'ns' }, spec: { volumeName: 'pv-1' } });
    api.putSilently(coreResources.persistentvolumes, { apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'pv-1', annotations: { 'pv.kubernetes.io/provisioned-by': 'kubus.io/local-path' } }, spec: { persistentVolumeReclaimPolicy: 'Delete', hostPath: { path: pvDir, type: 'DirectoryOrCreate' } } });
    const p = pod([{ name: 'data', persistentVolumeClaim: { claimName: 'data' } }], [{ name: 'data', mountPath: '/data', subPath: 'db' }, { name: 'data', mountPath: '/ro', readOnly: true }]);
    const volumes = await manager.setUp(p, null);
    expect(volumes.mountsFor(p.spec!.containers[0]!)).toEqual([
      { containerPath: '/data', hostPath: path.join(pvDir, 'db'), readOnly: false },
      { containerPath: '/ro', hostPath: pvDir, readOnly: true },
    ]);
    writeFileSync(path.join(pvDir, 'db', 'rows'), 'data');
    await manager.tearDown(p);
    expect(readFileSync(path.join(pvDir, 'db', 'rows'), 'utf8')).toBe('data');
    api.deleteSilently(coreResources.persistentvolumes, 'pv-1');
    await manager.tearDown(p);
    expect(existsSync(pvDir)).toBe(false);
    expect(JSON.parse(readFileSync(path.join(dir, 'volumes', 'local-path.json'), 'utf8'))).toEqual({});
  });

  it('refuses an unbound claim and bad mounts', async () => {
    const { dir, api, manager } = setUp();
    api.putSilently(coreResources.persistentvolumeclaims, { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'pending', namespace: 'ns' }, spec: {} });
    await expect(manager.setUp(pod([{ name: 'd', persistentVolumeClaim: { claimName: 'pending' } }]), null)).rejects.toThrow(/is not bound yet/);
    const p = pod([{ name: 'e', emptyDir: {} }], [{ name: 'e', mountPath: '/x', subPath: '../escape' }]);
    const volumes = await manager.setUp(p, null);
    expect(() => volumes.mountsFor(p.spec!.containers[0]!)).toThrow(VolumeMountError);
    expect(() => volumes.mountsFor({ name: 'c', volumeMounts: [{ name: 'nope', mountPath: '/y' }] })).toThrow(/no volume named nope/);
    // subPathExpr expands the container's downward API and literal env vars.
    const expr = { name: 'c', env: [{ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }, { name: 'DIR', value: 'logs-$(POD_NAME)' }],
      volumeMounts: [{ name: 'e', mountPath: '/logs', subPathExpr: '$(DIR)/x' }] };
    expect(volumes.mountsFor(expr)[0]?.hostPath).toBe(path.join(volumeDir(dir, 'e'), 'logs-web-1', 'x'));
    expect(() => volumes.mountsFor({ name: 'c', volumeMounts: [{ name: 'e', mountPath: '/l', subPathExpr: '$(NOPE)' }] })).toThrow(/names a variable/);
    // A symlink planted in the volume does not lead a subPath out of it.
    symlinkSync('/etc', path.join(volumeDir(dir, 'e'), 'out'));
    expect(() => volumes.mountsFor({ name: 'c', volumeMounts: [{ name: 'e', mountPath: '/z', subPath: 'out' }] })).toThrow(/resolves outside its volume/);
  });
});

describe('atomic layout', () => {
  it('keeps user-visible names as symlinks only', async () => {
    const { dir, manager } = setUp();
    await manager.setUp(pod([{ name: 'config', configMap: { name: 'app-config' } }]), null);
    const config = volumeDir(dir, 'config');
    for (const name of readdirSync(config)) {
      if (name === '..data' || !name.startsWith('..')) expect(lstatSync(path.join(config, name)).isSymbolicLink()).toBe(true);
    }
  });
});

describe('offline and the API access volume', () => {
  it('keeps the last contents when an agent restarted offline sets a pod up again', async () => {
    const first = setUp();
    const p = pod([{ name: 'config', configMap: { name: 'app-config' } }, { name: 'sa', projected: { sources: [{ serviceAccountToken: { path: 'token' } }] } }], [{ name: 'config', mountPath: '/etc/app' }]);
    await first.manager.setUp(p, null);
    first.api.down = true;
    const restarted = setUp({ dir: first.dir, api: first.api });
    const volumes = await restarted.manager.setUp(p, null);
    expect(readFileSync(path.join(volumeDir(first.dir, 'config'), 'app.yaml'), 'utf8')).toBe('mode: fast\n');
    expect(readFileSync(path.join(volumeDir(first.dir, 'sa'), 'token'), 'utf8')).toBe('token-1');
    expect(volumes.mountsFor(p.spec!.containers[0]!)[0]?.hostPath).toBe(volumeDir(first.dir, 'config'));
    // Objects read before serve new volumes too (kept in <dir>/env/last-known.json); one never read cannot.
    await restarted.manager.setUp(pod([{ name: 'fresh', configMap: { name: 'app-config' } }]), null);
    expect(readFileSync(path.join(volumeDir(first.dir, 'fresh'), 'other'), 'utf8')).toBe('x');
    await expect(restarted.manager.setUp(pod([{ name: 'never', secret: { secretName: 'creds' } }]), null)).rejects.toThrow(/unreachable/);
  });

  it('starts a pod whose injected API access volume cannot get a token, and adds the token once allowed', async () => {
    const { dir, api, clock, manager } = setUp();
    api.putSilently(coreResources.configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kube-root-ca.crt', namespace: 'ns' }, data: { 'ca.crt': 'CA' } });
    api.forbidTokens = true;
    const p = pod([{ name: 'kube-api-access-x2b4c', projected: { sources: [
      { serviceAccountToken: { path: 'token', expirationSeconds: 3607 } },
      { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
    ] } }]);
    await manager.setUp(p, null);
    const access = volumeDir(dir, 'kube-api-access-x2b4c');
    expect(readFileSync(path.join(access, 'ca.crt'), 'utf8')).toBe('CA');
    expect(existsSync(path.join(access, 'token'))).toBe(false);
    api.forbidTokens = false;
    clock.advance(1_000);
    await manager.refresh(p, null);
    expect(readFileSync(path.join(access, 'token'), 'utf8')).toBe('token-1');
  });
});

describe('claims offline', () => {
  it('mounts a claim at its last known host path when an agent restarted offline sets the pod up again', async () => {
    const first = setUp();
    const pvDir = path.join(first.dir, 'local-path', 'pvc-c2_ns_data');
    first.api.putSilently(coreResources.persistentvolumeclaims, { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data', namespace: 'ns' }, spec: { volumeName: 'pv-2' } });
    first.api.putSilently(coreResources.persistentvolumes, { apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'pv-2', annotations: { 'pv.kubernetes.io/provisioned-by': 'kubus.io/local-path' } }, spec: { hostPath: { path: pvDir } } });
    const p = pod([{ name: 'data', persistentVolumeClaim: { claimName: 'data' } }], [{ name: 'data', mountPath: '/data' }]);
    await first.manager.setUp(p, null);
    first.api.down = true;
    const restarted = setUp({ dir: first.dir, api: first.api });
    const volumes = await restarted.manager.setUp(p, null);
    expect(volumes.mountsFor(p.spec!.containers[0]!)[0]?.hostPath).toBe(pvDir);
    // A claim never resolved before has nothing to fall back on.
    await expect(restarted.manager.setUp(pod([{ name: 'other', persistentVolumeClaim: { claimName: 'other' } }]), null)).rejects.toThrow(/unreachable/);
  });
});
