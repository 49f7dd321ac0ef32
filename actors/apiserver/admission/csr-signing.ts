/**
 * TLS bootstrap (Kubernetes' kubelet client CSR flow, done inside the API server): an Admission
 * decorator around the member's chain for `certificatesigningrequests`.
 * - On create the requester's identity is written into spec.username/uid/groups (as Kubernetes'
 *   CSR strategy does: a client cannot forge them) and any client-sent status is dropped.
 * - A request csr-subject.ts approves is signed at once with the cluster CA and stored with
 *   status.certificate and an `Approved` condition: the bootstrap token is exchanged for a node
 *   credential in one round trip.
 * - A bootstrapper's request that would not be approved is refused (403, naming what is wrong):
 *   creating that CSR is a bootstrap token's one power, and a pending request it can never use is
 *   only clutter. Anyone else's (an admin's, another signer's) is stored pending, unsigned.
 * - A bootstrapper's request for the name of a live node (its Node exists and its Lease was renewed
 *   within its duration: csr-join.ts) is refused (403 naming the node and what to do); the node
 *   itself renewing its certificate is approved.
 * - On update of the main resource the stored spec is kept: spec is immutable after create.
 * - A dry run is approved or refused the same way but gets no certificate (nothing is stored).
 *
 * Decision: signing here rather than in a controller (Kubernetes' csrapproving + csrsigning):
 * kubus members all hold the CA key already (credentials.ts) and the answer to the create then
 * carries the certificate, so a joining node needs no watch and no approval latency.
 */
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import type { Admission, AdmissionRequest } from '../http/admission.js';
import { ApiError } from '../status.js';
import type { KubeObject } from '../types.js';
import { bootstrappersGroup, decideNodeClient, parseCertificateRequest } from './csr-subject.js';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export const csrSigningLimits = {
  /**
   * Default and maximum lifetime of a signed node client certificate: one year, the default of
   * kube-controller-manager's --cluster-signing-duration. kubus has no certificate revocation, so
   * this bounds how long a stolen node credential works; the kubelet renews long before (at 70-90%).
   */
  durationMaxSeconds: 365 * 86_400,
  /** Kubernetes' lower bound on spec.expirationSeconds: shorter certificates expire before use under clock skew. */
  durationMinSeconds: 600,
  /** notBefore is back-dated by this much, as Kubernetes' signer does, so a node whose clock is a little behind accepts it. */
  backdateSeconds: 300,
} as const;

const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

export interface CsrSigningOptions {
  readonly caCertPem: string;
  readonly caKeyPem: string;
  /** Wall-clock time for validity windows and condition timestamps. */
  readonly clock: () => Date;
  /** True when a live node holds `name` (csr-join.ts `liveNodeHolds`): a bootstrap token may not take it over. */
  readonly liveNode?: (name: string, nowMs: number) => Promise<boolean>;
}

function isCsr(request: AdmissionRequest): boolean {
  return request.info.group === 'certificates.k8s.io' && request.info.resource === 'certificatesigningrequests';
}

type Obj = Record<string, unknown>;
const obj = (value: unknown): Obj => (typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Obj) : {});

export function withCsrSigning(inner: Admission, options: CsrSigningOptions): Admission {
  return {
    async admit(request) {
      if (!isCsr(request) || request.object === null) return inner.admit(request);
      if (request.operation === 'UPDATE' && request.subresource === null && request.old !== null) {
        return inner.admit({ ...request, object: { ...request.object, spec: request.old['spec'] } });
      }
      if (request.operation !== 'CREATE') return inner.admit(request);
      const { user } = request;
      const identity = { username: user.name, uid: user.uid, groups: [...user.groups] };
      const prepared: KubeObject = { ...request.object, spec: { ...obj(request.object['spec']), ...identity }, status: {} };
      const admitted = (await inner.admit({ ...request, object: prepared })) ?? prepared;
      const spec = { ...obj(admitted['spec']), ...identity };
      const result = await decide(spec, request);
      if (!result.approve) {
        if (user.groups.includes(bootstrappersGroup)) {
          throw new ApiError(403, 'Forbidden', `certificatesigningrequests.certificates.k8s.io is forbidden: a bootstrap token may only request a node client certificate: ${result.reason}`,
            { group: 'certificates.k8s.io', kind: 'certificatesigningrequests' });
        }
        return { ...admitted, spec, status: {} };
      }
      const now = options.clock();
      if (user.groups.includes(bootstrappersGroup) && options.liveNode !== undefined && await options.liveNode(result.nodeName, now.getTime())) {
        throw liveNodeRefusal(result.nodeName, user.name);
      }
      const at = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
      const conditions = [{
        type: 'Approved', status: 'True', reason: 'AutoApproved', lastUpdateTime: at, lastTransitionTime: at,
        message: `Auto approving kubelet client certificate for node ${result.nodeName} (requested by ${user.name}).`,
      }];
      // A dry run shows the approval but issues nothing: a certificate handed out must have its stored CSR.
      if (request.dryRun) return { ...admitted, spec, status: { conditions } };
      const certificate = await signCertificate(options, result.csr, result.usages, durationOf(spec), now);
      return { ...admitted, spec, status: { conditions, certificate: Buffer.from(certificate, 'utf8').toString('base64') } };
    },
  };
}

