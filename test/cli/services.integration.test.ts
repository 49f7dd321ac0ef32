/**
 * Issue 12 §5, the first acceptance case, as a user runs it: `kubus up --servers 3 --agents 2
 * --runtime process` in an empty directory, then `kubectl apply` a Deployment of 3 tiny HTTP
 * servers (`node -e`, bound to `$POD_IP`, each answering its pod name) and a NodePort Service.
 * From this host: the NodePort on either node's address (127.32.0.1, 127.32.0.2) and the
 * ClusterIP reach all 3 pods (3 distinct replies over fresh connections). A pod resolves the
 * Service by its short name through the cluster DNS (`KUBUS_DNS_SERVER`, `KUBUS_DNS_SEARCH`) and
 * connects. A LoadBalancer Service gets an ingress address from the `local` cloud provider
 * (127.98.0.0/24) and answers there; deleting it releases the address (the Service goes once its
 * finalizer is removed, nothing listens there any more, and a new Service asking for that address
 * by `spec.loadBalancerIP` gets it and answers). Scaling to 0 makes connections fail
 * at once (reset or refused, never a hang); scaling back serves again. One cluster for the file;
 * every wait is a condition polled with a deadline.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Node, Pod, Service } from 'kubernetes-types/core/v1.js';
import { afterAll, describe, expect, it } from 'vitest';
import { requireComponent } from '../support/components.js';
import { waitUntil } from '../support/wait.js';
import { kubectl, kubus, waitForRunningPods } from '../nodeagent/node/up-cluster.js';
import { webDeploymentJson } from './services-fixtures.js';

const runs = requireComponent('nats-server', 'apt-get install -y nats-server') && requireComponent('kubectl', 'see https://kubernetes.io/docs/tasks/tools/');
const podPort = 8080;
const servicePort = 8080;
const balancerPort = 8081;
const nodeIps = ['127.32.0.1', '127.32.0.2'];

const web = webDeploymentJson(podPort);

const service = (name: string, type: 'NodePort' | 'LoadBalancer', port: number, loadBalancerIP?: string): string => JSON.stringify({
  apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' },
  spec: { type, selector: { app: 'web' }, ports: [{ name: 'http', port, targetPort: podPort, protocol: 'TCP' }], ...(loadBalancerIP === undefined ? {} : { loadBalancerIP }) },
});

async function ingressOf(dir: string, name: string): Promise<string> {
  return waitUntil(`${name} to get a load balancer ingress address`, async () => {
    const lb = await json<Service>(dir, ['get', 'service', name]);
    return lb.status?.loadBalancer?.ingress?.[0]?.ip ?? null;
  }, { timeoutMs: 30_000, intervalMs: 500 });
}

/**
 * A one-off pod that resolves `web` through the cluster DNS the way a resolver applies the search
 * list (`web.<each search domain>`), then GETs the answer's address on the Service port. The pod's
 * own retries (bounded: 120 × 0.5 s) cover the time the Service, its endpoints and the DNS need.
 */
const client = JSON.stringify({
  apiVersion: 'v1', kind: 'Pod', metadata: { name: 'client', namespace: 'default' },
  spec: {
    restartPolicy: 'Never',
    containers: [{
      name: 'client', image: 'kubus.io/process', command: [process.execPath, '-e', [
        "const dns = require('dns'); const http = require('http');",
        "const server = process.env.KUBUS_DNS_SERVER; const search = (process.env.KUBUS_DNS_SEARCH || '').split(' ').filter(Boolean);",
        "if (!server) { console.log('KUBUS_DNS_SERVER is not set'); process.exit(2); }",
        'const resolver = new dns.promises.Resolver({ timeout: 1000, tries: 1 }); resolver.setServers([server]);',
        'async function lookup() { for (const domain of search) { try { const name = "web." + domain; return [name, (await resolver.resolve4(name))[0]]; } catch (e) { if (e.code !== "ENOTFOUND") throw e; } } throw new Error("web not found in " + search.join(" ")); }',
        `const get = (ip) => new Promise((ok, no) => { const q = http.get({ host: ip, port: ${servicePort}, path: '/', agent: false, timeout: 2000 }, (r) => { let b = ''; r.on('data', (c) => (b += c)); r.on('end', () => ok(b)); }); q.on('error', no); q.on('timeout', () => q.destroy(new Error('timeout'))); });`,
        '(async () => { for (let i = 0; i < 120; i++) { try { const [name, ip] = await lookup(); const body = await get(ip);',
        "  console.log('resolved web as ' + name + ' ' + ip + ' via ' + server + ', answered ' + body); process.exit(0); }",
        "  catch (e) { console.log('attempt ' + i + ': ' + e.message); await new Promise((r) => setTimeout(r, 500)); } } process.exit(1); })();",
      ].join('\n')],
    }],
  },
});

type Attempt = { readonly kind: 'answer'; readonly body: string } | { readonly kind: 'refused'; readonly code: string } | { readonly kind: 'timeout' };

