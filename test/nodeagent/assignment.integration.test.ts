/**
 * The assignment stream end to end on 3 real members (issue 11 §4): the controller manager's relay
 * publishes on `node.<N>.assign`, and an assignment client connected as the node's own NATS user
 * (minted with `mintAgent`: it may subscribe only to its node's subjects) keeps a view of its pods
 * that equals what the API lists for `spec.nodeName=<N>`, through creates, binds, updates and
 * deletes. Then the member holding the controller manager's Lease is killed with -9 while pods
 * change: another member's relay starts a new epoch, the client relists, and its view again equals
 * the API's, with nothing lost.
 *
 * Each client runs as its node, as in the agent: joined with a bootstrap token and the CA pin (a
 * `system:node:<N>` certificate), then the node's own NATS user (subscribe only `node.<N>.>`) and
 * API token (the Node authorizer lets it list exactly its pods) from the credentials endpoint.
 * The Node objects are the test's (hollow nodes, created after the joins: a live node's name
 * cannot be joined).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { SystemClock, createJsonLogger, decode, subjects, type Bus } from '../../bus/index.js';
import { join } from 'node:path';
import { newBootstrapToken } from '../../actors/apiserver/authn/index.js';
import { refs } from '../../actors/controllers/runtime/index.js';
import { NodeSession, caCertHash, ensureIdentity } from '../../nodeagent/join/index.js';
import type { AgentContext } from '../../nodeagent/agent-context.js';
import { startAssignmentClient, type AssignmentClient, type AssignmentMessage, type AssignmentUpdate } from '../../nodeagent/assignment/index.js';
import { callAs, startApiHarness, type ApiHarness } from '../apiserver/harness.js';
import { requireComponent } from '../support/components.js';
import { adminApi, createHollowNodes, memberOfIdentity, startNodeLeaseRenewer, waitForLeaseHolder, type NodeLeaseRenewer } from '../support/control-plane.js';
import { waitUntil } from '../support/wait.js';

const runs = requireComponent('nats-server', 'apt-get install -y nats-server');
const ns = 'assign';

/** The pod manager's side: the pods the client says the node has, by uid. */
class View {
  readonly pods = new Map<string, Pod>();
  syncs = 0;
  apply(update: AssignmentUpdate): void {
    if (update.type === 'sync') {
      this.syncs++;
      this.pods.clear();
      for (const pod of update.pods) this.pods.set(pod.metadata?.uid ?? '', pod);
    } else if (update.type === 'upsert') {
      this.pods.set(update.pod.metadata?.uid ?? '', update.pod);
    } else {
      this.pods.delete(update.uid);
    }
  }
  /** `name@resourceVersion`, sorted: what must equal the API's list. */
  summary(): string[] {
    return [...this.pods.values()].map((p) => `${p.metadata?.name}@${p.metadata?.resourceVersion}`).sort();
  }
}

