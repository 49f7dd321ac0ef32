/**
 * `kubus up` without `--runtime` (issue 13 §1): it picks the runtime this host supports best —
 * cri when containerd is installed (CI installs it), else docker when an engine answers, else
 * process — says which and why, and with a container runtime the agents run the README's busybox
 * example from the locally built image with no registry: a Deployment of `kubus.local/busybox:1.35`
 * serving HTTP on its pod IP. `kubus down` then leaves no private containerd running. (A short
 * directory all the same: containerd refuses socket paths over 104 bytes, which the cri runtime
 * then moves under /run/kubus-cri.)
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { chooseUpRuntime, probeRuntimes } from '../../actors/cli/commands/up-runtime.js';
import { localImageRefs } from '../../nodeagent/runtime/images/index.js';
import { requireComponent } from '../support/components.js';
import { http, kubectl, kubus, waitForRunningPods } from '../nodeagent/node/up-cluster.js';

const runs = requireComponent('nats-server', 'apt-get install -y nats-server') && requireComponent('kubectl', 'see https://kubernetes.io/docs/tasks/tools/') &&
  // CI installs containerd (.ci/run), so there the default must be cri; elsewhere the suite checks whatever this host offers.
  (process.env['CI'] !== 'true' || requireComponent('containerd', 'apt-get install -y containerd'));

const example = JSON.stringify({
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'hello', namespace: 'default' },
  spec: {
    replicas: 2, selector: { matchLabels: { app: 'hello' } },
    template: {
      metadata: { labels: { app: 'hello' } },
      spec: { containers: [{ name: 'hello', image: localImageRefs.busybox, command: ['sh', '-c', 'echo "hello from $HOSTNAME" > /tmp/index.html && exec httpd -f -p 8080 -h /tmp'] }] },
    },
  },
});

describe.runIf(runs)('kubus up picks a container runtime', () => {
  const dir = mkdtempSync(join(tmpdir(), 'h3-upr-'));

  afterAll(async () => {
    await kubus(dir, ['down']);
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it('says which runtime and why, and runs the busybox example from the local image', async () => {
    const expected = chooseUpRuntime(await probeRuntimes());
    if (process.env['CI'] === 'true') expect(expected.runtime).toBe('cri');
    const up = await kubus(dir, ['up', '--servers', '1', '--agents', '1']);
    expect([up.code, up.stderr]).toEqual([0, '']);
    expect(up.stdout).toContain(`kubus up: runtime ${expected.runtime}: ${expected.reason}`);
    if (expected.runtime !== 'cri' && expected.runtime !== 'docker') return;

    const applied = await kubectl(dir, ['apply', '-f', '-'], example);
    expect([applied.code, applied.stderr]).toEqual([0, '']);
    const pods = await waitForRunningPods(dir, 'hello', 2, 120_000);
    for (const pod of pods) {
      const answer = await http(pod.status?.podIP ?? '', 8080, '/');
      expect([answer?.status, answer?.body]).toEqual([200, `hello from ${pod.metadata?.name}\n`]);
    }

    const down = await kubus(dir, ['down']);
    expect(down.code).toBe(0);
    // The agent's private containerd (cri) is stopped with it: none runs from this directory.
    const daemons = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n').filter((line) => line.startsWith('/usr/bin/containerd ') && line.includes(dir));
    expect(daemons).toEqual([]);
  }, 300_000);
});
