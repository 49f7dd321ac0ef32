/**
 * Issue 11 §8, first case, as a user runs it: `kubus up --servers 3 --agents 2` (agents join as
 * separate processes with a bootstrap token), `kubectl apply` a Deployment of 4 replicas whose
 * container is a `node -e` HTTP server bound to its POD_IP (downward API): 4 pods Running and
 * Ready on the 2 nodes, each answering on its own pod IP; `kubectl logs` shows its output; kill -9
 * of a container process restarts it (restartCount grows, Ready again); a failing liveness probe
 * restarts it; a crashing command reaches CrashLoopBackOff with growing delays; deleting a pod runs
 * its preStop hook and SIGTERM and a replacement starts; `kubus down` stops everything.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { afterAll, describe, expect, it } from 'vitest';
import { requireComponent } from '../support/components.js';
import { waitUntil } from '../support/wait.js';
import { http, isReady, kubectl, kubus, live, podsOf, restarts, serverDeployment, waitForRunningPods } from './node/up-cluster.js';

const runs = requireComponent('nats-server', 'apt-get install -y nats-server') && requireComponent('kubectl', 'see https://kubernetes.io/docs/tasks/tools/');
const port = 8080;

/** A container that exits 1 at once, restartPolicy Always: the kubelet's CrashLoopBackOff (10 s, doubling). */
const crasher = JSON.stringify({
  apiVersion: 'v1', kind: 'Pod', metadata: { name: 'crasher', namespace: 'default', labels: { app: 'crasher' } },
  spec: { restartPolicy: 'Always', containers: [{ name: 'crash', image: 'kubus.io/process', command: [process.execPath, '-e', "console.log('crashing'); process.exit(1)"] }] },
});

