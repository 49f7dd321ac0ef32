/**
 * Node agents on the closed bus (issue 11 §1): a real member process on a real nats-server in
 * operator mode, set up as `kubus up` does, and agent users minted exactly as the API's
 * credentials endpoint mints them (`NatsCredentials.mintAgent`). An agent may subscribe only to its
 * own node's subjects and its own inbox, publish only requests to the API and one answer per rpc
 * request it received; nothing else:
 * - it cannot subscribe to another node's subjects, `raft.>`, `store.>` nor `_INBOX.>`
 *   (PERMISSIONS_VIOLATION from the server, and nothing arrives);
 * - it cannot publish to `raft.*`, `store.*` nor another node's subjects (PERMISSIONS_VIOLATION,
 *   and an observer with admin rights receives nothing);
 * - it reaches the API over NATS, and answers one request on its rpc subject (a second answer is refused);
 * - it may open tunnels to other nodes (`node.<N>.tunnel`, `node.<N>.tunnel.>`, issue 12) but not
 *   receive theirs; a control-plane component may not publish there at all;
 * - a revoked agent is disconnected within a second and cannot connect again, while another agent
 *   and the member keep working.
 *
 * The agent side uses the nats client directly, to see the server's permission errors as they come
 * (`status()` events naming operation and subject). How "nothing arrives" is shown: after the
 * forbidden traffic, an allowed marker goes through the same connection, and NATS keeps one
 * connection's order, so once the marker arrives a forbidden message would have arrived before it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, jwtAuthenticator, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encode, subjects, type NatsUser } from '../../bus/index.js';
import { callApiOverNats } from '../../actors/apiserver/nats-front.js';
import { ensureClusterCredentials, type ClusterCredentials } from '../../actors/apiserver/index.js';
import { LocalCluster } from '../../scenarios/topology/local-processes.js';
import { requireComponent } from '../support/components.js';
import { waitUntil } from '../support/wait.js';

const runs = requireComponent('nats-server', 'apt-get install -y nats-server');
const cluster = 'agents';
const names = subjects(cluster);
const prefix = `kubus.${cluster}`;

interface Violation {
  readonly operation: string;
  readonly subject: string;
}

interface Client {
  readonly nc: NatsConnection;
  readonly violations: Violation[];
}

let dir = '';
let c: LocalCluster;
let credentials: ClusterCredentials;
let admin: Client;

async function connectWith(user: NatsUser): Promise<Client> {
  const nc = await connect({
    servers: c.natsUrl(), name: user.name, reconnect: false, timeout: 5_000,
    authenticator: jwtAuthenticator(user.jwt, new TextEncoder().encode(user.seed)),
    ...(user.inboxPrefix !== null ? { inboxPrefix: user.inboxPrefix } : {}),
  });
  const violations: Violation[] = [];
  void (async () => {
    for await (const status of nc.status()) {
      const context = (status as { permissionContext?: Violation }).permissionContext;
      if (status.type === 'error' && status.data === 'PERMISSIONS_VIOLATION' && context !== undefined) violations.push({ operation: context.operation, subject: context.subject });
    }
  })();
  return { nc, violations };
}

async function agent(node: string): Promise<{ user: NatsUser; client: Client }> {
  const user = await c.natsCredentials().mintAgent(cluster, node, { ttlMs: 60_000, nowMs: Date.now() });
  return { user, client: await connectWith(user) };
}

/** Subjects a connection received, in order (a refused subscription's callback gets the error only). */
function record(client: Client, patterns: readonly string[]): string[] {
  const seen: string[] = [];
  for (const pattern of patterns) {
    client.nc.subscribe(pattern, {
      callback: (error, message) => {
        if (error === null) seen.push(message.subject);
      },
    });
  }
  return seen;
}

const sorted = (violations: readonly Violation[]): Violation[] => [...violations].sort((a, b) => `${a.operation} ${a.subject}`.localeCompare(`${b.operation} ${b.subject}`));

beforeAll(async () => {
  if (!runs) return;
  dir = mkdtempSync(join(tmpdir(), 'kubus-agent-bus-'));
  credentials = await ensureClusterCredentials(join(dir, 'credentials'), { hosts: ['127.0.0.1'] });
  c = new LocalCluster({ dir: join(dir, 'cluster'), members: 1, cluster, apiCredentialsDir: join(dir, 'credentials') });
  await c.start();
  await c.waitForLeader({ timeoutMs: 30_000 });
  admin = await connectWith(await c.natsCredentials().mintAdmin(cluster, { ttlMs: null, nowMs: Date.now() }));
}, 60_000);

