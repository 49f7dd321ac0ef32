/**
 * Issue 12 §5, the cross-host path: two agents whose pod networks are not routable to each other
 * (`--pod-network net-1` and `net-2`: by the contract, a node never dials a pod IP of another pod
 * network directly) reach each other's endpoints through the NATS tunnel.
 *
 * How: `kubus up --servers 1` (no agents), then two agents joined exactly as `up` joins them
 * (up-agents.ts planAgents: bootstrap token, CA pin, node addresses 127.32.0.1 and .2), each with
 * its own --pod-network; agent 2 starts first, so agent 1's view of pod networks knows it from the
 * start. On each node one HTTP server pinned there, each with a NodePort Service: from this host,
 * the other node's NodePort (its proxy: the endpoint is on another pod network) answers with the
 * pod's name, and every such connection opened a tunnel stream on `node.<pod's node>.tunnel` (an
 * observer with the admin's bus user counts the opens there and checks they name the pod's
 * address); the pod's own node's NodePort (the endpoint is local) answers without opening any.
 * The same for UDP (the pod echoes its name to any datagram): through the other node as a
 * datagram-mode stream naming `<pod IP>:8053/UDP`, through its own node with no stream. Each pod
 * was also given KUBERNETES_SERVICE_HOST/PORT = 127.96.0.1:443 (the `kubernetes` Service the
 * members keep, read by the kubelet's service environment).
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Node, Service } from 'kubernetes-types/core/v1.js';
import { afterAll, describe, expect, it } from 'vitest';
import { NatsBus, decode, loadNatsCredentials, natsCredentialsLimits } from '../../bus/index.js';
import { isAlive, writeClusterFile, type ClusterProcess } from '../../actors/cli/commands/cluster-file.js';
import { createBootstrapToken, planAgents } from '../../actors/cli/commands/up-agents.js';
import { tunnelSubject } from '../../nodeagent/tunnel/subjects.js';
import { requireComponent } from '../support/components.js';
import { waitUntil } from '../support/wait.js';
import { clusterFile, kubectl, kubus, waitForRunningPods } from './node/up-cluster.js';

const runs = requireComponent('nats-server', 'apt-get install -y nats-server') && requireComponent('kubectl', 'see https://kubernetes.io/docs/tasks/tools/');
const repoRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const tsxLoader = new URL('../../node_modules/tsx/dist/loader.mjs', import.meta.url).href;
const cliArgv = [process.execPath, '--import', tsxLoader, join(repoRoot, 'actors/cli/main.ts')];
const podPort = 8080;
/** The pod also answers UDP datagrams here with its name. */
const udpPort = 8053;
/** Fresh connections through each NodePort: enough that every one must have taken the same path. */
const requestsPerPath = 10;

