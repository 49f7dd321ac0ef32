/**
 * The agent's stream server with the cri runtime against a private containerd started in a temp
 * dir (the suite: stream-runtime-suite.ts): exec exit 3, stdin, a terminal's resize; attach;
 * port-forward to httpd. afterAll removes the pods and stops that containerd by its pid.
 * Without containerd the suite skips outside CI and fails in CI.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SystemClock } from '../../../bus/clock.js';
import type { Logger } from '../../../bus/logger.js';
import { stopPrivateContainerd } from '../../../nodeagent/runtime/cri/index.js';
import { openRuntime } from '../../../nodeagent/runtime/index.js';
import { describeRuntimeStreams } from './stream-runtime-suite.js';

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };
const available = existsSync('/usr/bin/containerd') && existsSync('/usr/lib/cni/bridge');
if (!available) {
  if (process.env['CI'] === 'true') throw new Error('the cri stream suite needs containerd and CNI plugins in CI (apt-get install -y containerd containernetworking-plugins)');
  process.stderr.write('skipping the cri stream suite: no /usr/bin/containerd or /usr/lib/cni (apt-get install -y containerd containernetworking-plugins)\n');
}
const dir = mkdtempSync(join(tmpdir(), 'kubus-test-h5-cri-'));

describeRuntimeStreams({
  title: 'the agent stream server with the cri runtime',
  runs: available,
  dir,
  cluster: 'h5c',
  open: () => openRuntime('cri', { dir, podCidr: () => null, nodeIp: '127.0.0.1', clock: new SystemClock(), logger: silent, cri: { imageCacheDir: join(dir, 'images') } }),
  cleanup: async () => {
    await stopPrivateContainerd(dir, { removePods: true });
    rmSync(dir, { recursive: true, force: true });
  },
});