afterAll(async () => {
  await admin?.nc.close();
  await c?.stop();
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

describe.runIf(runs)('security: node agents on the closed bus', () => {
  it("an agent cannot subscribe to another node's subjects, raft.>, store.> nor _INBOX.>", async () => {
    const { client } = await agent('n1');
    const forbidden = [`${prefix}.node.n2.>`, `${prefix}.node.n2.assign`, `${prefix}.raft.>`, `${prefix}.store.>`, '_INBOX.>'];
    const seen = record(client, [...forbidden, `${prefix}.node.n1.>`]);
    await client.nc.flush();
    await waitUntil('five refusals', () => client.violations.length >= forbidden.length, { timeoutMs: 5_000 });
    admin.nc.publish(`${prefix}.node.n2.assign`, encode('for n2'));
    admin.nc.publish(`${prefix}.raft.s8.to.s9`, encode('raft'));
    admin.nc.publish(`${prefix}.store.s9`, encode('store'));
    admin.nc.publish('_INBOX.someone.1', encode('someone else\'s answer'));
    admin.nc.publish(`${prefix}.node.n1.assign`, encode('marker'));
    await admin.nc.flush();
    await waitUntil('the marker on its own subject', () => seen.length >= 1, { timeoutMs: 5_000 });
    expect(seen).toEqual([`${prefix}.node.n1.assign`]);
    expect(sorted(client.violations)).toEqual(sorted(forbidden.map((subject) => ({ operation: 'subscription', subject }))));
    await client.nc.close();
  });

  it("an agent cannot publish to raft.*, store.* nor another node's subjects; nobody receives it", async () => {
    const { client } = await agent('n1');
    // Subjects of a member s9 and nodes that do not exist: the running member's own traffic stays out of the record.
    const forbidden = [`${prefix}.raft.s1.to.s9`, `${prefix}.raft.s1.to.s9.snap`, `${prefix}.store.s9`, `${prefix}.node.n2.assign`, `${prefix}.node.n2.rpc`, `${prefix}.node.n1.assign`];
    const marker = `${prefix}.api.stream.s9`;
    const observed = record(admin, [...forbidden, marker]);
    await admin.nc.flush();
    for (const subject of forbidden) client.nc.publish(subject, encode('forged'));
    // Allowed: a watch renewal towards a member's stream subject (nobody serves s9; the observer sees it).
    client.nc.publish(marker, encode('marker'));
    await client.nc.flush();
    await waitUntil('the marker and the refusals', () => observed.length >= 1 && client.violations.length >= forbidden.length, { timeoutMs: 5_000 });
    expect(observed).toEqual([marker]);
    expect(sorted(client.violations)).toEqual(sorted(forbidden.map((subject) => ({ operation: 'publish', subject }))));
    await client.nc.close();
  });

  it('an agent reaches the API over NATS and answers one request on its rpc subject', async () => {
    const { user } = await agent('n1');
    const bus = await c.connectAs(user);
    const version = await callApiOverNats(bus, cluster, { method: 'GET', path: '/version', headers: { Authorization: `Bearer ${credentials.adminToken}` } }, 10_000);
    expect(version.status).toBe(200);
    await bus.close();
    const { client } = await agent('n1');
    client.nc.subscribe(`${prefix}.node.n1.rpc`, {
      callback: (_error, message) => {
        message.respond(encode('first'));
        message.respond(encode('second'));
      },
    });
    await client.nc.flush();
    const reply = await admin.nc.request(`${prefix}.node.n1.rpc`, encode('logs please'), { timeout: 5_000 });
    expect(reply.data).toEqual(encode('first'));
    await waitUntil('the second answer refused', () => client.violations.length >= 1, { timeoutMs: 5_000 });
    expect(client.violations).toEqual([{ operation: 'publish', subject: reply.subject }]);
    await client.nc.close();
  });

  it("an agent publishes tunnel opens and frames to another node but cannot receive them; a component cannot publish there", async () => {
    const { client } = await agent('n1');
    const component = await connectWith(await c.natsCredentials().mintComponent(cluster, 'kube-scheduler', { ttlMs: 60_000, nowMs: Date.now() }));
    const tunnel = [`${prefix}.node.n2.tunnel`, `${prefix}.node.n2.tunnel.0123abcd`, `${prefix}.node.n2.tunnel.dialed.0123abcd`];
    const observed = record(admin, [`${prefix}.node.n2.tunnel`, `${prefix}.node.n2.tunnel.>`]);
    const stolen = record(client, [`${prefix}.node.n2.tunnel.>`]);
    await Promise.all([admin.nc.flush(), client.nc.flush()]);
    for (const subject of tunnel) component.nc.publish(subject, encode('forged open'));
    await component.nc.flush();
    for (const subject of tunnel) client.nc.publish(subject, encode('open'));
    await client.nc.flush();
    await waitUntil('the agent\'s tunnel traffic and the refusals', () => observed.length >= tunnel.length && component.violations.length >= tunnel.length && client.violations.length >= 1, { timeoutMs: 5_000 });
    expect(observed).toEqual(tunnel);
    expect(stolen).toEqual([]);
    expect(client.violations).toEqual([{ operation: 'subscription', subject: `${prefix}.node.n2.tunnel.>` }]);
    expect(sorted(component.violations)).toEqual(sorted(tunnel.map((subject) => ({ operation: 'publish', subject }))));
    await component.nc.close();
    await client.nc.close();
  });

  it('a revoked agent is disconnected within a second and cannot connect again; another agent and the member keep working', async () => {
    const revoked = await agent('n3');
    const other = await agent('n4');
    const seen = record(other.client, [`${prefix}.node.n4.>`]);
    await Promise.all([revoked.client.nc.flush(), other.client.nc.flush()]);
    // Timed from the server's acceptance of the claims push (revoke resolves then); making the push
    // itself (three ed25519 signatures in pure JS) takes a few hundred ms more on a loaded machine.
    await c.natsCredentials().revoke(revoked.user, { servers: [c.natsUrl()], nowMs: Date.now() });
    const started = Date.now();
    await revoked.client.nc.closed();
    expect(Date.now() - started).toBeLessThanOrEqual(1_000);
    await expect(connectWith(revoked.user)).rejects.toMatchObject({ code: 'AUTHORIZATION_VIOLATION' });
    admin.nc.publish(`${prefix}.node.n4.assign`, encode('still yours'));
    await admin.nc.flush();
    await waitUntil('the other agent still receives', () => seen.length >= 1, { timeoutMs: 5_000 });
    expect(other.client.nc.isClosed()).toBe(false);
    const bus = await c.connectAs(other.user);
    const namespaces = await callApiOverNats(bus, cluster, { method: 'GET', path: '/api/v1/namespaces', headers: { Authorization: `Bearer ${credentials.adminToken}` } }, 10_000);
    expect(namespaces.status).toBe(200);
    await bus.close();
    await other.client.nc.close();
  });
});
