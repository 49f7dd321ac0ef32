/**
 * The docker runtime against the real engine: a busybox httpd pod answers on its sandbox's
 * address and through port-forward; its output becomes CRI log lines; execSync reports exit 3,
 * interactive exec carries stdin, attach sees a running container's stdin and output; a memory
 * limit ends in OOMKilled (and an `exited` event); a second runtime instance over the same
 * `--dir` adopts a running container (same engine id, same start time, not restarted) and its log
 * keeps flowing with every line once (a counter's lines are contiguous); a stop with a 30 s grace
 * ends with 143 (SIGTERM reached the shell through Init: not the 137 of a kill after the grace);
 * Never with an absent image is ErrImageNeverPull; stats have CPU and memory; removing a sandbox
 * removes its containers.
 *
 * The runtime loads kubus's local images (pause, busybox: no registry) at open, as an agent's
 * does. Everything created is named `kubus-test-h2…` and labelled with this run's owner;
 * afterAll removes it. Without an engine the suite skips outside CI and fails in CI.
 * Each wait polls a condition with a deadline; nothing sleeps to wait for state.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SystemClock } from '../../../bus/clock.js';
import type { Logger } from '../../../bus/logger.js';
import {
  ImagePullError, openRuntime, parseCriLogLine, type ContainerConfig, type ContainerEvent, type ContainerRuntime, type PodSandboxConfig, type RuntimeOptions,
} from '../../../nodeagent/runtime/index.js';
import { dockerLabels, ownerOf } from '../../../nodeagent/runtime/docker/index.js';
import { localImageRefs } from '../../../nodeagent/runtime/images/index.js';

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };
const busyboxImage = localImageRefs.busybox;
/** Shared by runs: the local images are built once (cached by content). */
const imageCacheDir = join(tmpdir(), 'kubus-test-h2-image-cache');
const dir = mkdtempSync(join(tmpdir(), 'kubus-test-h2-docker-'));
const docker = new Docker({ socketPath: '/var/run/docker.sock' });
const runtimes: ContainerRuntime[] = [];
/** A second agent's directory (another owner) and the network its pods join. */
const secondDir = join(dir, 'second-agent');
const networkName = `kubus-test-h2-net-${process.pid}`;

const engineAnswers = await docker.ping().then(() => true, () => false);
if (!engineAnswers) {
  if (process.env['CI'] === 'true') throw new Error('the docker runtime suite needs a Docker engine in CI (apt-get install -y docker.io; dockerd &)');
  process.stderr.write('skipping the docker runtime suite: no engine at /var/run/docker.sock (apt-get install -y docker.io; dockerd &)\n');
}

function options(runtimeDir = dir, network?: string): RuntimeOptions {
  return {
    dir: runtimeDir, podCidr: () => null, nodeIp: '127.0.0.1', clock: new SystemClock(), logger: silent,
    docker: { namePrefix: 'kubus-test-h2', imageCacheDir, ...(network === undefined ? {} : { network }) },
  };
}

async function newRuntime(runtimeDir = dir, network?: string): Promise<ContainerRuntime> {
  const runtime = await openRuntime('docker', options(runtimeDir, network));
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
  const name = `pod-${podCount}`;
  const uid = `00000000-h2-${String(podCount).padStart(4, '0')}`;
  return {
    uid, name, namespace: 'default', attempt: 0, hostname: name, labels: {}, annotations: {}, hostNetwork: false,
    logDirectory: join(dir, 'pods', `default_${name}_${uid}`), portMappings: [],
  };
}

function containerConfig(sandbox: PodSandboxConfig, name: string, overrides: Partial<ContainerConfig>): ContainerConfig {
  return {
    name, image: busyboxImage, command: [], args: [], env: [], mounts: [], resources: {}, attempt: 0, labels: {},
    logPath: join(sandbox.logDirectory, name, '0.log'),
    ...overrides,
  };
}

