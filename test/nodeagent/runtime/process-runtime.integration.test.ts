/**
 * The process runtime with real processes: a `node -e` HTTP server bound to its pod IP (POD_IP,
 * as the downward API gives it) answers there; kill -9 of a container is an `exited` event with
 * 137; port-forward reaches a pod's port; stop honours SIGTERM within the grace and sends SIGKILL after it; a new runtime instance
 * over the same directory adopts a running container (same pid, same address) and later reports
 * its recorded exit code, and a container outlives an agent killed with SIGKILL, its output of
 * that time reaching the CRI log once the next agent runs; output becomes CRI log lines (partial lines, rotation at 10 MiB);
 * execSync and piped exec see the container's environment and working directory (mounts as symlinks and
 * KUBUS_MOUNT_ variables); a missing command is
 * ContainerCannotRun; a memory limit is enforced with OOMKilled where cgroups are writable.
 * Each test polls for the state it waits for, with a deadline; nothing sleeps to wait.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SystemClock } from '../../../bus/clock.js';
import type { Logger } from '../../../bus/logger.js';
import {
  createRuntime, killProcessContainers, parseCriLogLine, PortForwardError, RuntimeUnsupportedError, type ContainerConfig, type ContainerEvent, type ContainerRuntime, type PodSandboxConfig,
} from '../../../nodeagent/runtime/index.js';

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };
const dir = mkdtempSync(join(tmpdir(), 'kubus-process-runtime-'));
const cidr = '127.64.251.0/24';
const runtimes: ContainerRuntime[] = [];

function newRuntime(): ContainerRuntime {
  const runtime = createRuntime('process', { dir, podCidr: () => cidr, nodeIp: '127.0.0.1', clock: new SystemClock(), logger: silent });
  runtimes.push(runtime);
  return runtime;
}

afterAll(async () => {
  for (const each of runtimes) await each.close();
  // Whatever a failed test left running: a fresh instance over each directory adopts it and removes it.
  for (const runtimeDir of [dir, join(dir, 'killed-agent')]) {
    if (!existsSync(join(runtimeDir, 'runtime'))) continue;
    const sweeper = createRuntime('process', { dir: runtimeDir, podCidr: () => null, nodeIp: '127.0.0.1', clock: new SystemClock(), logger: silent });
    for (const sandbox of await sweeper.listPodSandboxes()) await sweeper.removePodSandbox(sandbox.id);
    await sweeper.close();
  }
  rmSync(dir, { recursive: true, force: true });
});

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, deadlineMs = 10_000): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

let podCount = 0;
function sandboxConfig(): PodSandboxConfig {
  podCount += 1;
  const uid = `uid-${podCount}`;
  return { uid, name: `pod-${podCount}`, namespace: 'default', attempt: 0, hostname: `pod-${podCount}`, labels: { 'io.kubernetes.pod.uid': uid }, annotations: {}, hostNetwork: false, logDirectory: join(dir, 'pods', uid), portMappings: [] };
}

function containerConfig(sandbox: PodSandboxConfig, command: string[], extra: Partial<ContainerConfig> = {}): ContainerConfig {
  return {
    name: 'app', image: 'none', command, args: [], env: [], mounts: [], resources: {}, logPath: join(sandbox.logDirectory, 'app', '0.log'), attempt: 0,
    labels: { 'io.kubernetes.container.name': 'app' }, ...extra,
  };
}

async function runContainer(runtime: ContainerRuntime, command: string[], extra: (ip: string) => Partial<ContainerConfig> = () => ({})) {
  const sandbox = sandboxConfig();
  const sandboxId = await runtime.runPodSandbox(sandbox);
  const ip = (await runtime.podSandboxStatus(sandboxId))?.ip ?? '';
  const config = containerConfig(sandbox, command, extra(ip));
  const id = await runtime.createContainer(sandboxId, config, sandbox);
  await runtime.startContainer(id);
  return { id, sandboxId, ip, config };
}

function containerPid(id: string): number {
  return Number(readFileSync(join(dir, 'runtime', 'state', id, 'pid'), 'utf8').trim());
}

function get(ip: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: ip, port, path: '/' }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.end();
  });
}

const logLines = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8') : '').split('\n').filter((line) => line !== '').map((line) => parseCriLogLine(line));
const server = "require('http').createServer((q, s) => s.end('hello from ' + process.env.POD_IP)).listen(8080, process.env.POD_IP)";

describe('process runtime', () => {
  const events: ContainerEvent[] = [];

  it('runs an HTTP server bound to its own pod IP; kill -9 is an exited event with 137', async () => {
    const runtime = newRuntime();
    runtime.onEvent((event) => events.push(event));
    const first = await runContainer(runtime, ['node', '-e', server], (ip) => ({ env: [{ name: 'POD_IP', value: ip }] }));
    const second = await runContainer(runtime, ['node', '-e', server], (ip) => ({ env: [{ name: 'POD_IP', value: ip }] }));
    expect(first.ip).toMatch(/^127\.64\.251\.\d+$/);
    expect(second.ip).not.toBe(first.ip);
    for (const pod of [first, second]) {
      expect(await until('the server', () => get(pod.ip, 8080).catch(() => undefined))).toBe(`hello from ${pod.ip}`);
    }
    process.kill(containerPid(first.id), 'SIGKILL');
    await until('the exited event', () => events.find((event) => event.type === 'exited' && event.containerId === first.id));
    const status = await runtime.containerStatus(first.id);
    expect([status?.state, status?.exitCode, status?.reason]).toEqual(['exited', 137, 'Error']);
    expect(events.find((event) => event.type === 'started' && event.containerId === first.id)).toBeDefined();
    expect(await get(second.ip, 8080)).toBe(`hello from ${second.ip}`);
    const tunnel = await runtime.portForward(second.sandboxId, 8080);
    let answer = '';
    tunnel.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    tunnel.write('GET / HTTP/1.0\r\n\r\n');
    await until('the forwarded answer', () => (answer.endsWith(`hello from ${second.ip}`) ? true : undefined));
    tunnel.destroy();
    await expect(runtime.portForward(second.sandboxId, 8081)).rejects.toBeInstanceOf(PortForwardError);
    await runtime.removePodSandbox(first.sandboxId);
    await runtime.removePodSandbox(second.sandboxId);
  });

  it('gives a container the pod\'s hostname in HOSTNAME, as container runtimes do', async () => {
    const runtime = newRuntime();
    const out = join(dir, `hostname-${Date.now()}`);
    const pod = await runContainer(runtime, ['node', '-e', 'require("fs").writeFileSync(process.env.OUT, String(process.env.HOSTNAME))'], () => ({ env: [{ name: 'OUT', value: out }] }));
    expect(await until('the hostname written', () => (existsSync(out) ? readFileSync(out, 'utf8') : undefined))).toMatch(/^pod-\d+$/);
    await runtime.removePodSandbox(pod.sandboxId);
  });

  it('stops gracefully on SIGTERM, and with SIGKILL after the grace when SIGTERM is ignored', async () => {
    const runtime = runtimes[0] as ContainerRuntime;
    const polite = await runContainer(runtime, ['sh', '-c', 'trap "exit 0" TERM; while :; do sleep 0.05; done']);
    const stubborn = await runContainer(runtime, ['sh', '-c', 'trap "" TERM; while :; do sleep 0.05; done']);
    await until('both running with pids', () => (containerPid(polite.id) > 0 && containerPid(stubborn.id) > 0 ? true : undefined));
    let started = Date.now();
    await runtime.stopContainer(polite.id, 10);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect((await runtime.containerStatus(polite.id))?.exitCode).toBe(0);
    expect((await runtime.containerStatus(polite.id))?.reason).toBe('Completed');
    started = Date.now();
    await runtime.stopContainer(stubborn.id, 1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    expect((await runtime.containerStatus(stubborn.id))?.exitCode).toBe(137);
  });

  it('writes CRI log lines with partial lines, and rotates at 10 MiB', async () => {
    const runtime = runtimes[0] as ContainerRuntime;
    const long = 'x'.repeat(20_000);
    const script = `echo first; echo "$state $code" >&2; printf '${long}\\n'; printf 'no newline'`;
    // Names the wrapper could have used for its own variables stay the container's.
    const pod = await runContainer(runtime, ['sh', '-c', script], () => ({ env: [{ name: 'state', value: 'mine' }, { name: 'code', value: 'too' }] }));
    await until('exit', async () => ((await runtime.containerStatus(pod.id))?.state === 'exited' ? true : undefined));
    const lines = await until('the last line', () => {
      const parsed = logLines(pod.config.logPath);
      return parsed.some((line) => line?.content === 'no newline') ? parsed : undefined;
    });
    expect(lines.filter((line) => line?.stream === 'stdout').map((line) => `${line?.tag}${line?.content.length}`)).toEqual(['F5', 'P16384', 'F3616', 'F10']);
    expect(lines.find((line) => line?.stream === 'stderr')?.content).toBe('mine too');
    const noisy = await runContainer(runtime, ['sh', '-c', 'yes 0123456789012345678901234567890123456789 | head -c 12000000']);
    const rotated = () => {
      try {
        return readdirSync(join(noisy.config.logPath, '..')).includes('0.log.1') ? true : undefined;
      } catch {
        return undefined;
      }
    };
    await until('rotation', rotated, 30_000);
  });

  it('runs execSync with the container environment and working directory; a missing command cannot run', async () => {
    const runtime = runtimes[0] as ContainerRuntime;
    const volume = join(dir, 'volume');
    mkdirSync(volume);
    writeFileSync(join(volume, 'key'), 'value');
    const mounts = [{ containerPath: '/etc/config', hostPath: volume, readOnly: true }];
    const pod = await runContainer(runtime, ['sleep', '30'], () => ({ env: [{ name: 'GREETING', value: 'hi there' }], mounts }));
    const result = await runtime.execSync(pod.id, ['sh', '-c', 'echo "$GREETING"; pwd; cat etc/config/key; echo; cat "$KUBUS_MOUNT_ETC_CONFIG/key"'], 5_000);
    expect(Buffer.from(result.stdout).toString()).toBe(`hi there\n${join(dir, 'runtime', 'containers', pod.id)}\nvalue\nvalue`);
    const session = await runtime.exec(pod.id, { command: ['sh', '-c', 'read line; echo "got $line, $GREETING"; exit 3'], stdin: true, tty: false });
    let said = '';
    session.stdout.on('data', (chunk: Buffer) => (said += chunk.toString()));
    session.stdin?.end('ping\n');
    expect(await session.exit).toBe(3);
    expect(said).toBe('got ping, hi there\n');
    const started = Date.now();
    const slow = await runtime.execSync(pod.id, ['sleep', '10'], 200);
    expect(slow.timedOut).toBe(true);
    expect(Date.now() - started).toBeLessThan(2_000);
    const missing = await runContainer(runtime, ['no-such-command-kubus']);
    const status = await runtime.containerStatus(missing.id);
    expect([status?.state, status?.reason, status?.exitCode]).toEqual(['exited', 'ContainerCannotRun', 127]);
    expect(status?.message).toContain('not found in $PATH');
  });

  it('enforces a memory limit with OOMKilled where cgroups are writable', async () => {
    const runtime = runtimes[0] as ContainerRuntime;
    if (!(await runtime.status()).resourceLimitsEnforced) return;
    const hog = "const a = []; for (;;) a.push(Buffer.alloc(1 << 20, 1))";
    const pod = await runContainer(runtime, ['node', '-e', hog], () => ({ resources: { memoryLimitBytes: 64 * 1024 * 1024 } }));
    const status = await until('the OOM kill', async () => {
      const current = await runtime.containerStatus(pod.id);
      return current?.state === 'exited' ? current : undefined;
    }, 30_000);
    expect([status.exitCode, status.reason]).toEqual([137, 'OOMKilled']);
  });

  it('keeps a container running through an agent killed with SIGKILL; the next agent copies what it wrote meanwhile and stops it', async () => {
    const agentDir = join(dir, 'killed-agent');
    const agent = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'fixtures', 'runtime-agent.ts'), agentDir], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    agent.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const ids = await until('the agent stand-in', () => (output.includes('\n') ? (JSON.parse(output) as { sandboxId: string; containerId: string }) : undefined), 30_000);
    const exited = new Promise((resolve) => agent.on('exit', resolve));
    agent.kill('SIGKILL');
    await exited;
    const logPath = join(agentDir, 'pods', 'restart', 'ticker', '0.log');
    const rawStdout = join(agentDir, 'runtime', 'state', ids.containerId, 'stdout');
    const ticksAtDeath = readFileSync(rawStdout, 'utf8').split('\n').length;
    await until('output written with no agent', () => (readFileSync(rawStdout, 'utf8').split('\n').length > ticksAtDeath + 5 ? true : undefined));
    const next = createRuntime('process', { dir: agentDir, podCidr: () => '127.64.252.0/24', nodeIp: '127.0.0.1', clock: new SystemClock(), logger: silent });
    runtimes.push(next);
    expect((await next.containerStatus(ids.containerId))?.state).toBe('running');
    const lastTick = Number(readFileSync(rawStdout, 'utf8').trim().split('\n').at(-1)?.split(' ')[1]);
    await until('the CRI log to catch up', () => (logLines(logPath).some((line) => line?.content === `tick ${lastTick}`) ? true : undefined));
    await next.stopContainer(ids.containerId, 5);
    expect((await next.containerStatus(ids.containerId))?.exitCode).toBe(143);
    const ticks = logLines(logPath).map((line) => Number(line?.content.split(' ')[1]));
    expect(ticks.slice(0, lastTick)).toEqual(Array.from({ length: lastTick }, (_, index) => index + 1));
    await next.removePodSandbox(ids.sandboxId);
  });

  it('adopts a running container from a new instance over the same directory and learns its exit code', async () => {
    const before = runtimes[0] as ContainerRuntime;
    const pod = await runContainer(before, ['sh', '-c', 'while [ ! -e stop-now ]; do sleep 0.05; done; exit 7']);
    const pid = await until('the pid', () => containerPid(pod.id) || undefined);
    await before.close();
    const after = newRuntime();
    const adoptedEvents: ContainerEvent[] = [];
    after.onEvent((event) => adoptedEvents.push(event));
    expect((await after.podSandboxStatus(pod.sandboxId))?.ip).toBe(pod.ip);
    const adopted = await after.containerStatus(pod.id);
    expect(adopted?.state).toBe('running');
    expect(containerPid(pod.id)).toBe(pid);
    const exitedEarlier = (await after.listContainers()).filter((container) => container.state === 'exited');
    expect(exitedEarlier.length).toBeGreaterThan(0);
    const next = await after.runPodSandbox(sandboxConfig());
    const addresses = (await after.listPodSandboxes()).map((sandbox) => sandbox.ip);
    expect(new Set(addresses).size).toBe(addresses.length);
    expect((await after.podSandboxStatus(next))?.ip).not.toBe(pod.ip);
    await after.execSync(pod.id, ['touch', 'stop-now'], 5_000);
    await until('the adopted exit event', () => adoptedEvents.find((event) => event.type === 'exited' && event.containerId === pod.id));
    const status = await after.containerStatus(pod.id);
    expect([status?.state, status?.exitCode, status?.reason]).toEqual(['exited', 7, 'Error']);
  });

  it('kills what an agent directory still runs without an agent (kubus down after an agent died)', async () => {
    const runtime = runtimes.at(-1) as ContainerRuntime;
    const pod = await runContainer(runtime, ['sleep', '60']);
    await until('the pid', () => containerPid(pod.id) || undefined);
    expect(killProcessContainers(dir)).toBeGreaterThanOrEqual(1);
    const status = await until('the kill', async () => {
      const current = await runtime.containerStatus(pod.id);
      return current?.state === 'exited' ? current : undefined;
    });
    expect(status.exitCode).toBe(137);
    expect(killProcessContainers(join(dir, 'nothing-here'))).toBe(0);
  });
});