/**
 * One HTTP GET on a fresh connection (no keep-alive: each request is a new choice of endpoint). Like
 * curl it does not half-close its side after the request (the server's `Connection: close` ends
 * it), unless `halfClose`: then its FIN follows the request, and the reply must still come back.
 */
function get(host: string, port: number, halfClose = false): Promise<Attempt> {
  return new Promise((done) => {
    const socket = connect({ host, port });
    let data = '';
    const timer = setTimeout(() => (socket.destroy(), done({ kind: 'timeout' })), 2_000);
    socket.once('connect', () => {
      const request = `GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`;
      if (halfClose) socket.end(request);
      else socket.write(request);
    });
    socket.on('data', (chunk: Buffer) => (data += chunk.toString()));
    socket.once('error', (error: NodeJS.ErrnoException) => (clearTimeout(timer), done({ kind: 'refused', code: error.code ?? error.message })));
    socket.once('close', (hadError) => {
      clearTimeout(timer);
      if (hadError) return;
      // An accepted connection closed without an HTTP answer is a refusal too (the proxy had nowhere to send it).
      const body = /\r\n\r\n([\s\S]*)$/.exec(data)?.[1];
      done(data.startsWith('HTTP/1.1 200') && body !== undefined ? { kind: 'answer', body } : { kind: 'refused', code: data === '' ? 'closed' : 'not 200' });
    });
  });
}

/** Fresh connections to `host:port` until every one of `names` has answered. */
async function reachesAll(what: string, host: string, port: number, names: readonly string[], timeoutMs: number): Promise<void> {
  const seen = new Set<string>();
  const last: Attempt[] = [];
  await waitUntil(`${what} (${host}:${port}) to reach ${names.join(', ')}`, async () => {
    const attempt = await get(host, port);
    last.splice(0, last.length, ...last.slice(-4), attempt);
    if (attempt.kind === 'answer') seen.add(attempt.body);
    return names.every((name) => seen.has(name));
  }, { timeoutMs, intervalMs: 50 }).catch((error: Error) => {
    throw new Error(`${error.message}; replies seen: ${[...seen].join(', ') || 'none'}; last attempts: ${JSON.stringify(last)}`);
  });
  expect([...seen].sort()).toEqual([...names].sort());
}

