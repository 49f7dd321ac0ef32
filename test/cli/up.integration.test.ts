/**
 * The README's quick start, run as a user runs it: `kubus up` in an empty directory (it keeps
 * everything under `./.kubus`), `kubus status`, `kubectl --kubeconfig .kubus/kubeconfig get
 * namespaces`, `kubus kv get /registry/namespaces/default`, `kubus down`; then `kubus up` again on
 * the same directory (the data stays) and `kubus down`. Each command is a real process; the test
 * checks exit codes and the exact lines printed (pids, ports and the elected leader vary, so those
 * lines are matched with patterns). Along the way: the bus of a `kubus up` cluster refuses an
 * anonymous client, and `.kubus` is readable by its owner only.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'nats';
import { afterAll, describe, expect, it } from 'vitest';
import { requireComponent } from '../support/components.js';
import { kubectlIn as kubectl, kubus, type Run } from '../nodeagent/node/up-cluster.js';

const runs = requireComponent('nats-server', 'apt-get install -y nats-server') && requireComponent('kubectl', 'see https://kubernetes.io/docs/tasks/tools/');

/** `up` prints progress lines while it waits ("2/3 members answering, ..."); the rest is fixed. */
function upLines(stdout: string): string[] {
  return stdout.split('\n').filter((line) => line !== '' && !/^kubus up: \d\/3 members answering, leader: /.test(line));
}

function expectUp(run: Run, dir: string, verb: 'started'): string {
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  const lines = upLines(run.stdout);
  const kubusDir = join(dir, '.kubus');
  const expected = [
    new RegExp(`^kubus up: nats nats: ${verb} \\(pid \\d+\\), log ${kubusDir}/logs/nats\\.log$`),
    ...['s1', 's2', 's3'].map((id) => new RegExp(`^kubus up: server ${id}: ${verb} \\(pid \\d+\\), log ${kubusDir}/logs/${id}\\.log$`)),
    /^kubus up: scheduler and controller manager run in every member, active where they hold their Lease; local timing: leader election lease 4s \/ renew 3s \/ retry 1s \(Kubernetes: 15s\/10s\/2s\), node monitor grace period 8s \(Kubernetes: 40s\)$/,
    /^kubus up: waiting for a leader \(up to 60 s\)$/,
    /^kubus up: leader: s[123]; waiting for every API server to be ready$/,
    /^kubus up: every member is ready\. The cluster is up\.$/,
    /^kubus up: addresses, all on loopback \(served with no network setup\): Services 127\.96\.0\.0\/16 \(the first is the kubernetes Service\), NodePorts 30000-32767, pods 127\.64\.0\.0\/11 \(a \/24 per node\), load balancers 127\.98\.0\.0\/24 \(cloud provider local\)$/,
    new RegExp(`^kubus up:   kubectl --kubeconfig ${kubusDir}/kubeconfig get namespaces$`),
    /^kubus up: join a worker host \(run on it; the API address must be reachable from there\): kubus agent --server https:\/\/127\.0\.0\.1:\d+ --token \$\(kubus token create --bootstrap --dir \.kubus\) --ca-cert-hash sha256:[0-9a-f]{64} --name <node> --dir \/var\/lib\/kubus-agent$/,
    /^kubus up:   kubus status --dir \.kubus$/,
    /^kubus up:   kubus down --dir \.kubus$/,
  ];
  expect(lines.length).toBe(expected.length);
  lines.forEach((line, i) => expect(line).toMatch(expected[i] as RegExp));
  return (/leader: (s[123]);/.exec(run.stdout) as RegExpExecArray)[1] as string;
}

function expectDown(run: Run, dir: string): void {
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  const lines = run.stdout.split('\n').filter((line) => line !== '');
  const expected = [
    ...['s1', 's2', 's3'].map((id) => new RegExp(`^kubus down: server ${id} stopped \\(pid \\d+\\)$`)),
    /^kubus down: nats nats stopped \(pid \d+\)$/,
    new RegExp(`^kubus down: done; data kept in ${join(dir, '.kubus')} \\(kubus up --dir \\.kubus restarts it\\)$`),
  ];
  expect(lines.length).toBe(expected.length);
  lines.forEach((line, i) => expect(line).toMatch(expected[i] as RegExp));
}

