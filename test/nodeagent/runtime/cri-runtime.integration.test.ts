/**
 * The cri runtime against a real, private containerd started in a temp dir (its own config,
 * socket, CNI bridge and subnet): a busybox httpd pod answers HTTP on its pod IP; containerd
 * writes the container's output as CRI log lines at `ContainerConfig.logPath`; execSync reports
 * exit 3; port-forward reaches the pod's port; a hostPort is published (loopback too); runAsUser and a read-only root apply; a
 * hostNetwork sandbox has the node's address; an interactive exec carries stdin to EOF (runc path) and a tty exec reports exit 3
 * (the streaming server's WebSocket path); attach reaches a stdin container and a tty one; a memory limit ends
 * in OOMKilled (and an `exited` event); a second runtime instance on the same directory reuses
 * the running containerd and lists the same running container (adoption, not restart); a killed containerd
 * is started again by status() and finds its pods still running; Never
 * with an absent image is ErrImageNeverPull; images in use (pause included) are not removed; stats have CPU and memory; a log past its bound is
 * rotated (containerd reopens it); teardown after containerd died leaves no shim; a containerd that cannot start fails the open at once with its log; stop and remove.
 *
 * Images come from ../images (busybox-static and a gcc-built pause, no registry) imported at
 * open. afterAll removes every pod, stops the containerd by its pid and deletes its bridge.
 * Without containerd the suite skips outside CI and fails in CI. Waits poll with a deadline.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SystemClock } from '../../../bus/clock.js';
import type { Logger } from '../../../bus/logger.js';
import {
  ImagePullError, openRuntime, parseCriLogLine, type ContainerConfig, type ContainerEvent, type ContainerRuntime, type PodSandboxConfig, type RuntimeOptions,
} from '../../../nodeagent/runtime/index.js';
import { containerdLayout, livePrivateContainerd, nodeHash, stopPrivateContainerd } from '../../../nodeagent/runtime/cri/index.js';
import { CriClient } from '../../../nodeagent/runtime/cri/client.js';
import { LogRotator } from '../../../nodeagent/runtime/cri/log-rotator.js';
import { agentLabel } from '../../../nodeagent/runtime/cri/requests.js';
import { localImageRefs } from '../../../nodeagent/runtime/images/index.js';

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };
const available = existsSync('/usr/bin/containerd') && existsSync('/usr/lib/cni/bridge');
if (!available) {
  if (process.env['CI'] === 'true') throw new Error('the cri runtime suite needs containerd and CNI plugins in CI (apt-get install -y containerd containernetworking-plugins)');
  process.stderr.write('skipping the cri runtime suite: no /usr/bin/containerd or /usr/lib/cni (apt-get install -y containerd containernetworking-plugins)\n');
}

const base = mkdtempSync(join(tmpdir(), 'kubus-test-h1-cri-'));
// Deep on purpose: containerd's sockets would pass its 104-byte bound here and must move to a short path.
const dir = join(base, 'a-deep-agent-directory-as-kubus-up-makes-them'.repeat(2));
mkdirSync(dir, { recursive: true });
const runtimes: ContainerRuntime[] = [];

function options(): RuntimeOptions {
  return { dir, podCidr: () => null, nodeIp: '127.0.0.1', clock: new SystemClock(), logger: silent, cri: { imageCacheDir: join(dir, 'images') } };
}

async function newRuntime(): Promise<ContainerRuntime> {
  const runtime = await openRuntime('cri', options());
  runtimes.push(runtime);
  return runtime;
}

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, deadlineMs = 15_000): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

let podCount = 0;
function sandboxConfig(): PodSandboxConfig {
  podCount += 1;
  const name = `p${podCount}`;
  const logDirectory = join(dir, 'pods', `default_${name}_uid-${podCount}`);
  mkdirSync(logDirectory, { recursive: true });
  return {
    uid: `uid-${podCount}`, name, namespace: 'default', attempt: 0, hostname: name, labels: { app: 'cri-test' }, annotations: {},
    hostNetwork: false, logDirectory, portMappings: [], dns: { servers: ['10.96.0.10'], searches: ['default.svc.cluster.local'], options: ['ndots:5'] },
  };
}

function containerConfig(sandbox: PodSandboxConfig, name: string, script: string, extra: Partial<ContainerConfig> = {}): ContainerConfig {
  return {
    name, image: localImageRefs.busybox, command: ['sh', '-c'], args: [script], env: [{ name: 'GREETING', value: 'hello' }], mounts: [],
    resources: { cpuRequestMillis: 100 }, logPath: join(sandbox.logDirectory, name, '0.log'), attempt: 0, labels: {}, ...extra,
  };
}

async function runPod(runtime: ContainerRuntime, script: string, extra: Partial<ContainerConfig> = {}) {
  const sandbox = sandboxConfig();
  const sandboxId = await runtime.runPodSandbox(sandbox);
  const config = containerConfig(sandbox, 'main', script, extra);
  const containerId = await runtime.createContainer(sandboxId, config, sandbox);
  await runtime.startContainer(containerId);
  return { sandbox, sandboxId, config, containerId };
}

/** containerd shims serving this socket's containerd (they keep pods running without it). */
function shimPids(socket: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (cmdline[0]?.endsWith('containerd-shim-runc-v2') && cmdline.includes(socket)) pids.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return pids;
}