async function json<T>(dir: string, args: readonly string[]): Promise<T> {
  const run = await kubectl(dir, [...args, '-o', 'json']);
  if (run.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${run.stderr.trim()}`);
  return JSON.parse(run.stdout) as T;
}

async function apply(dir: string, manifest: string): Promise<void> {
  const run = await kubectl(dir, ['apply', '-f', '-'], manifest);
  expect([run.code, run.stderr]).toEqual([0, '']);
}

/** The last lines of an agent's log mentioning the proxy or DNS: what a failed wait shows. */
function agentLog(dir: string): string {
  return ['kubus-agent-1', 'kubus-agent-2'].map((name) => {
    try {
      const lines = readFileSync(join(dir, '.kubus', 'logs', `${name}.log`), 'utf8').split('\n').filter((line) => /proxy|dns|service|tunnel/i.test(line));
      return `${name}:\n${lines.slice(-8).join('\n')}`;
    } catch {
      return `${name}: (no log)`;
    }
  }).join('\n');
}

describe.runIf(runs)('Services on a kubus up cluster: NodePort, ClusterIP, cluster DNS, a local load balancer', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kubus-services-'));

  afterAll(async () => {
    // Whatever happened, nothing `up` started outlives the test (down stops by recorded pid; agents drain their pods).
    await kubus(dir, ['down']);
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it('serves a Deployment through NodePort, ClusterIP, DNS and a LoadBalancer, refuses at 0 replicas, serves again', async () => {
    const up = await kubus(dir, ['up', '--servers', '3', '--agents', '2', '--runtime', 'process']);
    expect([up.code, up.stderr]).toEqual([0, '']);
    expect(up.stdout).toMatch(/^kubus up: addresses, all on loopback .*Services 127\.96\.0\.0\/16 .*NodePorts 30000-32767, pods 127\.64\.0\.0\/11 .*load balancers 127\.98\.0\.0\/24 \(cloud provider local\)$/m);
    expect(up.stdout).toMatch(/^kubus up: node kubus-agent-1: address 127\.32\.0\.1 \(NodePorts\), cluster DNS 127\.32\.0\.1:(53|1053)/m);
    expect(up.stdout).toMatch(/^kubus up: node kubus-agent-2: address 127\.32\.0\.2 \(NodePorts\), cluster DNS 127\.32\.0\.2:(53|1053)/m);
    const nodes = (await json<{ items: Node[] }>(dir, ['get', 'nodes'])).items;
    expect(nodes.map((n) => [n.metadata?.name, n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address])).toEqual([
      ['kubus-agent-1', nodeIps[0]], ['kubus-agent-2', nodeIps[1]],
    ]);

    // Everything at once: the pods start while the Services are allocated and the client retries.
    await apply(dir, web);
    await apply(dir, service('web', 'NodePort', servicePort));
    await apply(dir, service('web-lb', 'LoadBalancer', balancerPort));
    await apply(dir, client);
    const pods = await waitForRunningPods(dir, 'web', 3, 90_000);
    const names = pods.map((p) => p.metadata?.name ?? '');

    const svc = await json<Service>(dir, ['get', 'service', 'web']);
    const clusterIp = svc.spec?.clusterIP ?? '';
    const nodePort = svc.spec?.ports?.[0]?.nodePort ?? 0;
    expect(clusterIp).toMatch(/^127\.96\.\d+\.\d+$/);
    expect(nodePort).toBeGreaterThanOrEqual(30000);
    expect(nodePort).toBeLessThanOrEqual(32767);
    try {
      for (const ip of nodeIps) await reachesAll(`NodePort on node ${ip}`, ip, nodePort, names, 30_000);
      await reachesAll('the ClusterIP from the host', clusterIp, servicePort, names, 30_000);
    } catch (error) {
      throw new Error(`${(error as Error).message}\nagent logs:\n${agentLog(dir)}`);
    }

    // A pod found the Service by its short name through its node's DNS server, and was answered.
    const done = await waitUntil('the client pod to finish', async () => {
      const pod = await json<Pod>(dir, ['get', 'pod', 'client']);
      return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed' ? pod : null;
    }, { timeoutMs: 60_000, intervalMs: 500 });
    const logs = (await kubectl(dir, ['logs', 'client'])).stdout;
    expect(done.status?.phase, logs).toBe('Succeeded');
    const resolved = /^resolved web as web\.default\.svc\.cluster\.local (\S+) via 127\.32\.0\.[12]:(53|1053), answered (\S+)$/m.exec(logs);
    expect(resolved, logs).not.toBeNull();
    expect(resolved?.[1]).toBe(clusterIp);
    expect(names).toContain(resolved?.[3]);

    // The local cloud provider's load balancer: an address from its pool, answering on the Service port.
    const ingress = await ingressOf(dir, 'web-lb');
    expect(ingress).toMatch(/^127\.98\.0\.\d+$/);
    await reachesAll('the load balancer', ingress, balancerPort, names, 30_000);
    // A client that half-closes after its request still gets the reply, through the balancer and the node proxy.
    for (const [host, port] of [[ingress, balancerPort], [clusterIp, servicePort]] as const) {
      const attempt = await get(host, port, true);
      expect([host, attempt.kind]).toEqual([host, 'answer']);
    }

    // Deleting it releases the address: the finalizer goes once the balancer is deleted, and nothing listens there.
    expect((await kubectl(dir, ['delete', 'service', 'web-lb', '--wait=false'])).code).toBe(0);
    await waitUntil('web-lb to be gone (its finalizer removed)', async () => (await kubectl(dir, ['get', 'service', 'web-lb'])).code !== 0, { timeoutMs: 30_000, intervalMs: 500 });
    const released = await waitUntil(`${ingress}:${balancerPort} to refuse connections`, async () => {
      const attempt = await get(ingress, balancerPort);
      return attempt.kind === 'refused' ? attempt : null;
    }, { timeoutMs: 10_000, intervalMs: 200 });
    expect(released.code).toBe('ECONNREFUSED');
    // A new Service asking for that address gets it (the provider gives an address held by another Service to nobody).
    await apply(dir, service('web-lb2', 'LoadBalancer', balancerPort, ingress));
    expect(await ingressOf(dir, 'web-lb2')).toBe(ingress);
    await reachesAll('the released address, taken by a new load balancer', ingress, balancerPort, names, 30_000);

    // Scale to 0: once the endpoints are gone every path refuses at once (a reset or a refusal, never a hang).
    expect((await kubectl(dir, ['scale', 'deployment', 'web', '--replicas=0'])).code).toBe(0);
    for (const [host, port] of [[clusterIp, servicePort], [nodeIps[0] as string, nodePort], [nodeIps[1] as string, nodePort]] as const) {
      await waitUntil(`${host}:${port} to refuse with no pods`, async () => (await get(host, port)).kind === 'refused', { timeoutMs: 30_000, intervalMs: 200 });
      const attempts = await Promise.all([1, 2, 3].map(() => get(host, port)));
      expect(attempts.map((a) => a.kind)).toEqual(['refused', 'refused', 'refused']);
    }

    // Scale back: served again, by the new pods.
    expect((await kubectl(dir, ['scale', 'deployment', 'web', '--replicas=3'])).code).toBe(0);
    const again = (await waitForRunningPods(dir, 'web', 3, 90_000)).map((p) => p.metadata?.name ?? '');
    await reachesAll('the ClusterIP after scaling back', clusterIp, servicePort, again, 30_000);
    await reachesAll(`NodePort on node ${nodeIps[1]} after scaling back`, nodeIps[1] as string, nodePort, again, 30_000);
  }, 420_000);
});
