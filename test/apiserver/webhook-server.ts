/**
 * A real HTTPS admission webhook server for integration tests: its own CA, a serving certificate
 * for 127.0.0.1 (trusted by the API server through the webhook's caBundle), every AdmissionReview
 * it receives recorded, and each answer chosen by the test from the request path. Shared by the
 * webhook suites so they exercise the same TLS path the API server uses in production.
 */
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { expect } from 'vitest';
import { createCa, issueServingCert } from '../../actors/apiserver/pki.js';
import type { ApiHarness } from './harness.js';

interface ReviewedObject { apiVersion?: string; kind?: string; metadata: { name: string; labels?: Record<string, string> } }

export interface Review {
  request: {
    uid: string; operation: string; name: string; namespace?: string; subResource?: string;
    resource: { group: string; version: string; resource: string };
    object: ReviewedObject | null; oldObject: ReviewedObject | null; dryRun: boolean;
  };
}

/** The answer for a review sent to `path`: a JSON body, a raw string, or null to never answer. */
export type WebhookAnswer = (path: string, review: Review) => unknown | null;

export interface WebhookServer {
  /** `https://127.0.0.1:<port>`: append the path that selects the answer. */
  readonly base: string;
  /** The server CA, base64 as `clientConfig.caBundle` wants it. */
  readonly caBundle: string;
  /** Every review received, in arrival order. */
  readonly calls: Review[];
  close(): void;
}

const json = { 'Content-Type': 'application/json' };

export async function startWebhookServer(answer: WebhookAnswer): Promise<WebhookServer> {
  const ca = await createCa('webhook-test-ca');
  const serving = await issueServingCert(ca, { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
  const calls: Review[] = [];
  const server: Server = createServer({ cert: serving.certPem, key: serving.keyPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const review = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Review;
      calls.push(review);
      const body = answer(req.url ?? '', review);
      if (body === null) return;
      res.writeHead(200, json).end(typeof body === 'string' ? body : JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    base: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    caBundle: Buffer.from(ca.certPem).toString('base64'),
    calls,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

/** An AdmissionReview response for `review`, with the given response fields. */
export function reviewResponse(review: Review, response: Record<string, unknown>): unknown {
  return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: review.request.uid, ...response } };
}

/** A port nothing listens on: bound, read, closed. */
export async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** Creates a Mutating/ValidatingWebhookConfiguration through the API (admin token). */
export async function configureWebhooks(h: ApiHarness, kind: 'Mutating' | 'Validating', name: string, webhooks: unknown[]): Promise<void> {
  const plural = `${kind.toLowerCase()}webhookconfigurations`;
  const reply = await h.request('POST', `/apis/admissionregistration.k8s.io/v1/${plural}`, {
    headers: json, body: JSON.stringify({ apiVersion: 'admissionregistration.k8s.io/v1', kind: `${kind}WebhookConfiguration`, metadata: { name }, webhooks }),
  });
  expect(reply.status, reply.body).toBe(201);
}
