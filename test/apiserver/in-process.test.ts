/**
 * A request served in process (the NATS front's way into its member's pipeline) answers what the
 * same request over HTTPS answers: status, body and the headers a client reads, for discovery, a
 * create with a JSON or YAML body, a refused caller, an unknown path, a warning and a 429.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createJsonLogger } from '../../bus/index.js';
import { ensureClusterCredentials, startApiServer, type RunningApiServer } from '../../actors/apiserver/index.js';
import type { Admission } from '../../actors/apiserver/http/admission.js';
import { builtInAdmission } from '../../actors/apiserver/http/admission.js';
import { FakeStorage } from './kubernetes-service-fake-storage.js';
import { send } from './harness.js';
import { waitUntil } from '../support/wait.js';

describe('an API request in process', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kubus-in-process-'));
  let server: RunningApiServer;
  let ca: string;
  const storage = new FakeStorage();
  let releaseHeld: () => void = () => {};
  const held = new Promise<void>((resolve) => { releaseHeld = resolve; });

  beforeAll(async () => {
    const credentials = await ensureClusterCredentials(join(dir, 'credentials'), { hosts: ['127.0.0.1'] });
    ca = credentials.caCertPem;
    // Admission that warns on every write: the Warning header must come through both ways.
    const warning: Admission = {
      admit: async (request) => {
        request.warn?.('checked twice');
        return builtInAdmission.admit(request);
      },
    };
    server = await startApiServer({
      host: '127.0.0.1', port: 0, tls: { certPem: credentials.serverCertPem, keyPem: credentials.serverKeyPem }, objects: storage.port,
      limits: { inFlightMax: 1 }, admission: warning, logger: createJsonLogger({ level: 'error' }),
      authenticator: { authenticate: (request) => (request.authorization === 'Bearer good' ? { name: 'u', uid: 'u', groups: ['system:authenticated'] } : null) },
      authorizer: { authorize: async (request) => { if (request.name === 'held') await held; } },
    });
  });

  afterAll(async () => {
    releaseHeld();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const both = async (method: string, path: string, headers: Record<string, string>, body?: string) => {
    const https = await send(server.url, ca, method, path, { headers, ...(body !== undefined ? { body } : {}) });
    const local = await server.serveInProcess({ method, url: path, headers: { ...headers, host: new URL(server.url).host }, ...(body !== undefined ? { body: Buffer.from(body) } : {}) });
    if (local === null) throw new Error('the in-process response was cut');
    return { https, local: { ...local, text: local.body.toString('utf8') } };
  };

  it('answers discovery, refusals and unknown paths as HTTPS does', async () => {
    for (const [path, headers] of [['/api', { Authorization: 'Bearer good' }], ['/api', {}], ['/no/such/path', { Authorization: 'Bearer good' }], ['/version', { Authorization: 'Bearer good' }]] as const) {
      const { https, local } = await both('GET', path, headers);
      expect(local.status).toBe(https.status);
      expect(JSON.parse(local.text)).toEqual(JSON.parse(https.body));
      expect(local.headers['content-type']).toBe(https.headers['content-type']);
    }
  });

  it('creates from JSON and YAML bodies with the same answer and warnings', async () => {
    const json = await both('POST', '/api/v1/namespaces/default/configmaps', { Authorization: 'Bearer good', 'Content-Type': 'application/json' }, JSON.stringify({ metadata: { name: 'a' }, data: { k: 'v' } }));
    expect(json.https.status).toBe(201);
    // The second create of the same name is refused: the in-process one answers 409 as HTTPS would have.
    expect(json.local.status).toBe(409);
    expect(json.local.headers['warning']).toBe(json.https.headers['warning']);
    expect(json.local.headers['warning']).toContain('checked twice');
    const yaml = await server.serveInProcess({ method: 'POST', url: '/api/v1/namespaces/default/configmaps', headers: { Authorization: 'Bearer good', 'Content-Type': 'application/yaml' }, body: Buffer.from('metadata:\n  name: b\ndata:\n  k: v\n') });
    expect(yaml?.status).toBe(201);
    expect(JSON.parse(yaml?.body.toString('utf8') ?? '{}')).toMatchObject({ kind: 'ConfigMap', metadata: { name: 'b', namespace: 'default' }, data: { k: 'v' } });
    expect(storage.one('configmaps', 'default', 'b')?.data).toEqual({ k: 'v' });
  });

  it('shares the in-flight bound with HTTPS: 429 with Retry-After while the only seat is held', async () => {
    const holding = send(server.url, ca, 'GET', '/api/v1/namespaces/default/configmaps/held', { headers: { Authorization: 'Bearer good' } });
    // The held request takes its seat once its body is read and it is authenticated; until then a probe may still get in.
    const refused = await waitUntil('a 429 in process while the seat is held', async () => {
      const reply = await server.serveInProcess({ method: 'GET', url: '/api/v1/namespaces/default/configmaps', headers: { Authorization: 'Bearer good' } });
      return reply?.status === 429 ? reply : null;
    }, { timeoutMs: 15_000 });
    expect(refused.headers['retry-after']).toBe('1');
    releaseHeld();
    expect((await holding).status).toBe(404);
  });
});
