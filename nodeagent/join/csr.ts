/**
 * TLS bootstrap (the kubelet's): a new ECDSA P-256 key, a CSR for `CN=system:node:<name>,
 * O=system:nodes` with signer `kubernetes.io/kube-apiserver-client-kubelet`, created with the
 * bootstrap token (first join) or the node's own certificate (renewal); kubus signs it on create
 * (actors/apiserver/admission/csr-signing.ts); a cluster that does not is polled a bounded time.
 *
 * Decision: @peculiar/x509 (the maintained X.509 library the control plane's PKI uses; Node has no
 * CSR builder) is loaded on first use only: it costs an agent ~20 MB of RSS (measured on the
 * compiled agent), and a restarted agent needs a CSR only when it renews its certificate (80 % of a
 * year), not at start.
 */
import { randomBytes, webcrypto } from 'node:crypto';
import { BootstrapTokenRefusedError, JoinProtocolError, JoinRefusedError } from './errors.js';
import { callJson, isTransientStatus, statusMessage, TransportError, type HttpsTarget } from './https-client.js';
import { joinLimits } from './limits.js';

type X509 = typeof import('@peculiar/x509');
let x509Module: Promise<X509> | null = null;

function loadX509(): Promise<X509> {
  x509Module ??= import('@peculiar/x509').then((x509) => {
    x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
    return x509;
  });
  return x509Module;
}

const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const csrPath = '/apis/certificates.k8s.io/v1/certificatesigningrequests';

export interface NodeKeyAndCsr {
  readonly keyPem: string;
  readonly csrPem: string;
}

export async function newNodeCsr(node: string): Promise<NodeKeyAndCsr> {
  const x509 = await loadX509();
  const keys = await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: `CN=system:node:${node}, O=system:nodes`, keys, signingAlgorithm: algorithm });
  const keyPem = x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY');
  return { keyPem, csrPem: csr.toString('pem') };
}

export interface CsrOptions {
  readonly node: string;
  readonly sleep: (ms: number) => Promise<void>;
  readonly nowMs: () => number;
}

/** Creates the CSR and returns the signed certificate (PEM); typed errors for refusals. */
export async function requestCertificate(target: HttpsTarget, csrPem: string, options: CsrOptions): Promise<string> {
  const name = `node-csr-${options.node}-${randomBytes(4).toString('hex')}`;
  const body = {
    apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', metadata: { name },
    spec: {
      request: Buffer.from(csrPem, 'utf8').toString('base64'), signerName: 'kubernetes.io/kube-apiserver-client-kubelet',
      usages: ['digital signature', 'key encipherment', 'client auth'],
    },
  };
  const created = await callJson(target, 'POST', csrPath, body);
  refuseOnError(target, created.status, statusMessage(created), options.node);
  let certificate = signedCertificate(created.json);
  const deadline = options.nowMs() + joinLimits.csrWaitMs;
  while (certificate === null) {
    if (options.nowMs() >= deadline) {
      throw new JoinRefusedError(target.server, options.node, `the CSR ${name} was not signed within ${joinLimits.csrWaitMs} ms; approve it (\`kubectl certificate approve ${name}\`) and run the agent again`);
    }
    await options.sleep(joinLimits.csrPollIntervalMs);
    const current = await callJson(target, 'GET', `${csrPath}/${name}`);
    refuseOnError(target, current.status, statusMessage(current), options.node);
    certificate = signedCertificate(current.json);
  }
  return certificate;
}

function signedCertificate(csr: Record<string, unknown>): string | null {
  const status = csr['status'] as { certificate?: unknown; conditions?: { type?: string; message?: string }[] } | undefined;
  const denied = status?.conditions?.find((condition) => condition.type === 'Denied' || condition.type === 'Failed');
  if (denied !== undefined) throw new JoinProtocolError(`the CSR was ${denied.type}: ${denied.message ?? ''}`);
  return typeof status?.certificate === 'string' && status.certificate !== '' ? Buffer.from(status.certificate, 'base64').toString('utf8') : null;
}

function refuseOnError(target: HttpsTarget, status: number, message: string, node: string): void {
  if (status >= 200 && status < 300) return;
  if (status === 401 && 'token' in target.auth) throw new BootstrapTokenRefusedError(target.server, target.auth.token.split('.')[0] ?? '', message);
  if (status === 401 || status === 403) throw new JoinRefusedError(target.server, node, message);
  if (isTransientStatus(status)) throw new TransportError(`${status} ${message}`);
  throw new JoinProtocolError(`creating the CSR for node ${node} at ${target.server} failed: ${status} ${message}`);
}
