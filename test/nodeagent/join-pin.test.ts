/**
 * The CA pin (kubeadm's definition: SHA-256 of the CA's DER SubjectPublicKeyInfo), its parsing,
 * the choice of the pinned CA from a presented chain (a wrong CA, a leaf alone, a leaf signed by
 * another CA are refused with what to do), and when renewals fall.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createCa, issueServingCert } from '../../actors/apiserver/pki.js';
import {
  CaHashFormatError, CaHashMismatchError, CaNotPresentedError, caCertHash, parseCaHash, pinnedCaFromChain, renewAtMs, retryDelayMs, joinLimits,
  credentialsRenewAtMs, credentialsValidAt, parseNodeCredentials,
} from '../../nodeagent/join/index.js';

const der = (pem: string): Buffer => new X509Certificate(pem).raw;

describe('the CA pin', () => {
  it('is sha256 of the DER SubjectPublicKeyInfo (what `openssl x509 -pubkey | openssl pkey -pubin -outform der | openssl dgst -sha256` prints)', async () => {
    const ca = await createCa('pin-test');
    const spki = new X509Certificate(ca.certPem).publicKey.export({ type: 'spki', format: 'der' });
    expect(caCertHash(ca.certPem)).toBe(`sha256:${createHash('sha256').update(spki).digest('hex')}`);
    expect(caCertHash(der(ca.certPem))).toBe(caCertHash(ca.certPem));
  });

  it('parses pins case- and space-insensitively and refuses anything else, saying the form', () => {
    const hex = 'ab'.repeat(32);
    expect(parseCaHash(` SHA256:${hex.toUpperCase()} `)).toBe(`sha256:${hex}`);
    for (const bad of [hex, `sha1:${hex}`, `sha256:${hex.slice(2)}`, `sha256:${'zz'.repeat(32)}`]) {
      expect(() => parseCaHash(bad)).toThrow(CaHashFormatError);
    }
    expect(() => parseCaHash('nope')).toThrow(/sha256:<64 hex digits>/);
  });
});

describe('the pinned CA from the presented chain', () => {
  it('takes the CA matching the pin when it signed the serving certificate', async () => {
    const ca = await createCa('chain-ca');
    const serving = await issueServingCert(ca, { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
    const pem = pinnedCaFromChain('https://s', [der(serving.certPem), der(ca.certPem)], caCertHash(ca.certPem));
    expect(caCertHash(pem)).toBe(caCertHash(ca.certPem));
  });

  it('refuses another CA, naming the expected and actual hash', async () => {
    const ca = await createCa('real');
    const serving = await issueServingCert(ca, { dnsNames: ['localhost'], ipAddresses: [] });
    const pin = `sha256:${'0'.repeat(64)}`;
    const error = (() => {
      try {
        pinnedCaFromChain('https://s', [der(serving.certPem), der(ca.certPem)], pin);
      } catch (caught) {
        return caught;
      }
      return null;
    })();
    expect(error).toBeInstanceOf(CaHashMismatchError);
    expect((error as CaHashMismatchError).actual).toBe(caCertHash(ca.certPem));
    expect((error as Error).message).toContain(pin);
  });

  it('refuses a leaf alone, and the pinned CA next to a leaf it did not sign (a man in the middle)', async () => {
    const ca = await createCa('real');
    const attacker = await createCa('attacker');
    const forged = await issueServingCert(attacker, { dnsNames: ['localhost'], ipAddresses: [] });
    expect(() => pinnedCaFromChain('https://s', [der(forged.certPem)], caCertHash(ca.certPem))).toThrow(CaNotPresentedError);
    expect(() => pinnedCaFromChain('https://s', [der(forged.certPem), der(ca.certPem)], caCertHash(ca.certPem))).toThrow(/not signed by the pinned CA/);
  });
});

describe('renewal timing', () => {
  it('falls at the fraction of the lifetime, never before issue', () => {
    expect(renewAtMs(1_000, 11_000, 0.8)).toBe(9_000);
    expect(renewAtMs(1_000, 500, 0.8)).toBe(1_000);
  });

  it('renews credentials at 2/3 of the earlier expiry of NATS user and API token', () => {
    const body = {
      nats: { servers: ['nats://127.0.0.1:4222'], cluster: 'kubus', user: 'node-n1', jwt: 'j', seed: 's', inboxPrefix: '_INBOX.node-n1', expiresAt: new Date(90_000).toISOString() },
      apiToken: { token: 't', expiresAt: new Date(60_000).toISOString() },
    };
    const credentials = parseNodeCredentials(body, 0);
    expect(credentialsRenewAtMs(credentials)).toBe(40_000);
    expect(credentialsValidAt(credentials, 59_999)).toBe(true);
    expect(credentialsValidAt(credentials, 60_000)).toBe(false);
    expect(() => parseNodeCredentials({ nats: {} }, 0)).toThrow(/lacks fields/);
  });

  it('retries with doubling delays, capped', () => {
    expect([0, 1, 2, 3, 10].map(retryDelayMs)).toEqual([1_000, 2_000, 4_000, 8_000, joinLimits.retryDelayMaxMs]);
  });
});