describe.runIf(runs)("the README's quick start: kubus up, status, kubectl, kv, down", () => {
  const dir = mkdtempSync(join(tmpdir(), 'kubus-quickstart-'));

  afterAll(async () => {
    // Whatever happened, nothing `up` started outlives the test (down stops by recorded pid).
    await kubus(dir, ['down']);
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts a 3-member cluster, answers every command, stops, and restarts with its data', async () => {
    const leader = expectUp(await kubus(dir, ['up']), dir, 'started');

    const status = await kubus(dir, ['status']);
    expect(status.stderr).toBe('');
    expect(status.code).toBe(0);
    const lines = status.stdout.split('\n');
    expect(lines[0]).toMatch(/^MEMBER +ROLE +LEADER +TERM +COMMIT +APPLIED +REVISION +REACHABLE *$/);
    for (const [i, id] of ['s1', 's2', 's3'].entries()) {
      const role = id === leader ? 'leader' : 'follower';
      // A leader hears every voter; a follower hears itself and the leader at least. Cells are padded.
      expect(lines[i + 1]).toMatch(new RegExp(`^${id} +${role} +${leader} +\\d+ +\\d+ +\\d+ +\\d+ +${role === 'leader' ? '3' : '[23]'}/3 *$`));
    }
    expect(lines.slice(4)).toEqual(['', `leader: ${leader}   writes: available   failure tolerance: 1`, '']);

    const namespaces = await kubectl(dir, ['--kubeconfig', '.kubus/kubeconfig', 'get', 'namespaces', '-o', 'custom-columns=NAME:.metadata.name,STATUS:.status.phase']);
    expect(namespaces.stderr).toBe('');
    expect(namespaces.code).toBe(0);
    expect(namespaces.stdout).toBe('NAME              STATUS\ndefault           Active\nkube-node-lease   Active\nkube-public       Active\nkube-system       Active\n');

    const stored = await kubus(dir, ['kv', 'get', '/registry/namespaces/default']);
    expect(stored.stderr).toBe('');
    expect(stored.code).toBe(0);
    const namespace = JSON.parse(stored.stdout) as { kind: string; metadata: { name: string }; status: { phase: string } };
    expect([namespace.kind, namespace.metadata.name, namespace.status.phase]).toEqual(['Namespace', 'default', 'Active']);

    // The bus of this cluster admits minted users only; `.kubus` (keys, tokens, data) is the owner's alone.
    const { natsUrl } = JSON.parse(readFileSync(join(dir, '.kubus', 'cluster.json'), 'utf8')) as { natsUrl: string };
    const anonymous = await connect({ servers: natsUrl, reconnect: false }).then((c) => c.close().then(() => 'connected'), (e: { code?: string }) => e.code);
    expect(anonymous).toBe('AUTHORIZATION_VIOLATION');
    for (const path of ['.kubus', '.kubus/nats', '.kubus/s1', '.kubus/pki']) expect([path, statSync(join(dir, path)).mode & 0o777]).toEqual([path, 0o700]);
    for (const path of ['.kubus/nats/account-signing.nk', '.kubus/tokens.csv', '.kubus/pki/ca.key', '.kubus/s1/store/data.mdb', '.kubus/nats.conf', '.kubus/kubeconfig']) {
      expect([path, statSync(join(dir, path)).mode & 0o777]).toEqual([path, 0o600]);
    }

    expectDown(await kubus(dir, ['down']), dir);

    expectUp(await kubus(dir, ['up']), dir, 'started');
    const again = await kubus(dir, ['kv', 'get', '/registry/namespaces/default']);
    expect([again.code, again.stderr, again.stdout]).toEqual([0, '', stored.stdout]);
    expectDown(await kubus(dir, ['down']), dir);
  }, 300_000);
});