/** A port nothing listens on now (the hostPort under test). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

function read(stream: NodeJS.ReadableStream | null): Promise<string> {
  if (stream === null) return Promise.resolve('');
  return new Promise((resolve) => {
    let text = '';
    stream.on('data', (chunk: Buffer) => { text += chunk.toString('utf8'); });
    stream.on('end', () => resolve(text));
  });
}

describe.skipIf(!available)('cri runtime on a private containerd', () => {
  let runtime: ContainerRuntime;
  let web: Awaited<ReturnType<typeof runPod>>;
  const events: ContainerEvent[] = [];

  beforeAll(async () => {
    runtime = await newRuntime();
    runtime.onEvent((event) => events.push(event));
    web = await runPod(runtime, 'mkdir -p /www && echo "hello from $HOSTNAME" > /www/index.html && echo serving && exec httpd -f -p 8080 -h /www', {
      resources: { cpuRequestMillis: 100, cpuLimitMillis: 500, memoryLimitBytes: 64 * 1024 * 1024 },
    });
  }, 60_000);

  afterAll(async () => {
    for (const runtime of runtimes) await runtime.close().catch(() => undefined);
    await stopPrivateContainerd(dir, { removePods: true });
    // Safety net should a test have failed half-way: no shim of this suite's containerd outlives it.
    for (const pid of shimPids(containerdLayout(dir).socket)) process.kill(pid, 'SIGKILL');
    rmSync(base, { recursive: true, force: true });
  }, 60_000);

  it('reports ready, answers HTTP on the pod IP and writes CRI log lines at logPath', async () => {
    expect(containerdLayout(dir).socket.startsWith('/run/kubus-cri/')).toBe(true);
    const status = await runtime.status();
    expect(status.runtimeReady && status.networkReady).toBe(true);
    const sandbox = await runtime.podSandboxStatus(web.sandboxId);
    expect(sandbox?.state).toBe('ready');
    expect(sandbox?.ip).toMatch(/^10\.88\.\d+\.\d+$/);
    const body = await until('HTTP from the pod', async () => {
      const response = await fetch(`http://${sandbox?.ip}:8080/`).catch(() => undefined);
      return response?.ok ? response.text() : undefined;
    });
    expect(body).toBe('hello from p1\n');
    const line = await until('the log line', () => {
      const text = existsSync(web.config.logPath) ? readFileSync(web.config.logPath, 'utf8') : '';
      return text.includes('serving') ? text.split('\n')[0] : undefined;
    });
    expect(parseCriLogLine(line ?? '')).toMatchObject({ stream: 'stdout', tag: 'F', content: 'serving' });
    const container = await runtime.containerStatus(web.containerId);
    expect(container).toMatchObject({ state: 'running', sandboxId: web.sandboxId, name: 'main', logPath: web.config.logPath });
  });

  it('forwards a TCP connection to the pod port', async () => {
    const socket = await runtime.portForward(web.sandboxId, 8080);
    const answer = new Promise<string>((resolve) => {
      let text = '';
      socket.on('data', (chunk: Buffer) => { text += chunk.toString('utf8'); });
      socket.on('end', () => resolve(text));
    });
    socket.write('GET / HTTP/1.0\r\n\r\n');
    expect(await answer).toContain('hello from p1');
  });

  it('publishes a hostPort on the node (CNI portmap), loopback included', async () => {
    const hostPort = await freePort();
    const sandbox = { ...sandboxConfig(), portMappings: [{ containerPort: 8080, hostPort, protocol: 'TCP' as const }] };
    const sandboxId = await runtime.runPodSandbox(sandbox);
    const containerId = await runtime.createContainer(sandboxId, containerConfig(sandbox, 'main', 'mkdir -p /www && echo published > /www/index.html && exec httpd -f -p 8080 -h /www'), sandbox);
    await runtime.startContainer(containerId);
    const body = await until('HTTP on the host port', async () => {
      const response = await fetch(`http://127.0.0.1:${hostPort}/`).catch(() => undefined);
      return response?.ok ? response.text() : undefined;
    });
    expect(body).toBe('published\n');
    await runtime.stopPodSandbox(sandboxId);
  }, 30_000);

  it('applies runAsUser, readOnlyRootFilesystem and privileged, and gives hostNetwork sandboxes the node address', async () => {
    const pod = await runPod(runtime, 'sleep 3600', { securityContext: { runAsUser: 1234, readOnlyRootFilesystem: true } });
    const result = await runtime.execSync(pod.containerId, ['sh', '-c', 'id -u; touch /x 2>/dev/null && echo wrote || echo read-only'], 10_000);
    expect(Buffer.from(result.stdout).toString()).toBe('1234\nread-only\n');
    const privileged = await runPod(runtime, 'sleep 3600', { securityContext: { privileged: true } });
    const caps = await runtime.execSync(privileged.containerId, ['sh', '-c', 'grep CapEff /proc/self/status'], 10_000);
    // CAP_SYS_ADMIN (bit 21) only a privileged container has (every capability but CAP_SYS_RESOURCE, which root lacks here).
    const effective = BigInt(`0x${/CapEff:\s+([0-9a-f]+)/.exec(Buffer.from(caps.stdout).toString())?.[1] ?? '0'}`);
    expect((effective >> 21n) & 1n).toBe(1n);
    await runtime.stopPodSandbox(privileged.sandboxId);
    const host = { ...sandboxConfig(), hostNetwork: true };
    const hostSandbox = await runtime.runPodSandbox(host);
    expect((await runtime.podSandboxStatus(hostSandbox))?.ip).toBe('127.0.0.1');
    await runtime.stopPodSandbox(pod.sandboxId);
    await runtime.stopPodSandbox(hostSandbox);
  }, 30_000);

  it('runs execSync with the container environment and its exit code', async () => {
    const result = await runtime.execSync(web.containerId, ['sh', '-c', 'echo $GREETING; grep -c ndots /etc/resolv.conf; exit 3'], 10_000);
    expect(result.exitCode).toBe(3);
    expect(Buffer.from(result.stdout).toString()).toBe('hello\n1\n');
  });

  it('carries stdin to EOF in an interactive exec, and a tty exec answers and exits 3', async () => {
    const session = await runtime.exec(web.containerId, { command: ['sh', '-c', 'cat; echo "env $GREETING" >&2'], stdin: true, tty: false });
    const out = read(session.stdout);
    const err = read(session.stderr);
    session.stdin?.write('line one\n');
    session.stdin?.end('line two\n');
    expect(await session.exit).toBe(0);
    expect(await out).toBe('line one\nline two\n');
    expect(await err).toBe('env hello\n');
    // kubectl exec -t without -i: the terminal's output arrives though the command exits at once.
    const ttyOnly = await runtime.exec(web.containerId, { command: ['sh', '-c', 'echo tty-only; exit 2'], stdin: false, tty: true });
    const ttyOnlyOut = read(ttyOnly.stdout);
    expect(ttyOnly.stdin).toBeNull();
    expect(await ttyOnly.exit).toBe(2);
    expect(await ttyOnlyOut).toContain('tty-only');
    // close() ends a session early: the command is killed, exit resolves.
    const endless = await runtime.exec(web.containerId, { command: ['sleep', '3600'], stdin: true, tty: false });
    endless.close?.();
    expect(await endless.exit).not.toBe(0);
    const left = await runtime.execSync(web.containerId, ['sh', '-c', 'ps | grep -c "[s]leep 3600" || true'], 10_000);
    expect(Buffer.from(left.stdout).toString().trim()).toBe('0');
    // The answer is awaited before the exit: containerd 1.6 may drop a tty's last output when the command exits at once.
    const tty = await runtime.exec(web.containerId, { command: ['sh', '-c', 'echo ready; read line; echo "got $line"; read never; exit 3'], stdin: true, tty: true });
    let ttyOut = '';
    tty.stdout.on('data', (chunk: Buffer) => { ttyOut += chunk.toString('utf8'); });
    await until('the tty prompt', () => (ttyOut.includes('ready') ? true : undefined));
    tty.resize(100, 30);
    tty.stdin?.write('pong\r');
    await until('the tty answer', () => (ttyOut.includes('got pong') ? true : undefined));
    tty.stdin?.write('\r');
    expect(await tty.exit).toBe(3);
  });

  it('attaches to a stdin container and sees its exit', async () => {
    // The answer is awaited before the exit: containerd 1.6 may cut an attach's last output when the container exits at once.
    const pod = await runPod(runtime, 'read line; echo "got $line"; read again; exit 4', { stdin: true });
    await until('the stdin container running', async () => ((await runtime.containerStatus(pod.containerId))?.state === 'running' ? true : undefined));
    const session = await runtime.attach(pod.containerId, { stdin: true, tty: false });
    const out = read(session.stdout);
    const detached = await runtime.attach(pod.containerId, { stdin: false, tty: false });
    detached.close?.();
    expect(await detached.exit).toBe(-1);
    let seen = '';
    session.stdout.on('data', (chunk: Buffer) => { seen += chunk.toString('utf8'); });
    session.stdin?.write('ping\n');
    await until('the answer', () => (seen.includes('got ping') ? true : undefined));
    session.stdin?.write('\n');
    expect(await session.exit).toBe(4);
    expect(await out).toContain('got ping');
  });

  it('attaches to a tty container (kubectl run -it)', async () => {
    const pod = await runPod(runtime, 'read line; echo "tty got $line"; read again; exit 5', { stdin: true, tty: true });
    await until('the tty container running', async () => ((await runtime.containerStatus(pod.containerId))?.state === 'running' ? true : undefined));
    const session = await runtime.attach(pod.containerId, { stdin: true, tty: true });
    expect(session.stderr).toBeNull();
    let out = '';
    session.stdout.on('data', (chunk: Buffer) => { out += chunk.toString('utf8'); });
    session.resize(120, 40);
    session.stdin?.write('hi\r');
    await until('the tty answer', () => (out.includes('tty got hi') ? true : undefined));
    session.stdin?.write('\r');
    expect(await session.exit).toBe(5);
  }, 30_000);

  it('reports OOMKilled for a container over its memory limit, with an exited event', async () => {
    const pod = await runPod(runtime, 'x=$(head -c 200000000 /dev/zero | tr "\\0" a); echo survived', { resources: { memoryLimitBytes: 16 * 1024 * 1024 } });
    const status = await until('the OOM kill', async () => {
      const current = await runtime.containerStatus(pod.containerId);
      return current?.state === 'exited' ? current : undefined;
    }, 30_000);
    expect(status.reason).toBe('OOMKilled');
    expect(status.exitCode).toBe(137);
    await until('the exited event', () => (events.some((e) => e.type === 'exited' && e.containerId === pod.containerId) ? true : undefined));
  }, 40_000);

  it('rotates a log past its size bound to <logPath>.1 and containerd writes a fresh <logPath>', async () => {
    const pod = await runPod(runtime, 'i=0; while true; do i=$((i+1)); echo "line $i"; sleep 0.01; done');
    await until('some output', () => (existsSync(pod.config.logPath) && readFileSync(pod.config.logPath).length > 2048 ? true : undefined));
    const client = new CriClient(containerdLayout(dir).socket);
    try {
      const rotator = new LogRotator({ client, agent: nodeHash(dir), agentLabel, clock: new SystemClock(), logger: silent, fileBytesMax: 1024 });
      await rotator.rotateOnce();
      rotator.stop();
    } finally {
      client.close();
    }
    expect(readFileSync(`${pod.config.logPath}.1`, 'utf8')).toContain('stdout F line 1\n');
    await until('lines in the fresh file', () => (existsSync(pod.config.logPath) && readFileSync(pod.config.logPath, 'utf8').includes('stdout F line') ? true : undefined));
    await runtime.stopPodSandbox(pod.sandboxId);
  }, 30_000);

  it('has stats with CPU and memory', async () => {
    const stats = await until('stats', async () => {
      const current = await runtime.containerStats(web.containerId);
      return current !== null && current.cpuUsageNanos > 0 && current.memoryWorkingSetBytes > 0 ? current : undefined;
    });
    expect(stats.containerId).toBe(web.containerId);
  });

  it('is adopted by a second runtime instance on the same directory: same containerd, same running container', async () => {
    const pid = livePrivateContainerd(containerdLayout(dir));
    const before = await runtime.containerStatus(web.containerId);
    const second = await newRuntime();
    expect(livePrivateContainerd(containerdLayout(dir))).toBe(pid);
    const listed = await second.listContainers({ sandboxId: web.sandboxId });
    expect(listed.map((c) => [c.id, c.state, c.startedAtMs])).toEqual([[web.containerId, 'running', before?.startedAtMs]]);
    expect((await second.listPodSandboxes()).map((s) => s.id)).toContain(web.sandboxId);
  }, 40_000);

  it('starts a dead private containerd again from status(); the pods ran on and are still known', async () => {
    const pid = livePrivateContainerd(containerdLayout(dir));
    expect(pid).not.toBeNull();
    process.kill(pid ?? 0, 'SIGKILL');
    await until('the old containerd gone', () => (livePrivateContainerd(containerdLayout(dir)) === null ? true : undefined));
    const ready = await until('containerd back', async () => {
      const status = await runtime.status().catch(() => undefined);
      return status?.runtimeReady === true ? status : undefined;
    }, 30_000);
    expect(ready.networkReady).toBe(true);
    expect(livePrivateContainerd(containerdLayout(dir))).not.toBe(pid);
    expect((await runtime.containerStatus(web.containerId))?.state).toBe('running');
    const ip = (await runtime.podSandboxStatus(web.sandboxId))?.ip;
    expect(await (await fetch(`http://${ip}:8080/`)).text()).toBe('hello from p1\n');
  }, 40_000);

  it('refuses an absent image under Never and accepts a present one', async () => {
    await expect(runtime.ensureImage('kubus.local/absent:1', 'Never', [])).rejects.toMatchObject({ reason: 'ErrImageNeverPull' });
    await expect(runtime.ensureImage('kubus.local/absent:1', 'Never', [])).rejects.toBeInstanceOf(ImagePullError);
    // A registry that refuses connections (loopback: no traffic leaves the host): ErrImagePull with containerd's message.
    const refused = await runtime.ensureImage('127.0.0.1:1/kubus-test-h1/absent:1', 'IfNotPresent', [{ registry: '127.0.0.1:1', username: 'u', password: 'p' }]).catch((error: unknown) => error);
    expect(refused).toMatchObject({ reason: 'ErrImagePull' });
    expect((refused as ImagePullError).detail).toMatch(/127\.0\.0\.1:1/);
    await expect(runtime.ensureImage('Not A Valid/Reference', 'IfNotPresent', [])).rejects.toMatchObject({ reason: 'InvalidImageName' });
    await runtime.ensureImage(localImageRefs.busybox, 'IfNotPresent', []);
    const images = await runtime.listImages();
    expect(images.flatMap((i) => i.tags)).toContain(localImageRefs.busybox);
    // Image GC must not remove what containers use, nor the pause image every sandbox runs.
    for (const reference of [localImageRefs.busybox, localImageRefs.pause]) {
      const image = images.find((i) => i.tags.includes(reference));
      await expect(runtime.removeImage(image?.id ?? '')).rejects.toMatchObject({ code: 'imageInUse' });
    }
    expect(await runtime.imageFsUsage()).toMatchObject({ capacityBytes: expect.any(Number) });
  });

  it('fails at once, quoting containerd\'s log, when the private containerd cannot start', async () => {
    const broken = join(base, 'broken');
    // A file where containerd's root directory must be: it exits at start.
    mkdirSync(join(broken, 'runtime', 'containerd'), { recursive: true });
    writeFileSync(join(broken, 'runtime', 'containerd', 'root'), 'not a directory');
    const failure = await openRuntime('cri', { ...options(), dir: broken }).catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: 'runtimeUnavailable' });
    expect((failure as Error).message).toMatch(/private containerd exited; its log/);
  }, 40_000);

  it('stops and removes the container and its sandbox', async () => {
    await runtime.stopContainer(web.containerId, 1);
    const stopped = await runtime.containerStatus(web.containerId);
    expect(stopped?.state).toBe('exited');
    await runtime.removeContainer(web.containerId);
    expect(await runtime.containerStatus(web.containerId)).toBeNull();
    await runtime.stopPodSandbox(web.sandboxId);
    await runtime.removePodSandbox(web.sandboxId);
    expect(await runtime.podSandboxStatus(web.sandboxId)).toBeNull();
  }, 30_000);

  it('tears down after its containerd died: started again to remove the pods, no shim left', async () => {
    const pid = livePrivateContainerd(containerdLayout(dir));
    process.kill(pid ?? 0, 'SIGKILL');
    await until('the containerd gone', () => (livePrivateContainerd(containerdLayout(dir)) === null ? true : undefined));
    expect(shimPids(containerdLayout(dir).socket).length).toBeGreaterThan(0);
    await stopPrivateContainerd(dir, { removePods: true });
    expect(shimPids(containerdLayout(dir).socket)).toEqual([]);
    expect(livePrivateContainerd(containerdLayout(dir))).toBeNull();
  }, 60_000);
});