async function runPod(runtime: ContainerRuntime, containers: readonly ((sandbox: PodSandboxConfig) => ContainerConfig)[]): Promise<{ sandboxId: string; sandbox: PodSandboxConfig; ids: string[] }> {
  const sandbox = sandboxConfig();
  const sandboxId = await runtime.runPodSandbox(sandbox);
  const ids: string[] = [];
  for (const make of containers) {
    const id = await runtime.createContainer(sandboxId, make(sandbox), sandbox);
    await runtime.startContainer(id);
    ids.push(id);
  }
  return { sandboxId, sandbox, ids };
}

function criLines(path: string): { stream: string; content: string }[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8').split('\n').map(parseCriLogLine).filter((line) => line !== null).map((line) => ({ stream: line.stream, content: line.content }));
}

function httpGet(host: string, port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => { body += chunk.toString('utf8'); });
      response.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A port nothing listens on now (the engine's proxy binds it next). */
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

function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    stream.on('data', (chunk: Buffer) => { text += chunk.toString('utf8'); });
    stream.on('end', () => resolve(text));
  });
}

describe.skipIf(!engineAnswers)('docker runtime', () => {
  let runtime: ContainerRuntime;
  let web: { sandboxId: string; sandbox: PodSandboxConfig; ids: string[] };
  const events: ContainerEvent[] = [];

  beforeAll(async () => {
    runtime = await newRuntime();
    runtime.onEvent((event) => events.push(event));
    const www = join(dir, 'www');
    mkdirSync(www, { recursive: true });
    writeFileSync(join(www, 'index.html'), 'hello from docker\n');
    web = await runPod(runtime, [(sandbox) => containerConfig(sandbox, 'web', {
      command: ['sh', '-c'], args: ['echo serving; echo oops >&2; exec httpd -f -p 8080 -h /www'],
      mounts: [{ hostPath: www, containerPath: '/www', readOnly: true }], env: [{ name: 'GREETING', value: 'hi' }],
    })]);
  });

  afterAll(async () => {
    for (const each of runtimes) await each.close();
    if (engineAnswers) {
      for (const runtimeDir of [dir, secondDir]) {
        const leftovers = await docker.listContainers({ all: true, filters: JSON.stringify({ label: [`${dockerLabels.owner}=${ownerOf(runtimeDir)}`] }) });
        for (const info of leftovers) await docker.getContainer(info.Id).remove({ force: true }).catch(() => undefined);
      }
      await docker.getNetwork(networkName).remove().catch(() => undefined);
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves HTTP on the sandbox address and through port-forward, and writes the CRI log', async () => {
    const status = await runtime.podSandboxStatus(web.sandboxId);
    expect(status?.state).toBe('ready');
    expect(status?.ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    const ip = status?.ip ?? '';
    const body = await until('httpd answering', () => httpGet(ip, 8080, '/').catch(() => undefined));
    expect(body).toBe('hello from docker\n');
    const socket = await runtime.portForward(web.sandboxId, 8080);
    socket.write('GET / HTTP/1.0\r\n\r\n');
    expect(await readAll(socket)).toContain('hello from docker');
    const logPath = containerConfig(web.sandbox, 'web', {}).logPath;
    const lines = await until('log lines', () => {
      const found = criLines(logPath);
      return found.length >= 2 ? found : undefined;
    });
    expect(lines).toContainEqual({ stream: 'stdout', content: 'serving' });
    expect(lines).toContainEqual({ stream: 'stderr', content: 'oops' });
    const [container] = await runtime.listContainers({ sandboxId: web.sandboxId });
    expect(container).toMatchObject({ id: web.ids[0], name: 'web', state: 'running', sandboxId: web.sandboxId, logPath });
  });

  it('execSync reports the exit code and output; interactive exec carries stdin', async () => {
    const id = web.ids[0] ?? '';
    const result = await runtime.execSync(id, ['sh', '-c', 'echo $GREETING; echo bad >&2; exit 3'], 10_000);
    expect(result.exitCode).toBe(3);
    expect(Buffer.from(result.stdout).toString()).toBe('hi\n');
    expect(Buffer.from(result.stderr).toString()).toBe('bad\n');
    const session = await runtime.exec(id, { command: ['sh', '-c', 'read line; echo got $line; exit 4'], stdin: true, tty: false });
    session.stdin?.write('ping\n');
    session.stdin?.end();
    expect(await readAll(session.stdout)).toBe('got ping\n');
    expect(await session.exit).toBe(4);
  });

  it('exec with a terminal; a missing command is ContainerCannotRun; a hostNetwork pod has the node\'s address', async () => {
    const id = web.ids[0] ?? '';
    const session = await runtime.exec(id, { command: ['sh', '-c', 'test -t 0 && echo tty'], stdin: false, tty: true });
    expect(session.stderr).toBeNull();
    expect(await readAll(session.stdout)).toContain('tty');
    expect(await session.exit).toBe(0);
    const broken = await runPod(runtime, [(sandbox) => containerConfig(sandbox, 'broken', { command: ['/no/such/binary'] })]);
    const status = await until('the failed start', async () => {
      const found = await runtime.containerStatus(broken.ids[0] ?? '');
      return found?.state === 'exited' ? found : undefined;
    });
    expect(status.reason).toBe('ContainerCannotRun');
    expect(status.message).toContain('/no/such/binary');
    const hostPod = sandboxConfig();
    const hostSandbox = await runtime.runPodSandbox({ ...hostPod, hostNetwork: true });
    expect(await runtime.podSandboxStatus(hostSandbox)).toMatchObject({ state: 'ready', ip: '127.0.0.1' });
    await runtime.removePodSandbox(hostSandbox);
  });

  it('a named network: pods join it, hostPorts are bound; another agent\'s runtime neither sees nor removes this one\'s pods', async () => {
    const missing = await newRuntime(secondDir, `${networkName}-absent`);
    expect((await missing.status()).networkReady).toBe(false);
    await docker.createNetwork({ Name: networkName, Labels: { 'io.kubus.test': 'h2' } });
    const second = await newRuntime(secondDir, networkName);
    expect((await second.status()).networkReady).toBe(true);
    const hostPort = await freePort();
    const config = { ...sandboxConfig(), portMappings: [{ containerPort: 8080, hostPort, hostIp: '127.0.0.1', protocol: 'TCP' as const }] };
    const sandboxId = await second.runPodSandbox(config);
    const id = await second.createContainer(sandboxId, containerConfig(config, 'web', { command: ['httpd', '-f', '-p', '8080', '-h', '/'] }), config);
    await second.startContainer(id);
    const network = await docker.getNetwork(networkName).inspect() as { IPAM: { Config: { Subnet: string }[] }; Containers: Record<string, { IPv4Address: string }> };
    const status = await second.podSandboxStatus(sandboxId);
    expect(network.Containers[sandboxId]?.IPv4Address.split('/')[0]).toBe(status?.ip);
    await until('httpd on the host port', () => httpGet('127.0.0.1', hostPort, '/').then(() => true, () => undefined));
    expect((await runtime.listPodSandboxes()).some((sandbox) => sandbox.id === sandboxId)).toBe(false);
    expect(await runtime.containerStatus(id)).toBeNull();
    await runtime.removePodSandbox(sandboxId);
    await runtime.removeContainer(id);
    expect((await second.podSandboxStatus(sandboxId))?.state).toBe('ready');
    expect((await second.containerStatus(id))?.state).toBe('running');
    await second.removePodSandbox(sandboxId);
    expect(await second.listPodSandboxes()).toEqual([]);
  });

  it('attach relays a running container\'s stdin and output; its exit is the container\'s', async () => {
    const pod = await runPod(runtime, [(sandbox) => containerConfig(sandbox, 'echo', { command: ['sh', '-c', 'read line; echo echoed $line; exit 5'], stdin: true })]);
    const id = pod.ids[0] ?? '';
    const session = await runtime.attach(id, { stdin: true, tty: false });
    session.stdin?.write('hello\n');
    expect(await readAll(session.stdout)).toBe('echoed hello\n');
    expect(await session.exit).toBe(5);
  });

  it('a memory limit ends in OOMKilled, with an exited event', async () => {
    const pod = await runPod(runtime, [(sandbox) => containerConfig(sandbox, 'hog', {
      command: ['sh', '-c', 'head -c 200m /dev/zero | tail'], resources: { memoryLimitBytes: 16 * 1024 * 1024 },
    })]);
    const id = pod.ids[0] ?? '';
    const status = await until('the OOM kill', async () => {
      const found = await runtime.containerStatus(id);
      return found?.state === 'exited' ? found : undefined;
    }, 30_000);
    expect(status.reason).toBe('OOMKilled');
    expect(status.exitCode).not.toBe(0);
    await until('the exited event', () => events.find((event) => event.containerId === id && event.type === 'exited'));
  });

  it('a second runtime instance adopts a running container and keeps its log flowing, each line once', async () => {
    const pod = await runPod(runtime, [(sandbox) => containerConfig(sandbox, 'ticker', {
      command: ['sh', '-c', 'i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.05; done'],
    })]);
    const id = pod.ids[0] ?? '';
    const logPath = containerConfig(pod.sandbox, 'ticker', {}).logPath;
    const ticks = () => criLines(logPath).map((line) => Number(line.content.replace('tick ', '')));
    await until('ticks before the restart', () => (ticks().length >= 5 ? true : undefined));
    const before = await runtime.containerStatus(id);
    await runtime.close();
    const writtenAtClose = ticks().length;
    runtime = await newRuntime();
    runtime.onEvent((event) => events.push(event));
    const after = await runtime.containerStatus(id);
    expect(after).toMatchObject({ id, state: 'running', startedAtMs: before?.startedAtMs });
    await until('ticks after the restart', () => (ticks().length >= writtenAtClose + 20 ? true : undefined));
    const seen = ticks();
    expect(seen).toEqual(seen.map((_, index) => index));
    // Stop with a long grace: the shell ends on SIGTERM (143) through Init, not by the kill after the grace (137).
    await runtime.stopContainer(id, 30);
    const stopped = await runtime.containerStatus(id);
    expect(stopped).toMatchObject({ state: 'exited', exitCode: 143 });
  });

  it('images: Never with an absent image is ErrImageNeverPull, a bad name InvalidImageName, an unreachable registry ErrImagePull; the store is listed', async () => {
    await expect(runtime.ensureImage('kubus-test-h2/absent:1', 'Never', [])).rejects.toMatchObject({ reason: 'ErrImageNeverPull' });
    await expect(runtime.ensureImage('Not A Name', 'IfNotPresent', [])).rejects.toBeInstanceOf(ImagePullError);
    // .invalid never resolves (RFC 6761): the engine's own words reach the pod's status.
    const failed = await runtime.ensureImage('registry.invalid/kubus-test-h2/none:1', 'IfNotPresent', []).then(() => null, (error: unknown) => error);
    expect(failed).toMatchObject({ reason: 'ErrImagePull' });
    expect((failed as ImagePullError).detail).toContain('registry.invalid');
    await runtime.ensureImage(busyboxImage, 'IfNotPresent', []);
    const images = await runtime.listImages();
    expect(images.some((image) => image.tags.includes(busyboxImage))).toBe(true);
    const usage = await runtime.imageFsUsage();
    expect(usage?.capacityBytes).toBeGreaterThan(usage?.usedBytes ?? 0);
  });

  it('stats have CPU time and memory; removing the sandbox removes its containers', async () => {
    const id = web.ids[0] ?? '';
    await runtime.execSync(id, ['sh', '-c', 'i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done'], 10_000);
    const stats = await runtime.containerStats(id);
    expect(stats?.cpuUsageNanos).toBeGreaterThan(0);
    expect(stats?.memoryWorkingSetBytes).toBeGreaterThan(0);
    await runtime.stopPodSandbox(web.sandboxId);
    expect((await runtime.podSandboxStatus(web.sandboxId))?.state).toBe('notready');
    await runtime.removePodSandbox(web.sandboxId);
    expect(await runtime.podSandboxStatus(web.sandboxId)).toBeNull();
    expect(await runtime.containerStatus(id)).toBeNull();
    expect((await runtime.listPodSandboxes()).some((sandbox) => sandbox.id === web.sandboxId)).toBe(false);
  });
});