describe.runIf(runs)('assignment relay and client (3 members)', () => {
  let h: ApiHarness;
  let renewer: NodeLeaseRenewer;
  const clients: AssignmentClient[] = [];
  const sessions: NodeSession[] = [];
  const views = new Map<string, View>();
  const epochs = new Map<string, Set<string>>();
  const api = () => adminApi(h);

  async function apiSummary(node: string): Promise<string[]> {
    const { items } = await api().list<Pod>(refs.pods, { fieldSelector: `spec.nodeName=${node}` });
    return items.map((p) => `${p.metadata?.name}@${p.metadata?.resourceVersion}`).sort();
  }

  async function converged(node: string, timeoutMs = 20_000): Promise<void> {
    let last = '';
    await waitUntil(`${node}'s view equal to the API's`, async () => {
      const [want, have] = [await apiSummary(node), views.get(node)?.summary() ?? []];
      last = `api ${JSON.stringify(want)} client ${JSON.stringify(have)}`;
      return JSON.stringify(want) === JSON.stringify(have);
    }, { timeoutMs, intervalMs: 200 }).catch((error: Error) => {
      throw new Error(`${error.message}: ${last}`);
    });
  }

  /** Joins `node` as an agent does and returns its session (its own bus and API client). */
  async function joinAs(node: string, token: string): Promise<NodeSession> {
    const logger = createJsonLogger({ level: 'warn', fields: { node } });
    // The join's retry delay (it backs off between attempts on an unreachable server), not a wait in the test.
    const env = { logger, nowMs: () => Date.now(), sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)) };
    const dir = join(h.dir, 'agents', node);
    const joined = await ensureIdentity({ node, dir, server: h.url, token, caCertHash: caCertHash(h.caCertPem) }, env);
    const session = await NodeSession.open(joined, { dir, clock: new SystemClock(), env });
    sessions.push(session);
    await session.connected();
    return session;
  }

  async function startClient(node: string, session: NodeSession): Promise<void> {
    const bus: Bus = session.bus;
    const clock = new SystemClock();
    const logger = createJsonLogger({ level: 'warn', fields: { node } });
    const ctx: AgentContext = { nodeName: node, cluster: session.cluster, dir: h.dir, api: session.api, bus, clock, wallClock: () => new Date(), logger };
    const view = new View();
    views.set(node, view);
    clients.push(startAssignmentClient(ctx, (u) => view.apply(u)));
    // What the relay sends, seen on the same node's connection (its permission allows exactly this subject).
    const seen = new Set<string>();
    epochs.set(node, seen);
    bus.subscribe(subjects(h.cluster.cluster).nodeAssign(node), (m) => seen.add(decode<AssignmentMessage>(m.data).epoch), { pendingMax: 10_000 });
  }

  /** Deletes a pod and waits until it is gone: a bound pod is first only marked (graceful deletion), then the hollow node confirms. */
  async function deleteAndWait(name: string, timeoutMs = 20_000): Promise<void> {
    await waitUntil(`delete of ${name} accepted`, () => api().delete(refs.pods, ns, name).then(() => true, (e: { code?: string }) => e?.code === 'notFound'), { timeoutMs, intervalMs: 500 });
    await waitUntil(`${name} gone`, () => api().get(refs.pods, ns, name).then(() => false, (e: { code?: string }) => e?.code === 'notFound'), { timeoutMs, intervalMs: 100 });
  }

  function pod(name: string, node: string | null): Pod {
    return {
      apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns, labels: { app: 'assign' } },
      spec: { schedulerName: 'nobody', ...(node !== null ? { nodeName: node } : {}), containers: [{ name: 'c', image: 'busybox' }] },
    };
  }

  beforeAll(async () => {
    h = await startApiHarness();
    await api().create(refs.namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    const bootstrap = newBootstrapToken(new Date(Date.now() + 30 * 60_000));
    await api().create(refs.secrets, 'kube-system', bootstrap.secret);
    // The bootstrapper policy is created and watched after start: wait until the token may use it.
    await waitUntil('the bootstrapper may list CSRs', async () => (await callAs(h, 'GET', '/apis/certificates.k8s.io/v1/certificatesigningrequests', { token: bootstrap.token })).status === 200, { timeoutMs: 30_000, intervalMs: 200 });
    const joined = [await joinAs('assign-1', bootstrap.token), await joinAs('assign-2', bootstrap.token)];
    const nodes = await createHollowNodes(h, 2, { prefix: 'assign' });
    renewer = startNodeLeaseRenewer(h, nodes);
    for (const [i, node] of nodes.entries()) await startClient(node, joined[i] as NodeSession);
  });

  afterAll(async () => {
    for (const client of clients) await client.stop();
    for (const session of sessions) await session.stop();
    await renewer?.stop();
    await h?.stop();
  });

  it('the client as the node user sees exactly its pods through creates, binds, updates and deletes', async () => {
    await waitUntil('both clients synced', () => clients.every((c) => c.synced()), { timeoutMs: 30_000 });
    for (let i = 0; i < 4; i++) await api().create(refs.pods, ns, pod(`a${i}`, 'assign-1'));
    await api().create(refs.pods, ns, pod('b0', 'assign-2'));
    await api().create(refs.pods, ns, pod('late', null));
    await api().create(refs.pods, ns, { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'late', namespace: ns }, target: { apiVersion: 'v1', kind: 'Node', name: 'assign-1' } }, { subresource: 'binding', name: 'late' });
    await converged('assign-1');
    expect(views.get('assign-1')?.summary().map((s) => s.split('@')[0])).toEqual(['a0', 'a1', 'a2', 'a3', 'late']);
    await converged('assign-2');
    await api().patch(refs.pods, ns, 'a1', { metadata: { labels: { touched: 'yes' } } }, 'merge');
    await deleteAndWait('a2');
    await converged('assign-1');
    expect(views.get('assign-1')?.summary().map((s) => s.split('@')[0])).toEqual(['a0', 'a1', 'a3', 'late']);
    expect(views.get('assign-1')?.pods.size).toBe(4);
    // The stream, not relists, carried these: one sync so far per client (the first list).
    expect(views.get('assign-1')?.syncs).toBe(1);
    expect(epochs.get('assign-1')?.size).toBe(1);
  });

  it('kill -9 of the controller manager Lease holder: a new epoch, a relist, nothing lost', async () => {
    const holder = await waitForLeaseHolder(h, 'kube-controller-manager');
    const victim = memberOfIdentity(holder);
    const before = epochs.get('assign-1')?.size ?? 0;
    const syncsBefore = views.get('assign-1')?.syncs ?? 0;
    h.cluster.kill(victim);
    // Changes while no relay runs (the API answers from the other two members once the store has a leader).
    const survivors = h.cluster.memberIds.filter((id) => id !== victim);
    await h.cluster.waitForLeader({ timeoutMs: 20_000, among: survivors });
    await waitUntil('a create during the failover', async () => (await api().create(refs.pods, ns, pod('during', 'assign-1')).then(() => true, () => false)), { timeoutMs: 20_000, intervalMs: 500 });
    await deleteAndWait('a0');
    await waitForLeaseHolder(h, 'kube-controller-manager', { not: holder, timeoutMs: 30_000 });
    await waitUntil('a new relay epoch on node assign-1', () => (epochs.get('assign-1')?.size ?? 0) > before, { timeoutMs: 30_000 });
    await converged('assign-1', 30_000);
    expect(views.get('assign-1')?.syncs).toBeGreaterThan(syncsBefore);
    // And the new relay streams again: a change after the failover arrives without another relist.
    const syncsAfter = views.get('assign-1')?.syncs ?? 0;
    await api().create(refs.pods, ns, pod('after', 'assign-1'));
    await converged('assign-1');
    expect(views.get('assign-1')?.summary().map((s) => s.split('@')[0])).toEqual(['a1', 'a3', 'after', 'during', 'late']);
    expect(views.get('assign-1')?.syncs).toBe(syncsAfter);
    await converged('assign-2');
  });
});