/** Records when each restartCount of the app's first pod was first seen, polling in the background until stopped. */
function watchRestarts(dir: string, app: string): { seen: Map<number, number>; reasons: Set<string>; stop(): void } {
  const seen = new Map<number, number>();
  const reasons = new Set<string>();
  let stopped = false;
  void (async () => {
    while (!stopped) {
      const pod = (await podsOf(dir, app))[0];
      if (pod !== undefined) {
        if (!seen.has(restarts(pod))) seen.set(restarts(pod), Date.now());
        const waiting = pod.status?.containerStatuses?.[0]?.state?.waiting?.reason;
        if (waiting !== undefined) reasons.add(waiting);
      }
      // A sampler's pace, not a wait for state: it records each restart count as it first appears.
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  })();
  return { seen, reasons, stop: () => (stopped = true) };
}

describe.runIf(runs)('a kubus up cluster with 2 process agents runs a Deployment', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kubus-agents-'));
  const marks = join(dir, 'marks.log');

  afterAll(async () => {
    await kubus(dir, ['down']);
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it('runs, restarts, probes, backs off, terminates gracefully and replaces pods', async () => {
    const up = await kubus(dir, ['up', '--servers', '3', '--agents', '2', '--runtime', 'process']);
    expect([up.code, up.stderr]).toEqual([0, '']);
    expect(up.stdout).toMatch(/kubus up: agent kubus-agent-1: started \(pid \d+\)/);
    expect(up.stdout).toMatch(/kubus up: every node is Ready/);
    expect(up.stdout).toMatch(/kubus agent --server https:\/\/127\.0\.0\.1:\d+ --token .* --ca-cert-hash sha256:[0-9a-f]{64} --name <node>/);

    const status = await kubus(dir, ['status']);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^NODE +READY +PODS +AGE *$/m);
    expect(status.stdout).toMatch(/^kubus-agent-1 +True +\d+ +\d+[smhd] *$/m);
    expect(status.stdout).toMatch(/^kubus-agent-2 +True +\d+ +\d+[smhd] *$/m);

    const nodes = await kubectl(dir, ['get', 'nodes', '-o', 'json']);
    const items = (JSON.parse(nodes.stdout) as { items: { metadata: { name: string; labels: Record<string, string> }; spec: { podCIDR?: string } }[] }).items;
    expect(items.map((n) => n.metadata.name).sort()).toEqual(['kubus-agent-1', 'kubus-agent-2']);
    for (const node of items) {
      expect(node.metadata.labels['kubernetes.io/hostname']).toBe(node.metadata.name);
      expect(node.spec.podCIDR).toMatch(/^127\.\d+\.\d+\.0\/24$/);
    }

    // The crasher first: its back-off takes the longest, and runs while the rest is checked.
    expect((await kubectl(dir, ['apply', '-f', '-'], crasher)).code).toBe(0);
    const crashes = watchRestarts(dir, 'crasher');
    const applied = await kubectl(dir, ['apply', '-f', '-'], serverDeployment({ name: 'web', replicas: 4, port, marks }));
    expect([applied.code, applied.stderr]).toEqual([0, '']);

    const running = await waitForRunningPods(dir, 'web', 4, 60_000);
    expect(new Set(running.map((p) => p.spec?.nodeName)).size).toBe(2);
    const ips = running.map((p) => p.status?.podIP as string);
    expect(new Set(ips).size).toBe(4);
    for (const ip of ips) {
      expect(ip).toMatch(/^127\./);
      expect(await http(ip, port, '/')).toEqual({ status: 200, body: 'ok' });
    }

    const [first, second, third] = running as [Pod, Pod, Pod, Pod];
    // Soft: a failure here is reported with kubectl's stderr, and the steps after it still run.
    const logs = await kubectl(dir, ['logs', first.metadata?.name as string]);
    expect.soft(logs).toEqual({ code: 0, stderr: '', stdout: expect.stringContaining(`listening on ${first.status?.podIP}:${port}`) });

    // kill -9 of the container's process: restarted, Ready again.
    const pid = Number((await http(first.status?.podIP as string, port, '/pid'))?.body);
    process.kill(pid, 'SIGKILL');
    await waitUntil('the killed container restarted and Ready', async () => {
      const pod = (await podsOf(dir, 'web')).find((p) => p.metadata?.name === first.metadata?.name);
      return pod !== undefined && restarts(pod) > restarts(first) && isReady(pod);
    }, { timeoutMs: 30_000, intervalMs: 500 });
    const previous = await kubectl(dir, ['logs', '--previous', first.metadata?.name as string]);
    expect.soft(previous).toEqual({ code: 0, stderr: '', stdout: expect.stringContaining('listening on') });

    // A failing liveness probe restarts the container.
    await http(second.status?.podIP as string, port, '/break');
    await waitUntil('the container whose liveness failed restarted', async () => {
      const pod = (await podsOf(dir, 'web')).find((p) => p.metadata?.name === second.metadata?.name);
      return pod !== undefined && restarts(pod) > restarts(second) && isReady(pod);
    }, { timeoutMs: 30_000, intervalMs: 500 });

    // Deleting a pod: preStop, then SIGTERM, then a replacement.
    const deleted = await kubectl(dir, ['delete', 'pod', third.metadata?.name as string, '--wait=true']);
    expect(deleted.code).toBe(0);
    const written = existsSync(marks) ? readFileSync(marks, 'utf8') : '';
    expect(written).toContain(`prestop ${third.metadata?.name}`);
    expect(written).toContain(`sigterm ${third.metadata?.name}`);
    expect(written.indexOf(`prestop ${third.metadata?.name}`)).toBeLessThan(written.indexOf(`sigterm ${third.metadata?.name}`));
    await waitUntil('a replacement pod Running and Ready', async () => {
      const pods = (await podsOf(dir, 'web')).filter(live);
      return pods.length === 4 && pods.every(isReady) && !pods.some((p) => p.metadata?.name === third.metadata?.name);
    }, { timeoutMs: 30_000, intervalMs: 500 });

    // CrashLoopBackOff as the kubelet's: the first restart at once, then 10 s, then 20 s (doubling, 5 min at most).
    await waitUntil('the crasher restarted three times in CrashLoopBackOff', () => crashes.seen.has(3) && crashes.reasons.has('CrashLoopBackOff'), { timeoutMs: 60_000, intervalMs: 250 });
    crashes.stop();
    const [t1, t2, t3] = [1, 2, 3].map((n) => crashes.seen.get(n) as number) as [number, number, number];
    expect(t2 - t1).toBeGreaterThan(8_000);
    expect(t3 - t2).toBeGreaterThan(1.5 * (t2 - t1));

    const serving = [...new Set([...ips, ...(await podsOf(dir, 'web')).map((p) => p.status?.podIP ?? '').filter((ip) => ip !== '')])];
    const down = await kubus(dir, ['down']);
    expect(down.code).toBe(0);
    expect(down.stdout.split('\n')[0]).toMatch(/^kubus down: agent kubus-agent-\d stopped/);
    // The agents drained their pods on SIGTERM (up starts them with --drain-on-stop): nothing answers any more.
    await waitUntil('every pod address silent after kubus down', async () => {
      const answers = await Promise.all(serving.map((ip) => http(ip, port, '/')));
      return answers.every((answer) => answer === null);
    }, { timeoutMs: 10_000, intervalMs: 500 });
  }, 300_000);
});
