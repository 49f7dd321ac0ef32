/** `kubus up --agents`: the agents planned (argv exactly as a real host's join, plus local flags: node address, DNS), ages as kubectl prints them. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createCa } from '../../actors/apiserver/pki.js';
import type { ClusterFile } from '../../actors/cli/commands/cluster-file.js';
import { agentName, clusterCaHash, formatAge, joinCommandLine, planAgents } from '../../actors/cli/commands/up-agents.js';
import { caCertHash } from '../../nodeagent/join/ca-pin.js';

describe('kubus up --agents', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kubus-up-agents-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file: ClusterFile = {
    cluster: 'demo', natsUrl: 'nats://127.0.0.1:4222', members: ['s1'], kubeconfig: join(dir, 'kubeconfig'),
    processes: [
      { role: 'nats', id: 'nats', pid: 0, argv: ['nats-server'], dataDir: null, log: 'nats.log' },
      { role: 'server', id: 's1', pid: 0, argv: ['kubus', 'server'], dataDir: join(dir, 's1'), log: 's1.log', apiUrl: 'https://127.0.0.1:6443' },
    ],
  };

  it('plans the missing agents with the join flags of a real host, one token for all', async () => {
    const ca = await createCa('test-ca');
    mkdirSync(join(dir, 'pki'));
    writeFileSync(join(dir, 'pki', 'ca.crt'), ca.certPem);
    let tokens = 0;
    const token = (): string => (tokens++, 'abcdef.0123456789abcdef');
    const planned = planAgents(file, 2, { dir, cliArgv: ['node', 'main.ts'], runtime: 'hollow', token, privileged: false });
    expect(tokens).toBe(1);
    expect(planned.map((p) => [p.role, p.id, p.dataDir])).toEqual([
      ['agent', 'demo-agent-1', join(dir, 'agents', 'demo-agent-1')],
      ['agent', 'demo-agent-2', join(dir, 'agents', 'demo-agent-2')],
    ]);
    expect(planned[0]?.argv).toEqual([
      'node', 'main.ts', 'agent', '--server', 'https://127.0.0.1:6443', '--token', 'abcdef.0123456789abcdef', '--ca-cert-hash', caCertHash(ca.certPem),
      '--name', 'demo-agent-1', '--dir', join(dir, 'agents', 'demo-agent-1'), '--runtime', 'hollow',
      '--node-lease-renew-interval', '2s', '--drain-on-stop', '--node-ip', '127.32.0.1', '--cluster-dns', '127.32.0.1:1053',
    ]);
    expect(planned[1]?.argv.slice(-4)).toEqual(['--node-ip', '127.32.0.2', '--cluster-dns', '127.32.0.2:1053']);
    expect(clusterCaHash(dir)).toBe(caCertHash(ca.certPem));

    // Agents recorded stay; only the missing ones are added, and no token is made when none is missing.
    const withOne: ClusterFile = { ...file, processes: [...file.processes, planned[0] as ClusterFile['processes'][number]] };
    expect(planAgents(withOne, 1, { dir, cliArgv: [], runtime: 'process', token, privileged: true })).toEqual([]);
    const second = planAgents(withOne, 2, { dir, cliArgv: [], runtime: 'process', token, privileged: true });
    expect(second.map((p) => p.id)).toEqual([agentName('demo', 2)]);
    // The next agent takes the next node address; as root its DNS listens on port 53.
    expect(second[0]?.argv.slice(-4)).toEqual(['--node-ip', '127.32.0.2', '--cluster-dns', '127.32.0.2:53']);
    expect(tokens).toBe(2);

    expect(joinCommandLine(file, dir, '.kubus')).toBe(
      `kubus agent --server https://127.0.0.1:6443 --token $(kubus token create --bootstrap --dir .kubus) --ca-cert-hash ${caCertHash(ca.certPem)} --name <node> --dir /var/lib/kubus-agent`,
    );
  });

  it('prints ages as kubectl does', () => {
    expect([0, 119, 120, 7_199, 7_200, 172_799, 172_800].map(formatAge)).toEqual(['0s', '119s', '2m', '119m', '2h', '47h', '2d']);
  });
});
