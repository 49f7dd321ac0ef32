/**
 * `kubus up --servers 1 --agents 2 --runtime hollow` as a user runs it: the agents join as separate
 * processes, their Nodes are Ready with the host's facts, a loopback pod CIDR and a Lease;
 * `kubus status` lists them; `kubus down` stops the agents first; `kubus up` again restarts them
 * with the identity they had (same Node, no second join) and waits for their fresh renewals.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Node } from 'kubernetes-types/core/v1.js';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import { afterAll, describe, expect, it } from 'vitest';
import { requireComponent } from '../support/components.js';
import { clusterFile, kubectl, kubus } from '../nodeagent/node/up-cluster.js';

const runs = requireComponent('nats-server', 'apt-get install -y nats-server') && requireComponent('kubectl', 'see https://kubernetes.io/docs/tasks/tools/');

describe.runIf(runs)('kubus up --agents', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kubus-up-agents-'));

  afterAll(async () => {
    await kubus(dir, ['down']);
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it('starts hollow agents as joined hosts, lists their Nodes, stops them first and restarts them', async () => {
    const up = await kubus(dir, ['up', '--servers', '1', '--agents', '2', '--runtime', 'hollow']);
    expect([up.code, up.stderr]).toEqual([0, '']);
    const lines = up.stdout.split('\n').filter((line) => /^kubus up: (creating|agent |waiting for \d+ node|every node|node |join)/.test(line));
    expect(lines).toEqual([
      'kubus up: creating a bootstrap token for the agents (kubus token create --bootstrap)',
      expect.stringMatching(new RegExp(`^kubus up: agent kubus-agent-1: started \\(pid \\d+\\), log ${join(dir, '.kubus', 'logs')}/kubus-agent-1\\.log$`)),
      expect.stringMatching(/^kubus up: agent kubus-agent-2: started \(pid \d+\), log /),
      'kubus up: waiting for 2 nodes to be Ready',
      'kubus up: every node is Ready',
      'kubus up: node kubus-agent-1: address 127.32.0.1 (hollow: no service proxy, no cluster DNS)',
      'kubus up: node kubus-agent-2: address 127.32.0.2 (hollow: no service proxy, no cluster DNS)',
      expect.stringMatching(/^kubus up: join a worker host \(run on it; the API address must be reachable from there\): kubus agent --server https:\/\/127\.0\.0\.1:\d+ --token \$\(kubus token create --bootstrap --dir \.kubus\) --ca-cert-hash sha256:[0-9a-f]{64} --name <node> --dir \/var\/lib\/kubus-agent$/),
    ]);

    const nodes = (JSON.parse((await kubectl(dir, ['get', 'nodes', '-o', 'json'])).stdout) as { items: Node[] }).items;
    expect(nodes.map((n) => n.metadata?.name)).toEqual(['kubus-agent-1', 'kubus-agent-2']);
    for (const [i, node] of nodes.entries()) {
      expect(node.metadata?.labels).toMatchObject({ 'kubernetes.io/hostname': node.metadata?.name, 'kubernetes.io/os': 'linux' });
      expect(node.spec?.podCIDR).toMatch(/^127\.\d+\.\d+\.0\/24$/);
      // Each local node has its own loopback address (up-network.ts).
      expect(node.status?.addresses).toContainEqual({ type: 'InternalIP', address: `127.32.0.${i + 1}` });
      expect(node.status?.capacity).toMatchObject({ pods: '110' });
      expect(node.status?.nodeInfo?.containerRuntimeVersion).toMatch(/^[a-z-]+:\/\/.+/);
      expect(node.status?.conditions?.map((c) => [c.type, c.status])).toEqual([['MemoryPressure', 'False'], ['DiskPressure', 'False'], ['PIDPressure', 'False'], ['Ready', 'True']]);
    }
    const leases = (JSON.parse((await kubectl(dir, ['get', 'leases', '-n', 'kube-node-lease', '-o', 'json'])).stdout) as { items: Lease[] }).items;
    expect(leases.map((l) => [l.metadata?.name, l.spec?.holderIdentity])).toEqual([['kubus-agent-1', 'kubus-agent-1'], ['kubus-agent-2', 'kubus-agent-2']]);

    const status = await kubus(dir, ['status']);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/\n\nNODE +READY +PODS +AGE *\nkubus-agent-1 +True +0 +\d+s *\nkubus-agent-2 +True +0 +\d+s *\n$/);

    const down = await kubus(dir, ['down']);
    expect(down.code).toBe(0);
    expect(down.stdout.split('\n').slice(0, 4).map((line) => line.replace(/\d+/g, 'N'))).toEqual([
      expect.stringMatching(/^kubus down: agent kubus-agent-N stopped \(pid N\)$/),
      expect.stringMatching(/^kubus down: agent kubus-agent-N stopped \(pid N\)$/),
      'kubus down: server sN stopped (pid N)',
      'kubus down: nats nats stopped (pid N)',
    ]);

    // Restarted with the cluster: the same Nodes (identity kept in each agent's --dir), freshly renewed.
    const again = await kubus(dir, ['up', '--servers', '1']);
    expect([again.code, again.stderr]).toEqual([0, '']);
    expect(again.stdout).not.toContain('creating a bootstrap token');
    expect(again.stdout).toContain('kubus up: every node is Ready');
    const after = (JSON.parse((await kubectl(dir, ['get', 'nodes', '-o', 'json'])).stdout) as { items: Node[] }).items;
    expect(after.map((n) => n.metadata?.uid)).toEqual(nodes.map((n) => n.metadata?.uid));
    expect(clusterFile(dir).processes.filter((p) => p.role === 'agent').map((p) => p.id)).toEqual(['kubus-agent-1', 'kubus-agent-2']);
  }, 240_000);
});
