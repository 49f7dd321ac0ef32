/**
 * The bus is closed (issue 9, section 2): what an attacker on the NATS port found, turned into
 * checks against a real member process on a real nats-server, set up exactly as `kubus up` does
 * (operator mode, keys in the credentials directory, each member minting its own user).
 *
 * - an anonymous NATS client is refused (it used to read every Secret with a store range);
 * - a member's user cannot publish Raft messages as another member, nor subscribe to another
 *   member's Raft inbox (plain or snapshot);
 * - a control-plane component's user reaches the API (requests, and watches on its own inbox with
 *   renewals) but neither `store.>` nor `raft.>`;
 * - a revoked user is disconnected at once, others are not;
 * - the `kubus` CLI without the credentials directory fails with a clear message, even with --nats;
 * - a member's data directory and the NATS keys are 0700 directories and 0600 files.
 *
 * How a refused publish is seen: NATS drops it silently for the sender, so an admin observer
 * subscribes to the target subjects and the sender then publishes an allowed marker on the same
 * connection: NATS keeps one connection's order, so once the marker arrives the refused message
 * would have arrived before it. Refused subscriptions are checked the same way (a marker on an
 * allowed subject, published after the forbidden one) and by the server's refusal in the log.
 * Subjects of a member `s9` that does not exist keep the running member out of the traffic.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BusClosedError, BusPermissionError, NoRespondersError, call, createJsonLogger, encode, natsCredentialsDir, subjects, type NatsBus } from '../../bus/index.js';
import { callApiOverNats } from '../../actors/apiserver/nats-front.js';
import { watchApiOverNats } from '../../actors/apiserver/nats-watch-client.js';
import { ensureClusterCredentials, type ClusterCredentials } from '../../actors/apiserver/index.js';
import { LocalCluster } from '../../scenarios/topology/local-processes.js';
import { requireComponent } from '../support/components.js';
import { waitUntil } from '../support/wait.js';

const runs = requireComponent('nats-server', 'apt-get install -y nats-server');
const repoRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const cluster = 'sec';
const names = subjects(cluster);

/** What one bus received, by subject, in order. */
function recorder(bus: NatsBus, patterns: readonly string[]): string[] {
  const seen: string[] = [];
  for (const pattern of patterns) bus.subscribe(pattern, (message) => seen.push(message.subject), { pendingMax: 1_000 });
  return seen;
}

function runCli(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'actors/cli/main.ts'), ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('exit', (code) => done({ code, stdout, stderr }));
  });
}

/** Every directory and file under `dir` (included) with its permission bits. */
function modes(dir: string): { path: string; dir: boolean; mode: number }[] {
  const out = [{ path: dir, dir: true, mode: statSync(dir).mode & 0o777 }];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...modes(path));
    else out.push({ path, dir: false, mode: statSync(path).mode & 0o777 });
  }
  return out;
}

