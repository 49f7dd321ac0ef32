/**
 * The process runtime's interactive sessions with real processes: exec on a terminal (the
 * command sees a tty, a resize reaches it, its exit code comes back), piped exec with stdin and
 * the container's environment, a missing command as a shell reports it (127 and the message),
 * closing an exec kills its process; attach to a container with `stdin: true` reaches its main
 * process's stdin and sees its output, twice in a row (stdin stays open across attaches), and an
 * attach ends with the container's exit. Each wait polls a condition with a deadline.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SystemClock } from '../../../bus/clock.js';
import type { Logger } from '../../../bus/logger.js';
import { createRuntime, type ContainerConfig, type ContainerRuntime, type ExecSession, type PodSandboxConfig } from '../../../nodeagent/runtime/index.js';
import { waitUntil } from '../../support/wait.js';

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };
const dir = mkdtempSync(join(tmpdir(), 'kubus-process-attach-'));
const runtime: ContainerRuntime = createRuntime('process', { dir, podCidr: () => '127.64.252.0/24', nodeIp: '127.0.0.1', clock: new SystemClock(), logger: silent });

afterAll(async () => {
  for (const sandbox of await runtime.listPodSandboxes()) await runtime.removePodSandbox(sandbox.id);
  await runtime.close();
  rmSync(dir, { recursive: true, force: true });
});

async function until(what: string, holds: () => boolean, deadlineMs = 10_000): Promise<void> {
  await waitUntil(what, holds, { timeoutMs: deadlineMs, intervalMs: 20 });
}

function collect(stream: NodeJS.ReadableStream | null): () => string {
  const chunks: Buffer[] = [];
  stream?.on('data', (chunk: Buffer) => chunks.push(chunk));
  return () => Buffer.concat(chunks).toString('utf8');
}

let pods = 0;
async function runContainer(command: string[], extra: Partial<ContainerConfig> = {}) {
  pods += 1;
  const uid = `uid-${pods}`;
  const sandbox: PodSandboxConfig = { uid, name: `pod-${pods}`, namespace: 'default', attempt: 0, hostname: `pod-${pods}`, labels: { 'io.kubernetes.pod.uid': uid }, annotations: {}, hostNetwork: false, logDirectory: join(dir, 'pods', uid), portMappings: [] };
  const sandboxId = await runtime.runPodSandbox(sandbox);
  const config: ContainerConfig = {
    name: 'app', image: 'none', command, args: [], env: [{ name: 'GREETING', value: 'hello' }], mounts: [], resources: {}, logPath: join(sandbox.logDirectory, 'app', '0.log'), attempt: 0,
    labels: { 'io.kubernetes.container.name': 'app' }, ...extra,
  };
  const id = await runtime.createContainer(sandboxId, config, sandbox);
  await runtime.startContainer(id);
  return { id, logPath: config.logPath };
}

describe('process runtime exec', () => {
  it('on a terminal: the command has a tty, sees the resize, and its exit code comes back', async () => {
    const { id, logPath } = await runContainer(['sleep', '60']);
    const session = await runtime.exec(id, { command: ['sh', '-c', 'tty; until [ "$(stty size)" = "30 100" ]; do sleep 0.05; done; echo "size ok $GREETING"; exit 4'], stdin: false, tty: true });
    expect(session.stderr).toBeNull();
    const output = collect(session.stdout);
    session.resize(100, 30);
    expect(await session.exit).toBe(4);
    await until('the output', () => output().includes('size ok hello'));
    expect(output()).toMatch(/\/dev\/pts\/\d+/);
  });

  it('on a terminal with stdin: input is typed into it, EOF ends the shell', async () => {
    const { id, logPath } = await runContainer(['sleep', '60']);
    const session = await runtime.exec(id, { command: ['sh'], stdin: true, tty: true });
    const output = collect(session.stdout);
    session.stdin?.write('echo "typed $GREETING"; exit 6\n');
    expect(await session.exit).toBe(6);
    await until('the output', () => output().includes('typed hello'));
  });

  it('piped: stdin, stdout and stderr apart, the container\'s environment', async () => {
    const { id, logPath } = await runContainer(['sleep', '60']);
    const session = await runtime.exec(id, { command: ['sh', '-c', 'read line; echo "got $line $GREETING"; echo oops >&2; exit 3'], stdin: true, tty: false });
    const stdout = collect(session.stdout);
    const stderr = collect(session.stderr);
    session.stdin?.end('x\n');
    expect(await session.exit).toBe(3);
    await until('the output', () => stdout() === 'got x hello\n' && stderr() === 'oops\n');
  });

  it('a missing command is 127 with the shell\'s message; closing a session kills its process', async () => {
    const { id, logPath } = await runContainer(['sleep', '60']);
    const missing = await runtime.exec(id, { command: ['no-such-command-here'], stdin: false, tty: false });
    const stderr = collect(missing.stderr);
    expect(await missing.exit).toBe(127);
    await until('the message', () => stderr().includes('executable file not found in $PATH'));
    const long = await runtime.exec(id, { command: ['sleep', '60'], stdin: false, tty: false }) as ExecSession & { close(): void };
    long.close();
    expect(await long.exit).toBe(137);
    const onTerminal = await runtime.exec(id, { command: ['sleep', '60'], stdin: false, tty: true }) as ExecSession & { close(): void };
    onTerminal.close();
    expect(await onTerminal.exit).toBeGreaterThan(128);
  });
});

describe('process runtime attach', () => {
  it('reaches the main process\'s stdin and output, twice (stdin stays open), and ends with the container', async () => {
    const { id, logPath } = await runContainer(['sh', '-c', 'while read line; do echo "got $line"; [ "$line" = bye ] && exit 5; done'], { stdin: true });
    const first = await runtime.attach(id, { stdin: true, tty: false }) as ExecSession & { close(): void };
    const firstOut = collect(first.stdout);
    first.stdin?.write('one\n');
    await until('the first answer', () => firstOut() === 'got one\n');
    first.close();
    expect(await first.exit).toBe(-1);
    const second = await runtime.attach(id, { stdin: true, tty: false });
    const secondOut = collect(second.stdout);
    collect(second.stderr);
    second.stdin?.write('two\nbye\n');
    expect(await second.exit).toBe(5);
    expect(secondOut()).toBe('got two\ngot bye\n');
    expect((await runtime.containerStatus(id))?.exitCode).toBe(5);
  });

  it('without stdin on the container: output only', async () => {
    const { id, logPath } = await runContainer(['sh', '-c', 'echo early; i=0; while [ $i -lt 400 ]; do echo "tick $i"; i=$((i+1)); sleep 0.05; done']);
    await until('the first line in the log', () => existsSync(logPath) && readFileSync(logPath, 'utf8').includes('early'));
    const session = await runtime.attach(id, { stdin: true, tty: false }) as ExecSession & { close(): void };
    expect(session.stdin).toBeNull();
    const output = collect(session.stdout);
    collect(session.stderr);
    await until('ticks', () => /tick \d+\ntick \d+\n/.test(output()));
    // From now on only: not from the container's start.
    expect(output()).not.toContain('early');
    session.close();
  });
});