/** A new node may not take the name of one that is running: it would steal its pods and its bus subjects. */
function liveNodeRefusal(node: string, requester: string): ApiError {
  return new ApiError(403, 'Forbidden', `certificatesigningrequests.certificates.k8s.io is forbidden: node "${node}" exists and renewed its Lease within its duration, `
    + `so a live node holds the name (${requester} may not join as it): if that node is gone for good, run \`kubectl delete node ${node}\` and join again; `
    + 'otherwise join with another --name', { group: 'certificates.k8s.io', kind: 'certificatesigningrequests' });
}

type Decision = { approve: true; nodeName: string; usages: string[]; csr: x509.Pkcs10CertificateRequest } | { approve: false; reason: string };

async function decide(spec: Obj, request: AdmissionRequest): Promise<Decision> {
  let parsed: ReturnType<typeof parseCertificateRequest>;
  try {
    parsed = parseCertificateRequest(Buffer.from(String(spec['request'] ?? ''), 'base64').toString('utf8'));
  } catch {
    return { approve: false, reason: 'spec.request is not a PEM CERTIFICATE REQUEST' };
  }
  // Proof of possession: the CSR is signed by the key whose public half it asks to certify.
  if (!(await parsed.csr.verify())) return { approve: false, reason: 'the CSR signature does not verify against its own public key' };
  const usages = Array.isArray(spec['usages']) ? spec['usages'].filter((u): u is string => typeof u === 'string') : [];
  const decision = decideNodeClient({ signerName: String(spec['signerName'] ?? ''), usages, requested: parsed.requested, requester: request.user });
  return decision.approve ? { ...decision, usages, csr: parsed.csr } : decision;
}

/** spec.expirationSeconds within [min, max]; absent means the maximum. */
export function durationOf(spec: Obj): number {
  const asked = spec['expirationSeconds'];
  if (typeof asked !== 'number' || !Number.isFinite(asked)) return csrSigningLimits.durationMaxSeconds;
  return Math.min(csrSigningLimits.durationMaxSeconds, Math.max(csrSigningLimits.durationMinSeconds, Math.floor(asked)));
}

async function signCertificate(
  options: CsrSigningOptions, csr: x509.Pkcs10CertificateRequest, usages: readonly string[], durationSeconds: number, now: Date,
): Promise<string> {
  const caCert = new x509.X509Certificate(options.caCertPem);
  const caKey = await webcrypto.subtle.importKey('pkcs8', x509.PemConverter.decodeFirst(options.caKeyPem), algorithm, false, ['sign']);
  const notBefore = new Date(now.getTime() - csrSigningLimits.backdateSeconds * 1000);
  // Never past the CA's own expiry: a certificate outliving its issuer would not verify anyway.
  const notAfter = new Date(Math.min(now.getTime() + durationSeconds * 1000, caCert.notAfter.getTime()));
  const cert = await x509.X509CertificateGenerator.create({
    // No serialNumber: the library draws a random positive one, as RFC 5280 asks.
    subject: csr.subjectName.toString(),
    issuer: caCert.subject,
    notBefore, notAfter,
    signingAlgorithm: algorithm,
    publicKey: csr.publicKey,
    signingKey: caKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      // Only what was asked for (decideNodeClient allowed these two and client auth).
      new x509.KeyUsagesExtension((usages.includes('digital signature') ? x509.KeyUsageFlags.digitalSignature : 0)
        | (usages.includes('key encipherment') ? x509.KeyUsageFlags.keyEncipherment : 0), true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
    ],
  });
  return cert.toString('pem');
}