describe.runIf(runs)('security: the bus is closed', () => {
  let dir = '';
  let c: LocalCluster;
  let credentials: ClusterCredentials;
  let admin: NatsBus;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kubus-security-'));
    credentials = await ensureClusterCredentials(join(dir, 'credentials'), { hosts: ['127.0.0.1'] });
    c = new LocalCluster({ dir: join(dir, 'cluster'), members: 1, cluster, apiCredentialsDir: join(dir, 'credentials') });
    await c.start();
    await c.waitForLeader({ timeoutMs: 30_000 });
    admin = await c.connectAs(await c.natsCredentials().mintAdmin(cluster, { ttlMs: null, nowMs: Date.now() }), { name: 'observer' });
  }, 60_000);

  afterAll(async () => {
    await c?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses an anonymous NATS connection', async () => {
    const error = await connect({ servers: c.natsUrl(), reconnect: false, timeout: 5_000 }).then(
      async (connection) => {
        await connection.close();
        return null;
      },
      (e: unknown) => e as { code?: string },
    );
    expect(error?.code).toBe('AUTHORIZATION_VIOLATION');
  });

  it("a member's user publishes Raft messages only as itself", async () => {
    const seen = recorder(admin, [`kubus.${cluster}.raft.>`]);
    await admin.flush();
    const s2 = await c.connectAs(await c.natsCredentials().mintMember(cluster, 's2', Date.now()), { name: 'as-s2' });
    s2.publish(`kubus.${cluster}.raft.s3.to.s9`, encode('forged'));
    s2.publish(`kubus.${cluster}.raft.s3.to.s9.snap`, encode('forged chunk'));
    s2.publish(`kubus.${cluster}.raft.s1.to.s9`, encode('forged'));
    s2.publish(names.raft('s2', 's9'), encode('own'));
    s2.publish(names.raftSnapshot('s2', 's9'), encode('own chunk'));
    await s2.flush();
    await waitUntil('the allowed markers', () => seen.length >= 2, { timeoutMs: 5_000 });
    expect(seen).toEqual([names.raft('s2', 's9'), names.raftSnapshot('s2', 's9')]);
  });

  it("a member's user cannot subscribe to another member's Raft inbox", async () => {
    const lines: string[] = [];
    const s2 = await c.connectAs(await c.natsCredentials().mintMember(cluster, 's2', Date.now()), {
      name: 'as-s2-reader', logger: createJsonLogger({ level: 'warn', write: (line) => lines.push(line) }),
    });
    const seen = recorder(s2, [names.raftInbound('s9'), names.raftSnapshotInbound('s9'), `kubus.${cluster}.raft.>`, names.raftInbound('s2')]);
    await s2.flush();
    admin.publish(names.raft('s8', 's9'), encode('for s9'));
    admin.publish(names.raftSnapshot('s8', 's9'), encode('chunk for s9'));
    admin.publish(names.raft('s8', 's2'), encode('for s2'));
    await admin.flush();
    await waitUntil('the marker on its own inbox', () => seen.length >= 1, { timeoutMs: 5_000 });
    expect(seen).toEqual([names.raft('s8', 's2')]);
    const refusals = () => lines.map((line) => JSON.parse(line) as { msg: string; subject: string; error: string }).filter((r) => r.msg === 'subscription refused by the server');
    await waitUntil('three refusals logged', () => refusals().length >= 3, { timeoutMs: 5_000 });
    const refused = refusals();
    expect(refused.map((r) => [r.msg, r.subject]).sort()).toEqual([
      ['subscription refused by the server', names.raftInbound('s9')],
      ['subscription refused by the server', names.raftSnapshotInbound('s9')],
      ['subscription refused by the server', `kubus.${cluster}.raft.>`],
    ].sort());
    expect(refused.every((r) => /permissions violation/i.test(r.error))).toBe(true);
  });

  it("a component's user reaches the API but neither store.> nor raft.>", async () => {
    const component = await c.connectAs(await c.natsCredentials().mintComponent(cluster, 'scheduler', { ttlMs: 60_000, nowMs: Date.now() }));
    // The member subscribes its NATS API front just after its HTTPS server listens: until then a
    // request finds no responders (CI under load saw that gap), which is not what this test is about.
    let status = 0;
    await waitUntil('the API answers over NATS', async () => {
      const version = await callApiOverNats(component, cluster, { method: 'GET', path: '/version', headers: { Authorization: `Bearer ${credentials.adminToken}` } }, 10_000).catch((error: unknown) => {
        if (error instanceof NoRespondersError) return null;
        throw error;
      });
      status = version?.status ?? 0;
      return version !== null;
    }, { timeoutMs: 10_000 });
    expect(status).toBe(200);
    // The store answers the admin; the component's request is refused by the server, never sent.
    await expect(call(admin, names.store('s1'), { type: 'status' }, { timeoutMs: 5_000 })).resolves.toMatchObject({ id: 's1' });
    const refused = await call(component, names.store('s1'), { type: 'status' }, { timeoutMs: 5_000 }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(BusPermissionError);
    expect((refused as BusPermissionError).subject).toBe(names.store('s1'));
    const seen = recorder(component, [`kubus.${cluster}.store.>`, `kubus.${cluster}.raft.>`, names.inboxAll('component-scheduler')]);
    await component.flush();
    admin.publish(names.store('s9'), encode('a store request'));
    admin.publish(names.raft('s8', 's9'), encode('raft'));
    admin.publish(names.inbox('component-scheduler', 'marker'), encode('marker'));
    await admin.flush();
    await waitUntil('the marker on its inbox', () => seen.length >= 1, { timeoutMs: 5_000 });
    expect(seen).toEqual([names.inbox('component-scheduler', 'marker')]);
    const observed = recorder(admin, [`kubus.${cluster}.raft.*.to.s9`]);
    await admin.flush();
    component.publish(names.raft('s1', 's9'), encode('forged'));
    await component.flush();
    admin.publish(names.raft('s8', 's9'), encode('marker'));
    await admin.flush();
    await waitUntil('the observer marker', () => observed.length >= 1, { timeoutMs: 5_000 });
    expect(observed).toEqual([names.raft('s8', 's9')]);
  });

  it("a component's user watches the API over NATS on its own inbox, renewing its stream", async () => {
    const component = await c.connectAs(await c.natsCredentials().mintComponent(cluster, 'controller', { ttlMs: 60_000, nowMs: Date.now() }));
    const namespaces: string[] = [];
    const ends: string[] = [];
    // The admin sees what the component sends on api.stream.<member> and what comes back to its inbox.
    const renewals = recorder(admin, [`kubus.${cluster}.api.stream.>`]);
    const replies = recorder(admin, ['_INBOX.component-controller.>']);
    await admin.flush();
    const watch = await watchApiOverNats(component, cluster, { method: 'GET', path: '/api/v1/namespaces?watch=1', headers: { Authorization: `Bearer ${credentials.adminToken}` } }, {
      onEvent: (event) => namespaces.push((event.object as { metadata: { name: string } }).metadata.name),
      onEnd: (end) => ends.push(end.reason),
    }, { inboxOwner: 'component-controller', renewEveryMs: 100, timeoutMs: 10_000 });
    try {
      expect(watch.status).toBe(200);
      await waitUntil('the four namespaces', () => namespaces.length >= 4, { timeoutMs: 10_000 });
      expect(namespaces.sort()).toEqual(['default', 'kube-node-lease', 'kube-public', 'kube-system']);
      // Renewals on api.stream.<member> are allowed and answered on the component's request inbox.
      await waitUntil('three renewals answered', () => renewals.length >= 3 && replies.length >= 4, { timeoutMs: 5_000 });
      expect(new Set(renewals)).toEqual(new Set([names.apiStream('s1')]));
      expect(ends).toEqual([]);
    } finally {
      watch.close();
    }
  });

  it('a revoked user is disconnected at once; other users stay', async () => {
    const user = await c.natsCredentials().mintComponent(cluster, 'revoked', { ttlMs: 60_000, nowMs: Date.now() });
    const bus = await c.connectAs(user);
    await bus.flush();
    await c.natsCredentials().revoke(user, { servers: [c.natsUrl()], nowMs: Date.now() });
    await waitUntil('the revoked connection closed', () => {
      try {
        bus.publish(names.api(), encode('still here?'));
        return false;
      } catch (error) {
        return error instanceof BusClosedError;
      }
    }, { timeoutMs: 5_000 });
    await admin.flush();
    await expect(c.connectAs(user)).rejects.toThrow(/authorization violation/i);
  });

  it('the CLI without the credentials directory fails clearly, even with --nats', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'kubus-no-credentials-'));
    try {
      const flags = ['--nats', c.natsUrl(), '--cluster', cluster, '--peers', 's1', '--dir', empty];
      for (const args of [['kv', 'get', '/registry/secrets/kube-system/x', ...flags], ['member', 'transfer-leadership', 's1', ...flags], ['status', ...flags]]) {
        const result = await runCli(args);
        expect(result.code).toBe(1);
        expect(result.stdout).toBe('');
        expect(result.stderr).toBe(`kubus: no NATS credentials in ${empty} (${join(empty, 'nats', 'operator.nk')} missing): the bus admits only users minted from a cluster's credentials directory; pass --dir (or --credentials-dir) of the directory \`kubus up\` created\n`);
      }
      const withKeys = await runCli(['kv', 'put', '/sec/probe', 'v', ...flags.slice(0, -2), '--credentials-dir', join(dir, 'credentials')]);
      expect(withKeys.stderr).toBe('');
      expect(withKeys.stdout).toMatch(/^revision \d+\n$/);
      expect(withKeys.code).toBe(0);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  }, 60_000);

  it("a member's data directory and the NATS keys are readable by their owner only (0700 / 0600)", () => {
    const data = modes(c.dataDir('s1'));
    expect(data.some((entry) => entry.path.endsWith('data.mdb'))).toBe(true);
    expect(data.filter((entry) => entry.mode !== (entry.dir ? 0o700 : 0o600))).toEqual([]);
    const keys = modes(natsCredentialsDir(join(dir, 'credentials')));
    expect(keys.map((entry) => entry.path.slice(dir.length)).sort()).toEqual([
      '/credentials/nats', '/credentials/nats/account-signing.nk', '/credentials/nats/account.nk', '/credentials/nats/operator.nk',
      '/credentials/nats/revocations.json', '/credentials/nats/system-account.nk',
    ]);
    expect(keys.filter((entry) => entry.mode !== (entry.dir ? 0o700 : 0o600))).toEqual([]);
  });
});