/** One HTTP server answering its pod's name, pinned to `node`. */
const pinned = (app: string, node: string): string => JSON.stringify({
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: app, namespace: 'default' },
  spec: {
    replicas: 1, selector: { matchLabels: { app } },
    template: {
      metadata: { labels: { app } },
      spec: {
        nodeSelector: { 'kubernetes.io/hostname': node }, terminationGracePeriodSeconds: 2,
        containers: [{
          name: 'web', image: 'kubus.io/process',
          command: [process.execPath, '-e', [
            // `/env`: what the kubelet told the pod about the API (the kubernetes Service's variables).
            "const env = () => process.env.KUBERNETES_SERVICE_HOST + ':' + process.env.KUBERNETES_SERVICE_PORT;",
            `require('http').createServer((q, s) => s.end(q.url === '/env' ? env() : process.env.POD_NAME)).listen(${podPort}, process.env.POD_IP);`,
            "const udp = require('dgram').createSocket('udp4');",
            `udp.on('message', (m, from) => udp.send(process.env.POD_NAME, from.port, from.address)); udp.bind(${udpPort}, process.env.POD_IP);`,
          ].join('\n')],
          env: [
            { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
            { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          ],
          ports: [{ containerPort: podPort }, { containerPort: udpPort, protocol: 'UDP' }],
          readinessProbe: { httpGet: { path: '/', port: podPort }, periodSeconds: 1, failureThreshold: 1 },
        }],
      },
    },
  },
});

const nodePortService = (app: string): string => JSON.stringify({
  apiVersion: 'v1', kind: 'Service', metadata: { name: app, namespace: 'default' },
  spec: {
    type: 'NodePort', selector: { app },
    ports: [{ name: 'http', port: 8080, targetPort: podPort, protocol: 'TCP' }, { name: 'echo', port: udpPort, targetPort: udpPort, protocol: 'UDP' }],
  },
});

/** One HTTP GET on a fresh connection; the body, or null when it failed (refused, reset, timed out). */
function get(host: string, port: number, path = '/'): Promise<string | null> {
  return new Promise((done) => {
    const socket = connect({ host, port });
    let data = '';
    const timer = setTimeout(() => (socket.destroy(), done(null)), 5_000);
    socket.once('connect', () => socket.end(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`));
    socket.on('data', (chunk: Buffer) => (data += chunk.toString()));
    socket.once('error', () => (clearTimeout(timer), done(null)));
    socket.once('close', () => {
      clearTimeout(timer);
      const body = /\r\n\r\n([\s\S]*)$/.exec(data)?.[1];
      done(data.startsWith('HTTP/1.1 200') && body !== undefined ? body : null);
    });
  });
}

/** One datagram from a fresh socket (a new UDP session at the proxy); the reply, or null after 2 s. */
function ask(host: string, port: number): Promise<string | null> {
  return new Promise((done) => {
    const socket = createSocket('udp4');
    const finish = (answer: string | null): void => {
      clearTimeout(timer);
      socket.close();
      done(answer);
    };
    const timer = setTimeout(() => finish(null), 2_000);
    socket.once('message', (message) => finish(message.toString()));
    socket.once('error', () => finish(null));
    socket.send('who', port, host);
  });
}

async function json<T>(dir: string, args: readonly string[]): Promise<T> {
  const run = await kubectl(dir, [...args, '-o', 'json']);
  if (run.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${run.stderr.trim()}`);
  return JSON.parse(run.stdout) as T;
}

/** The last lines of a log mentioning the proxy or the tunnel: what a failed wait shows. */
function tail(path: string): string {
  try {
    return readFileSync(path, 'utf8').split('\n').filter((line) => /proxy|tunnel|pod.network|error/i.test(line)).slice(-12).join('\n');
  } catch {
    return '(no log)';
  }
}

describe.runIf(runs)('two agents on different pod networks reach each other\'s endpoints through the NATS tunnel', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kubus-cross-host-'));
  const state = join(dir, '.kubus');
  const started: ClusterProcess[] = [];
  let observer: NatsBus | null = null;

  afterAll(async () => {
    await observer?.close().catch(() => undefined);
    await kubus(dir, ['down']);
    // `down` stops what cluster.json records; an agent started before a failed record is stopped here.
    for (const agent of started) if (isAlive(agent.pid)) process.kill(agent.pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  /** Starts one planned agent with its pod network, recorded in cluster.json so `kubus down` stops it. */
  function startAgent(agent: ClusterProcess, podNetwork: string): void {
    mkdirSync(agent.dataDir as string, { recursive: true, mode: 0o700 });
    const log = openSync(agent.log, 'a');
    const [command, ...args] = [...agent.argv, '--pod-network', podNetwork] as unknown as [string, ...string[]];
    const child = spawn(command, args, { detached: true, stdio: ['ignore', log, log] });
    closeSync(log);
    child.unref();
    const recorded = { ...agent, argv: [command, ...args], pid: child.pid ?? 0 };
    started.push(recorded);
    const file = clusterFile(dir);
    writeClusterFile(state, { ...file, processes: [...file.processes, recorded] });
  }

  async function nodeReady(name: string, podNetwork: string, log: string): Promise<void> {
    await waitUntil(`node ${name} Ready on pod network ${podNetwork}`, async () => {
      const node = await json<Node>(dir, ['get', 'node', name]).catch(() => null);
      return node?.metadata?.labels?.['kubus.io/pod-network'] === podNetwork && node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
    }, { timeoutMs: 90_000, intervalMs: 500 }).catch((error: Error) => {
      throw new Error(`${error.message}; its log:\n${tail(log)}`);
    });
  }

  it('each node\'s NodePort reaches the pod on the other node through the tunnel, and its own pod directly', async () => {
    const up = await kubus(dir, ['up', '--servers', '1', '--agents', '0', '--runtime', 'process']);
    expect([up.code, up.stderr]).toEqual([0, '']);
    const token = createBootstrapToken(cliArgv, state);
    const [one, two] = planAgents(clusterFile(dir), 2, { dir: state, cliArgv, token: () => token, runtime: 'process', privileged: false }) as [ClusterProcess, ClusterProcess];
    startAgent(two, 'net-2');
    await nodeReady(two.id, 'net-2', two.log);
    startAgent(one, 'net-1');
    await nodeReady(one.id, 'net-1', one.log);

    // Watch both nodes' tunnel subjects as the admin: each open is a request there naming its target.
    const file = clusterFile(dir);
    const user = await loadNatsCredentials(state).mintAdmin(file.cluster, { ttlMs: natsCredentialsLimits.adminTtlMs, nowMs: Date.now() });
    observer = await NatsBus.connect({ servers: [file.natsUrl], name: 'cross-host-observer', user, connectTimeoutMs: 5_000, reconnect: false });
    const opens = new Map<string, Buffer[]>([[one.id, []], [two.id, []]]);
    for (const [node, list] of opens) observer.subscribe(tunnelSubject(file.cluster, node), (message) => list.push(Buffer.from(message.data)), { pendingMax: 1_000 });

    const nodes = [{ agent: one, ip: '127.32.0.1', app: 'on-1' }, { agent: two, ip: '127.32.0.2', app: 'on-2' }] as const;
    for (const { agent, app } of nodes) {
      expect((await kubectl(dir, ['apply', '-f', '-'], pinned(app, agent.id))).code).toBe(0);
      expect((await kubectl(dir, ['apply', '-f', '-'], nodePortService(app))).code).toBe(0);
    }
    for (const [home, away] of [[nodes[1], nodes[0]], [nodes[0], nodes[1]]] as const) {
      const [pod] = await waitForRunningPods(dir, home.app, 1, 60_000);
      expect(pod?.spec?.nodeName).toBe(home.agent.id);
      const podIp = pod?.status?.podIP ?? '';
      const podName = pod?.metadata?.name ?? '';
      const nodePort = (await json<Service>(dir, ['get', 'service', home.app])).spec?.ports?.[0]?.nodePort ?? 0;
      // The pod was told where the API is: the kubernetes Service the members keep (127.96.0.1:443).
      expect(await get(podIp, podPort, '/env')).toBe('127.96.0.1:443');
      expect(nodePort).toBeGreaterThanOrEqual(30000);
      const seen = opens.get(home.agent.id) as Buffer[];
      const logs = (): string => `${home.agent.id}'s log:\n${tail(home.agent.log)}\n${away.agent.id}'s log:\n${tail(away.agent.log)}`;

      // The pod's own node: the endpoint is on its own pod network, dialled directly.
      await waitUntil(`${home.app} on its own node's NodePort`, async () => (await get(home.ip, nodePort)) === podName, { timeoutMs: 30_000, intervalMs: 200 })
        .catch((error: Error) => { throw new Error(`${error.message}; ${logs()}`); });
      const beforeLocal = seen.length;
      for (let i = 0; i < requestsPerPath; i++) expect(await get(home.ip, nodePort)).toBe(podName);
      expect(seen.length - beforeLocal).toBe(0);

      // The other node: the endpoint is on another pod network, so through the pod's agent.
      await waitUntil(`${home.app} on the other node's NodePort`, async () => (await get(away.ip, nodePort)) === podName, { timeoutMs: 30_000, intervalMs: 200 })
        .catch((error: Error) => { throw new Error(`${error.message}; ${logs()}`); });
      const before = seen.length;
      for (let i = 0; i < requestsPerPath; i++) expect(await get(away.ip, nodePort)).toBe(podName);
      // The observer's copy of the last open may land a moment after the reply it led to.
      await waitUntil(`an open per connection on ${home.agent.id}'s tunnel subject`, () => seen.length - before >= requestsPerPath, { timeoutMs: 5_000, intervalMs: 50 });
      // Each open names the pod as its target (bus/stream's open request, the tunnel's header).
      const targets = seen.slice(before).map((open) => decode<{ header?: { address?: string; port?: number; protocol?: string } }>(open).header);
      expect(new Set(targets.map((t) => `${t?.address}:${t?.port}/${t?.protocol}`))).toEqual(new Set([`${podIp}:${podPort}/TCP`]));

      // UDP the same way: the pod's own node directly, the other node through a datagram stream.
      const udpNodePort = (await json<Service>(dir, ['get', 'service', home.app])).spec?.ports?.[1]?.nodePort ?? 0;
      const beforeUdpLocal = seen.length;
      await waitUntil(`${home.app} over UDP on its own node's NodePort`, async () => (await ask(home.ip, udpNodePort)) === podName, { timeoutMs: 30_000, intervalMs: 200 })
        .catch((error: Error) => { throw new Error(`${error.message}; ${logs()}`); });
      expect(seen.length - beforeUdpLocal).toBe(0);
      const beforeUdp = seen.length;
      await waitUntil(`${home.app} over UDP on the other node's NodePort`, async () => (await ask(away.ip, udpNodePort)) === podName, { timeoutMs: 30_000, intervalMs: 200 })
        .catch((error: Error) => { throw new Error(`${error.message}; ${logs()}`); });
      await waitUntil(`a datagram stream open on ${home.agent.id}'s tunnel subject`, () => seen.length > beforeUdp, { timeoutMs: 5_000, intervalMs: 50 });
      const udpTargets = seen.slice(beforeUdp).map((open) => decode<{ mode?: string; header?: { address?: string; port?: number; protocol?: string } }>(open));
      expect(new Set(udpTargets.map((o) => `${o.mode} ${o.header?.address}:${o.header?.port}/${o.header?.protocol}`))).toEqual(new Set([`datagram ${podIp}:${udpPort}/UDP`]));
    }
  }, 240_000);
});
