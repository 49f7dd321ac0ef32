/**
 * The `local` provider under the cloud controller manager on a 3-member cluster of real
 * processes (`--cloud-provider local --cloud-config <pool 127.98.6.8/29>`): a LoadBalancer
 * Service gets an ingress address from the pool, and the leader's process answers on it with the
 * replies of the nodes' NodePorts. The nodes are hollow (the test renews their Leases); each
 * "NodePort" is a TCP server the test starts on the node's InternalIP at the port the API
 * allocated, as an agent's service proxy would. When the leader's term ends with its process
 * alive (SIGSTOP past its Lease, then SIGCONT), the old leader releases the listeners and the next
 * leader answers on the same address (from the Service's status). Deleting the Service then
 * closes the listener: had the old process kept it, the port would still answer.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Node, Service } from 'kubernetes-types/core/v1.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../bus/index.js';
import { isNotFound, refs } from '../../actors/controllers/runtime/index.js';
import { startApiHarness, type ApiHarness } from '../apiserver/harness.js';
import { requireComponent } from '../support/components.js';
import { adminApi, createHollowNodes, memberOfIdentity, startNodeLeaseRenewer, waitForLeaseHolder, type NodeLeaseRenewer } from '../support/control-plane.js';
import { waitUntil } from '../support/wait.js';
import { ask } from './tcp-ask.js';

const runs = requireComponent('nats-server', 'apt-get install -y nats-server');
const ns = 'default';

describe.runIf(runs)('local cloud provider under the cloud controller manager', () => {
  let h: ApiHarness;
  let dir: string;
  let renewer: NodeLeaseRenewer;
  const servers: Server[] = [];
  const api = (): ReturnType<typeof adminApi> => adminApi(h);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kubus-local-cloud-'));
    const file = join(dir, 'cloud.yaml');
    writeFileSync(file, 'pool: 127.98.6.8/29\n');
    h = await startApiHarness({ serverArgs: ['--cloud-provider', 'local', '--cloud-config', file] });
    const names = await createHollowNodes(h, 2, { prefix: 'lb' });
    renewer = startNodeLeaseRenewer(h, names, 1_000);
  });

  afterAll(async () => {
    await renewer?.stop();
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
    await h?.stop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('a LoadBalancer Service answers on its pool address with every node\'s NodePort, and stops when deleted', async () => {
    const port = await freePort('127.98.6.9');
    await api().create(refs.services, ns, {
      apiVersion: 'v1', kind: 'Service', metadata: { name: 'edge', namespace: ns },
      spec: { type: 'LoadBalancer', selector: { app: 'edge' }, ports: [{ port, targetPort: 8080 }] },
    } satisfies Service);
    const created = await api().get<Service>(refs.services, ns, 'edge');
    const nodePort = created.spec?.ports?.[0]?.nodePort as number;
    expect(nodePort).toBeGreaterThan(0);
    // Each node's "NodePort": a server on its InternalIP that names the node.
    const nodes = (await api().list<Node>(refs.nodes, {})).items;
    for (const node of nodes) {
      const ip = node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address as string;
      const server = createServer((socket) => socket.end(`node ${node.metadata?.name}`));
      await new Promise<void>((resolve) => server.listen({ host: ip, port: nodePort }, resolve));
      servers.push(server);
    }

    const ready = await waitUntil('edge has a load balancer ingress', async () => {
      const found = await api().get<Service>(refs.services, ns, 'edge');
      return (found.status?.loadBalancer?.ingress?.length ?? 0) > 0 ? found : null;
    }, { timeoutMs: 30_000, intervalMs: 200 });
    const ip = ready.status?.loadBalancer?.ingress?.[0]?.ip as string;
    expect(ip).toMatch(/^127\.98\.6\.(9|1[0-4])$/);

    const replies = new Set<string>();
    await waitUntil('replies from both nodes through the balancer', async () => {
      replies.add(await ask(ip, port));
      return replies.has('node lb-1') && replies.has('node lb-2');
    }, { timeoutMs: 20_000, intervalMs: 50 });
    expect([...replies].filter((reply) => !reply.startsWith('node '))).toEqual([]);

    // The leader's term ends while its process lives on (SIGSTOP past the Lease): the next leader's
    // listen fails (EADDRINUSE, retried) until the old process resumes, sees its term over and
    // stops its provider; the next leader then listens on the address the status names.
    const holder = await waitForLeaseHolder(h, 'cloud-controller-manager');
    const paused = memberOfIdentity(holder);
    h.cluster.pause(paused);
    try {
      await waitForLeaseHolder(h, 'cloud-controller-manager', { not: holder, timeoutMs: 30_000 });
    } finally {
      h.cluster.resume(paused);
    }
    await waitUntil('the balancer answering again after the leader change', async () => (await ask(ip, port)).startsWith('node '), { timeoutMs: 45_000, intervalMs: 100 });
    const after = await api().get<Service>(refs.services, ns, 'edge');
    expect(after.status?.loadBalancer?.ingress).toEqual([{ ip }]);

    await api().delete(refs.services, ns, 'edge');
    await waitUntil('edge deleted', async () =>
      api().get(refs.services, ns, 'edge').then(() => false, (e: unknown) => (isNotFound(e) ? true : Promise.reject(e))), { timeoutMs: 30_000, intervalMs: 200 });
    expect(await ask(ip, port)).toBe('ECONNREFUSED');
  });
});
