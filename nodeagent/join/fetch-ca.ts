/**
 * Fetches the cluster CA without trusting anything, then trusts it only if it matches the pin.
 *
 * Decision: the CA comes from the API server's TLS handshake (the chain it presents: serving
 * certificate, then the CA). kubeadm reads it from the `kube-public/cluster-info` ConfigMap
 * instead, readable anonymously; kubus has no anonymous access, and the handshake needs none. Trust
 * comes from the pin either way: the chain is read with verification off, the CA whose
 * SubjectPublicKeyInfo hashes to the pin is taken, and the serving certificate must be issued and
 * signed by it, so a man in the middle can present neither another CA (hash) nor the real CA with
 * his own serving certificate (signature).
 */
import { connect, type DetailedPeerCertificate } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { caCertHash } from './ca-pin.js';
import { CaHashMismatchError, CaNotPresentedError } from './errors.js';
import { TransportError } from './https-client.js';
import { joinLimits } from './limits.js';

/** The DER certificates of the chain the server presented, leaf first (no duplicates). */
export function presentedChain(serverUrl: string): Promise<Buffer[]> {
  const url = new URL(serverUrl);
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: url.hostname, port: Number(url.port === '' ? 443 : url.port), rejectUnauthorized: false,
      // SNI only for names (an IP as servername is refused by the TLS spec).
      ...(/^[\d.]+$|:/.test(url.hostname) ? {} : { servername: url.hostname }),
      timeout: joinLimits.handshakeTimeoutMs,
    });
    socket.once('secureConnect', () => {
      const chain: Buffer[] = [];
      let current: DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
      while (current !== undefined && current.raw !== undefined && !chain.some((seen) => seen.equals(current?.raw as Buffer))) {
        chain.push(current.raw);
        current = current.issuerCertificate;
      }
      socket.destroy();
      resolve(chain);
    });
    socket.once('timeout', () => socket.destroy(new Error(`no TLS handshake within ${joinLimits.handshakeTimeoutMs} ms`)));
    // Unreachable (refused, reset, timed out): the join retries it (retry.ts).
    socket.once('error', (error: Error & { code?: string }) => reject(new TransportError(error.message, error.code)));
  });
}

/** Picks the pinned CA from `chain` (leaf first) and checks it issued the leaf; returns its PEM. */
export function pinnedCaFromChain(server: string, chain: readonly Buffer[], pin: string): string {
  const [leafDer, ...rest] = chain;
  if (leafDer === undefined) throw new CaNotPresentedError(server, 'no certificate at all');
  if (rest.length === 0) {
    throw new CaNotPresentedError(server, 'it sent only its serving certificate; a kubus member sends its CA too (upgrade the control plane)');
  }
  const ca = rest.find((der) => caCertHash(der) === pin);
  if (ca === undefined) throw new CaHashMismatchError(server, pin, caCertHash(rest[rest.length - 1] as Buffer));
  const caCert = new X509Certificate(ca);
  const leaf = new X509Certificate(leafDer);
  if (!leaf.checkIssued(caCert) || !leaf.verify(caCert.publicKey)) {
    throw new CaNotPresentedError(server, 'its serving certificate is not signed by the pinned CA');
  }
  return caCert.toString();
}

export async function fetchPinnedCa(serverUrl: string, pin: string): Promise<string> {
  return pinnedCaFromChain(serverUrl, await presentedChain(serverUrl), pin);
}
