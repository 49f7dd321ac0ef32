/**
 * The agent's stream server with the docker runtime against the real engine (the suite:
 * stream-runtime-suite.ts): exec exit 3, stdin, a terminal's resize; attach; port-forward to
 * httpd. Everything is named `kubus-test-h5…` and removed by this run's owner label in afterAll.
 * Without an engine the suite skips outside CI and fails in CI.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { SystemClock } from '../../../bus/clock.js';
import type { Logger } from '../../../bus/logger.js';
import { dockerLabels, ownerOf } from '../../../nodeagent/runtime/docker/index.js';
import { openRuntime } from '../../../nodeagent/runtime/index.js';
import { describeRuntimeStreams } from './stream-runtime-suite.js';

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };
const dir = mkdtempSync(join(tmpdir(), 'kubus-test-h5-docker-'));
const docker = new Docker({ socketPath: '/var/run/docker.sock' });
const engineAnswers = await docker.ping().then(() => true, () => false);
if (!engineAnswers) {
  if (process.env['CI'] === 'true') throw new Error('the docker stream suite needs a Docker engine in CI (apt-get install -y docker.io; dockerd &)');
  process.stderr.write('skipping the docker stream suite: no engine at /var/run/docker.sock (apt-get install -y docker.io; dockerd &)\n');
}

describeRuntimeStreams({
  title: 'the agent stream server with the docker runtime',
  runs: engineAnswers,
  dir,
  cluster: 'h5d',
  open: () => openRuntime('docker', {
    dir, podCidr: () => null, nodeIp: '127.0.0.1', clock: new SystemClock(), logger: silent,
    docker: { namePrefix: 'kubus-test-h5', imageCacheDir: join(tmpdir(), 'kubus-test-h5-image-cache') },
  }),
  cleanup: async () => {
    if (engineAnswers) {
      const leftovers = await docker.listContainers({ all: true, filters: JSON.stringify({ label: [`${dockerLabels.owner}=${ownerOf(dir)}`] }) });
      for (const info of leftovers) await docker.getContainer(info.Id).remove({ force: true }).catch(() => undefined);
    }
    rmSync(dir, { recursive: true, force: true });
  },
});
