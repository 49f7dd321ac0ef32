/**
 * The stream server suite run against a container runtime (docker, cri): one pod with a busybox
 * httpd container (`web`) and a `stdin: true` echo loop (`echo`), the agent's stream server over a
 * real nats-server (stream-fixture.ts), and a member-like opener: exec `sh -c 'exit 3'` ends with
 * exit code 3; exec with stdin and its close; exec on a terminal sees the resize; attach reaches
 * the echo loop's stdin; port-forward carries an HTTP request to the httpd.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExecStreamHeader } from '../../../nodeagent/rpc/stream-protocol.js';
import { localImageRefs } from '../../../nodeagent/runtime/images/index.js';
import { runtimeLabels, type ContainerConfig, type ContainerRuntime, type PodSandboxConfig } from '../../../nodeagent/runtime/index.js';
import { readFrames, sendResize, sendStdin, sendStdinEof } from './stream-client.js';
import { startStreamFixture, type StreamFixture } from './stream-fixture.js';
import { waitUntil } from '../../support/wait.js';

export interface RuntimeSuite {
  readonly title: string;
  readonly runs: boolean;
  /** The agent's directory (pod log directories go under it). */
  readonly dir: string;
  readonly cluster: string;
  readonly open: () => Promise<ContainerRuntime>;
  /** Removes what the runtime made (containers outlive the runtime by design). */
  readonly cleanup: () => Promise<void>;
}

async function until(what: string, holds: () => boolean, deadlineMs = 20_000): Promise<void> {
  await waitUntil(what, holds, { timeoutMs: deadlineMs, intervalMs: 25 });
}

export function describeRuntimeStreams(suite: RuntimeSuite): void {
  describe.skipIf(!suite.runs)(suite.title, () => {
    let runtime: ContainerRuntime | null = null;
    let fixture: StreamFixture;
    const pod = { uid: `00000000-h5-${suite.cluster}`, name: 'h5-web' };

    beforeAll(async () => {
      const opened = await suite.open();
      runtime = opened;
      const sandbox: PodSandboxConfig = {
        uid: pod.uid, name: pod.name, namespace: 'default', attempt: 0, hostname: pod.name, labels: { [runtimeLabels.podUid]: pod.uid }, annotations: {}, hostNetwork: false,
        logDirectory: join(suite.dir, 'pods', `default_${pod.name}_${pod.uid}`), portMappings: [],
      };
      const sandboxId = await opened.runPodSandbox(sandbox);
      const container = (name: string, command: string[], extra: Partial<ContainerConfig> = {}): ContainerConfig => ({
        name, image: localImageRefs.busybox, command, args: [], env: [], mounts: [], resources: {}, attempt: 0, logPath: join(sandbox.logDirectory, name, '0.log'),
        labels: { [runtimeLabels.podUid]: pod.uid, [runtimeLabels.podName]: pod.name, [runtimeLabels.podNamespace]: 'default', [runtimeLabels.containerName]: name, [runtimeLabels.attempt]: '0' },
        ...extra,
      });
      for (const config of [
        container('web', ['sh', '-c', 'mkdir -p /tmp/www && echo pong > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www']),
        container('echo', ['sh', '-c', 'while read line; do echo "got $line"; done'], { stdin: true }),
      ]) await opened.startContainer(await opened.createContainer(sandboxId, config, sandbox));
      fixture = await startStreamFixture(opened, { cluster: suite.cluster, node: 'n1' });
    }, 120_000);

    afterAll(async () => {
      await fixture?.stop();
      await runtime?.close();
      await suite.cleanup();
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

      // As `kubectl exec -it` asks (stdin and a terminal); the shell does not read its input.
      const terminal = await fixture.open(exec(['sh', '-c', 'until [ "$(stty size)" = "25 90" ]; do sleep 0.05; done; echo resized; exit 2'], { stdin: true, stderr: false, tty: true }));
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
      // httpd listens a moment after its container started: a refused forward is retried.
      await until('httpd through the forward', () => {
        if (answer === '') {
          answer = 'pending';
          void fixture.open({ v: 1, op: 'portforward', namespace: 'default', name: pod.name, uid: pod.uid, port: 8080 }).then((stream) => {
            const forwarded = readFrames(stream);
            sendStdin(stream, 'GET / HTTP/1.0\r\n\r\n');
            stream.on('end', () => {
              answer = forwarded.text(1).includes('pong') ? forwarded.text(1) : '';
              stream.end();
            });
          }, () => { answer = ''; });
        }
        return answer.includes('pong');
      }, 30_000);
      expect(answer).toMatch(/^HTTP\/1\.[01] 200/);
    }, 60_000);
  });
}
