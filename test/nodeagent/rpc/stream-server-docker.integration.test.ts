/**
 * The agent's stream server with the docker runtime against the real engine, driven by a
 * member-like opener over a real nats-server: exec `sh -c 'exit 3'` ends with exit code 3;
 * exec with stdin and its close; exec on a terminal sees the resize; attach reaches a
 * `stdin: true` container's main process; port-forward carries an HTTP request to a busybox
 * httpd. Everything is named `kubus-test-h5…` and removed by this run's owner label in afterAll.
 * Without an engine the suite skips outside CI and fails in CI.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SystemClock } from '../../../bus/clock.js';
import type { Logger } from '../../../bus/logger.js';
import type { ExecStreamHeader } from '../../../nodeagent/rpc/stream-protocol.js';
import { dockerLabels, ownerOf } from '../../../nodeagent/runtime/docker/index.js';
import { localImageRefs } from '../../../nodeagent/runtime/images/index.js';
import { openRuntime, runtimeLabels, type ContainerConfig, type ContainerRuntime, type PodSandboxConfig } from '../../../nodeagent/runtime/index.js';
import { readFrames, sendResize, sendStdin, sendStdinEof } from './stream-client.js';
import { startStreamFixture, type StreamFixture } from './stream-fixture.js';

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };
const dir = mkdtempSync(join(tmpdir(), 'kubus-test-h5-docker-'));
const docker = new Docker({ socketPath: '/var/run/docker.sock' });
const engineAnswers = await docker.ping().then(() => true, () => false);
if (!engineAnswers) {
  if (process.env['CI'] === 'true') throw new Error('the docker stream suite needs a Docker engine in CI (apt-get install -y docker.io; dockerd &)');
  process.stderr.write('skipping the docker stream suite: no engine at /var/run/docker.sock (apt-get install -y docker.io; dockerd &)\n');
}

async function until(what: string, holds: () => boolean, deadlineMs = 20_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!holds()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe.skipIf(!engineAnswers)('the agent stream server with the docker runtime', () => {
  let runtime: ContainerRuntime;
  let fixture: StreamFixture;
  const pod = { uid: '00000000-h5-0001', name: 'h5-web' };

  beforeAll(async () => {
    runtime = await openRuntime('docker', {
      dir, podCidr: () => null, nodeIp: '127.0.0.1', clock: new SystemClock(), logger: silent,
      docker: { namePrefix: 'kubus-test-h5', imageCacheDir: join(tmpdir(), 'kubus-test-h5-image-cache') },
    });
    const sandbox: PodSandboxConfig = {
      uid: pod.uid, name: pod.name, namespace: 'default', attempt: 0, hostname: pod.name, labels: { [runtimeLabels.podUid]: pod.uid }, annotations: {}, hostNetwork: false,
      logDirectory: join(dir, 'pods', `default_${pod.name}_${pod.uid}`), portMappings: [],
    };
    const sandboxId = await runtime.runPodSandbox(sandbox);
    const container = (name: string, command: string[], extra: Partial<ContainerConfig> = {}): ContainerConfig => ({
      name, image: localImageRefs.busybox, command, args: [], env: [], mounts: [], resources: {}, attempt: 0, logPath: join(sandbox.logDirectory, name, '0.log'),
      labels: { [runtimeLabels.podUid]: pod.uid, [runtimeLabels.podName]: pod.name, [runtimeLabels.podNamespace]: 'default', [runtimeLabels.containerName]: name, [runtimeLabels.attempt]: '0' },
      ...extra,
    });
    for (const config of [
      container('web', ['sh', '-c', 'mkdir -p /www && echo pong > /www/index.html && exec httpd -f -p 8080 -h /www']),
      container('echo', ['sh', '-c', 'while read line; do echo "got $line"; done'], { stdin: true }),
    ]) await runtime.startContainer(await runtime.createContainer(sandboxId, config, sandbox));
    fixture = await startStreamFixture(runtime, { cluster: 'h5d', node: 'n1' });
  }, 120_000);

  afterAll(async () => {
    await fixture?.stop();
    await runtime?.close();
    if (engineAnswers) {
      const leftovers = await docker.listContainers({ all: true, filters: JSON.stringify({ label: [`${dockerLabels.owner}=${ownerOf(dir)}`] }) });
      for (const info of leftovers) await docker.getContainer(info.Id).remove({ force: true }).catch(() => undefined);
    }
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  const exec = (command: string[], extra: Partial<ExecStreamHeader> = {}): ExecStreamHeader => ({
    v: 1, op: 'exec', namespace: 'default', name: pod.name, uid: pod.uid, container: 'web', command, stdin: false, stdout: true, stderr: true, tty: false, ...extra,
  });

  it('exec: exit code 3, stdin and its close, a terminal with a resize', async () => {
    const exit3 = readFrames(await fixture.open(exec(['sh', '-c', 'echo out; echo err >&2; exit 3'])));
    await until('exit 3', () => exit3.ended());
    expect([exit3.text(1), exit3.text(2), exit3.status()]).toEqual(['out\n', 'err\n', { exitCode: 3 }]);

    const stream = await fixture.open(exec(['sh', '-c', 'cat; echo done'], { stdin: true }));
    const piped = readFrames(stream);
    sendStdin(stream, 'line one\n');
    sendStdinEof(stream);
    await until('the piped exec', () => piped.ended());
    expect([piped.text(1), piped.status()]).toEqual(['line one\ndone\n', { exitCode: 0 }]);
    stream.end();

    const terminal = await fixture.open(exec(['sh', '-c', 'until [ "$(stty size)" = "25 90" ]; do sleep 0.05; done; echo resized; exit 2'], { stderr: false, tty: true }));
    const onTerminal = readFrames(terminal);
    sendResize(terminal, 90, 25);
    await until('the terminal exec', () => onTerminal.ended());
    expect(onTerminal.text(1)).toContain('resized');
    expect(onTerminal.status()).toEqual({ exitCode: 2 });
  }, 60_000);

  it('attach: the main process\'s stdin and output', async () => {
    const stream = await fixture.open({ ...exec([]), op: 'attach', container: 'echo', stdin: true });
    const attached = readFrames(stream);
    sendStdin(stream, 'ping\n');
    await until('the echo', () => attached.text(1).includes('got ping'));
    stream.destroy();
  }, 60_000);

  it('port-forward: an HTTP request to the pod\'s httpd', async () => {
    let answer = '';
    await until('httpd through the forward', () => {
      if (answer === '') {
        answer = 'pending';
        void fixture.open({ v: 1, op: 'portforward', namespace: 'default', name: pod.name, uid: pod.uid, port: 8080 }).then((stream) => {
          const forwarded = readFrames(stream);
          sendStdin(stream, 'GET / HTTP/1.0\r\n\r\n');
          stream.on('end', () => { answer = forwarded.text(1).includes('pong') ? forwarded.text(1) : ''; stream.end(); });
        }, () => { answer = ''; });
      }
      return answer.includes('pong');
    }, 30_000);
    expect(answer).toMatch(/^HTTP\/1\.[01] 200/);
  }, 60_000);
});
