/**
 * The interactive verbs through the API with the real kubectl 1.32 (issue 13 §2): one member, one
 * real node agent in this process (process runtime, joined with a bootstrap token), pods bound to
 * it. What a user types, and what it gets:
 *
 * - `kubectl exec pod -- sh -c '…; exit 3'`: stdout and stderr apart, "command terminated with
 *   exit code 3", and kubectl exits 3 (the NonZeroExitCode Status on channel 3);
 * - `kubectl exec -i` feeds stdin through to the command until EOF;
 * - `kubectl cp` both ways (exec + tar);
 * - `kubectl port-forward` carries HTTP requests to the pod's port (one after the other, several at
 *   once, a 1 MiB answer), also as `svc/<name>` (kubectl resolves the pod and target port);
 * - `kubectl attach` shows the container's output as it comes;
 * - refusals: a pod that does not exist (NotFound), a user without `create pods/exec` (Forbidden),
 *   a pod on a node whose agent is not there (the node and subject named), a port nobody listens on (kubectl's "lost connection to pod"), and the SPDY fallback
 *   (`KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false`) refused with a Status that says why.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newBootstrapToken } from '../../actors/apiserver/authn/index.js';
import { refs } from '../../actors/controllers/runtime/resource-refs.js';
import { createJsonLogger } from '../../bus/logger.js';
import { caCertHash } from '../../nodeagent/join/index.js';
import { defaultNodeConfig, defaultServicesConfig, startAgent, type RunningAgent } from '../../nodeagent/agent.js';
import { callAs, startApiHarness, type ApiHarness } from '../apiserver/harness.js';
import { requireComponent } from '../support/components.js';
import { adminApi } from '../support/control-plane.js';
import { waitUntil } from '../support/wait.js';

const runs = requireComponent('nats-server', 'apt-get install -y nats-server') && requireComponent('kubectl', 'install kubectl 1.32');
const ns = 'kubus-test-h4';
const node = { name: 'kubus-test-h4-node', ip: '127.32.214.1' };
const execer = { token: 'kubus-test-h4-execer-token', name: 'execer' };
const viewer = { token: 'kubus-test-h4-viewer-token', name: 'viewer' };

const setup = `apiVersion: v1
kind: Namespace
metadata: { name: ${ns} }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: { name: exec, namespace: ${ns} }
rules:
- { apiGroups: [""], resources: [pods], verbs: [get, list] }
- { apiGroups: [""], resources: [pods/exec], verbs: [create] }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: execer-exec, namespace: ${ns} }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: Role, name: exec }
subjects: [{ apiGroup: rbac.authorization.k8s.io, kind: User, name: ${execer.name} }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: viewer-view, namespace: ${ns} }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view }
subjects: [{ apiGroup: rbac.authorization.k8s.io, kind: User, name: ${viewer.name} }]
`;

const web = "require('http').createServer((q, s) => s.end(q.url === '/big' ? 'y'.repeat(1 << 20) : 'hello ' + q.url)).listen(8080, process.env.POD_IP)";
const pods = `apiVersion: v1
kind: Pod
metadata: { name: shell, namespace: ${ns} }
spec:
  nodeName: ${node.name}
  containers:
  - { name: sh, image: kubus.io/process, command: [sh, -c, 'while true; do echo tick; sleep 1; done'] }
---
apiVersion: v1
kind: Pod
metadata: { name: reader, namespace: ${ns} }
spec:
  nodeName: ${node.name}
  containers:
  - { name: read, image: kubus.io/process, stdin: true, command: [sh, -c, 'while read line; do echo "got $line"; done'] }
---
apiVersion: v1
kind: Pod
metadata: { name: web, namespace: ${ns}, labels: { app: web } }
spec:
  nodeName: ${node.name}
  containers:
  - name: web
    image: kubus.io/process
    command: [${JSON.stringify(process.execPath)}, -e, ${JSON.stringify(web)}]
    env: [{ name: POD_IP, valueFrom: { fieldRef: { fieldPath: status.podIP } } }]
---
apiVersion: v1
kind: Service
metadata: { name: web, namespace: ${ns} }
spec:
  selector: { app: web }
  ports: [{ port: 80, targetPort: 8080 }]
`;

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

describe.runIf(runs)('kubectl exec, attach, cp and port-forward through the API to a process agent', () => {
  let h: ApiHarness;
  let scratch: string;
  let agent: RunningAgent | null = null;
  const children = new Set<ReturnType<typeof spawn>>();

  /** kubectl as a user runs it: stdin, environment, a bound on its life (killed past it). */
  function kubectl(args: readonly string[], options: { input?: string; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<Run> {
    return new Promise((resolve) => {
      const child = spawn('kubectl', ['--kubeconfig', h.kubeconfigPath, '--cache-dir', join(h.dir, 'kube-cache'), ...args], {
        env: { ...process.env, HOME: h.dir, ...options.env }, stdio: ['pipe', 'pipe', 'pipe'],
      });
      children.add(child);
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
      child.once('exit', (code) => {
        clearTimeout(timer);
        children.delete(child);
        resolve({ code, stdout, stderr });
      });
      child.stdin.end(options.input ?? '');
    });
  }

  /** A long-running kubectl (port-forward, attach): its output so far, and a stop. */
  function background(args: readonly string[], input?: string): { output: () => string; stop: () => Promise<void> } {
    const child = spawn('kubectl', ['--kubeconfig', h.kubeconfigPath, '--cache-dir', join(h.dir, 'kube-cache'), ...args], { env: { ...process.env, HOME: h.dir }, stdio: ['pipe', 'pipe', 'pipe'] });
    children.add(child);
    // Without input, stdin stays open (kubectl attach -i would otherwise see EOF at once).
    if (input !== undefined) child.stdin.write(input);
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    return {
      output: () => output,
      stop: async () => {
        child.kill('SIGTERM');
        await exited;
        children.delete(child);
      },
    };
  }

  beforeAll(async () => {
    h = await startApiHarness({ members: 1, users: [execer, viewer] });
    scratch = mkdtempSync(join(tmpdir(), 'kubus-test-h4-'));
    const bootstrap = newBootstrapToken(new Date(Date.now() + 30 * 60_000));
    expect((await callAs(h, 'POST', '/api/v1/namespaces/kube-system/secrets', { token: h.token, body: bootstrap.secret })).status).toBe(201);
    agent = await startAgent({
      join: { node: node.name, dir: join(scratch, 'agent'), server: h.url, token: bootstrap.token, caCertHash: caCertHash(h.caCertPem) },
      runtime: 'process',
      node: defaultNodeConfig({ nodeIp: node.ip, services: defaultServicesConfig(node.ip, { proxy: false, clusterDns: null }) }),
      logger: createJsonLogger({ level: 'warn' }),
    });
    await agent.connected();
    expect((await h.kubectl(['apply', '-f', h.manifest('setup.yaml', setup)])).code).toBe(0);
    await waitUntil('the default ServiceAccount', async () => (await adminApi(h).get(refs.serviceaccounts, ns, 'default').catch(() => null)) !== null, { timeoutMs: 30_000 });
    expect((await h.kubectl(['apply', '-f', h.manifest('pods.yaml', pods)])).code).toBe(0);
    await waitUntil('the pods Running', async () => {
      const list = await adminApi(h).list(refs.pods, { namespace: ns });
      return list.items.length === 3 && list.items.every((p) => (p as { status?: { phase?: string } }).status?.phase === 'Running');
    }, { timeoutMs: 60_000, intervalMs: 250 });
  }, 150_000);

  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await agent?.stop({ drain: true });
    await h?.stop();
    if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
  }, 60_000);

  it('exec: stdout and stderr apart, and kubectl exits with the command\'s code', async () => {
    const run = await kubectl(['exec', '-n', ns, 'shell', '--', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    expect(run.stdout).toBe('out\n');
    expect(run.stderr).toMatch(/^err\n/);
    expect(run.stderr).toMatch(/command terminated with exit code 3/);
    expect(run.code).toBe(3);
    expect(await kubectl(['exec', '-n', ns, 'shell', '--', 'true'])).toEqual({ code: 0, stdout: '', stderr: '' });
  }, 60_000);

  it('exec: 3 MB of output arrive whole (flow control end to end, not a buffer)', async () => {
    const run = await kubectl(['exec', '-n', ns, 'shell', '--', 'sh', '-c', "head -c 3000000 /dev/zero | tr '\\0' x"]);
    expect([run.code, run.stderr]).toEqual([0, '']);
    expect(run.stdout.length).toBe(3_000_000);
    expect(/^x+$/.test(run.stdout)).toBe(true);
  }, 60_000);

  it('exec -i: stdin reaches the command until EOF', async () => {
    const run = await kubectl(['exec', '-i', '-n', ns, 'shell', '--', 'sh', '-c', 'cat; echo done'], { input: 'line one\nline two\n' });
    expect(run).toEqual({ code: 0, stdout: 'line one\nline two\ndone\n', stderr: '' });
  }, 60_000);

  it('cp: a 2 MiB binary file to the pod and back (exec + tar)', async () => {
    // The process runtime shares the host's file system: the pod's path is in the test's scratch dir.
    const local = join(scratch, 'to-pod.bin');
    const content = randomBytes(2 * 1024 * 1024);
    writeFileSync(local, content);
    const inPod = join(scratch, 'in-pod');
    expect((await kubectl(['exec', '-n', ns, 'shell', '--', 'mkdir', '-p', inPod])).code).toBe(0);
    const up = await kubectl(['cp', local, `${ns}/shell:${inPod}/file.bin`]);
    expect([up.code, up.stderr]).toEqual([0, '']);
    expect(readFileSync(join(inPod, 'file.bin')).equals(content)).toBe(true);
    const back = join(scratch, 'from-pod.bin');
    const down = await kubectl(['cp', `${ns}/shell:${inPod}/file.bin`, back]);
    expect(down.code, down.stderr).toBe(0);
    expect(readFileSync(back).equals(content)).toBe(true);
  }, 60_000);

  it('port-forward: HTTP requests reach the pod\'s port through the tunnel', async () => {
    const forward = background(['port-forward', '-n', ns, 'pod/web', ':8080']);
    try {
      const localPort = await waitUntil('port-forward listening', () => /Forwarding from 127\.0\.0\.1:(\d+) -> 8080/.exec(forward.output())?.[1], { timeoutMs: 30_000 });
      expect(await get(Number(localPort), '/first')).toBe('hello /first');
      expect(await get(Number(localPort), '/second')).toBe('hello /second');
      // Several local connections at once: one data stream each, paired with its error stream.
      const paths = ['/a', '/b', '/c', '/d', '/e'];
      expect(await Promise.all(paths.map((path) => get(Number(localPort), path)))).toEqual(paths.map((path) => `hello ${path}`));
      expect((await get(Number(localPort), '/big')).length).toBe(1 << 20);
    } finally {
      await forward.stop();
    }
    expect(forward.output()).not.toMatch(/error/i);
  }, 60_000);

  it('port-forward svc/web: kubectl picks a pod of the Service and its target port', async () => {
    const forward = background(['port-forward', '-n', ns, 'svc/web', ':80']);
    try {
      const localPort = await waitUntil('port-forward listening', () => /Forwarding from 127\.0\.0\.1:(\d+) -> 8080/.exec(forward.output())?.[1], { timeoutMs: 30_000 });
      expect(await get(Number(localPort), '/via-service')).toBe('hello /via-service');
    } finally {
      await forward.stop();
    }
  }, 60_000);

  it('port-forward to a port nobody listens on: kubectl reports the error and drops the connection', async () => {
    const forward = background(['port-forward', '-n', ns, 'pod/web', ':9']);
    try {
      const localPort = await waitUntil('port-forward listening', () => /Forwarding from 127\.0\.0\.1:(\d+) -> 9/.exec(forward.output())?.[1], { timeoutMs: 30_000 });
      await get(Number(localPort), '/').catch(() => null);
      await waitUntil('kubectl reporting the failure', () => /an error occurred forwarding \d+ -> 9: .*refused/i.test(forward.output()), { timeoutMs: 30_000 });
    } finally {
      await forward.stop();
    }
  }, 60_000);

  it('attach: the container\'s output as it comes', async () => {
    const attach = background(['attach', '-n', ns, 'shell']);
    try {
      await waitUntil('ticks through attach', () => (forwardTicks(attach.output()) >= 2 ? true : null), { timeoutMs: 30_000 });
    } finally {
      await attach.stop();
    }
  }, 60_000);

  it('attach -i: stdin reaches the container\'s main process (stdin: true), its answers come back', async () => {
    const attach = background(['attach', '-i', '-n', ns, 'reader'], 'hello\n');
    try {
      await waitUntil('the answer through attach', () => attach.output().includes('got hello'), { timeoutMs: 30_000 });
    } finally {
      await attach.stop();
    }
  }, 60_000);

  it('refuses a missing pod, a user without create pods/exec, a node without an agent, and the SPDY fallback, saying why', async () => {
    const missing = await kubectl(['exec', '-n', ns, 'nope', '--', 'true']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/NotFound.*pods "nope" not found/);

    const allowed = await kubectl([`--token=${execer.token}`, 'exec', '-n', ns, 'shell', '--', 'echo', 'allowed']);
    expect([allowed.code, allowed.stdout]).toEqual([0, 'allowed\n']);
    const forbidden = await kubectl([`--token=${viewer.token}`, 'exec', '-n', ns, 'shell', '--', 'true']);
    expect(forbidden.code).toBe(1);
    expect(forbidden.stderr).toMatch(/Forbidden.*pods\/exec/);

    // A pod bound to a node without an agent: the Status names the node and the subject nobody answers on.
    const orphan = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'orphan', namespace: ns }, spec: { nodeName: 'kubus-test-h4-gone', containers: [{ name: 'c', image: 'kubus.io/process' }] } };
    expect((await kubectl(['apply', '-f', '-'], { input: JSON.stringify(orphan) })).code).toBe(0);
    const gone = await kubectl(['exec', '-n', ns, 'orphan', '--', 'true']);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/error: the agent of node "kubus-test-h4-gone" does not answer on \S+\.node\.kubus-test-h4-gone\.rpc\.stream: no agent is connected/);

    const spdy = await kubectl(['exec', '-n', ns, 'shell', '--', 'true'], { env: { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false' } });
    expect(spdy.code).toBe(1);
    expect(spdy.stderr).toMatch(/Error from server \(BadRequest\): kubus serves pods\/exec over WebSocket .* not SPDY.*KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false/);

    // kubectl debug needs ephemeral containers, which kubus does not serve: kubectl says so (it
    // panicked on a 404 Status without kube-apiserver's empty `details`).
    const debug = await kubectl(['debug', '-n', ns, 'shell', '--image=kubus.io/process', '--', 'true']);
    expect([debug.code, debug.stderr.split('\n').filter((line) => line.startsWith('error:'))]).toEqual([1, ['error: ephemeral containers are disabled for this cluster (error from server: "the server could not find the requested resource")']]);
  }, 60_000);
});

function forwardTicks(output: string): number {
  return output.split('\n').filter((line) => line === 'tick').length;
}

function get(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, timeout: 10_000 }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve(body));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}
