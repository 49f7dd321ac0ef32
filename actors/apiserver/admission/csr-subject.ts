/**
 * Which CertificateSigningRequests the API server approves by itself: Kubernetes' kubelet client
 * auto-approval (the csrapproving controller's `nodeclient` and `selfnodeclient` checks), as the
 * issue narrows a bootstrap token's power to "create a certificate signing request or exchange
 * itself for a node credential". Approved only when all hold:
 * - signerName `kubernetes.io/kube-apiserver-client-kubelet`;
 * - the subject is exactly CN=`system:node:<name>`, O=`system:nodes` (no other attribute, no SANs);
 * - usages ⊆ {digital signature, key encipherment, client auth}, with client auth;
 * - the requester is a bootstrapper (a new node, any name) or `system:node:<name>` renewing its own name.
 * Pure: the facts come in already read from the request (see parseCertificateRequest).
 */
import * as x509 from '@peculiar/x509';
import type { UserInfo } from '../types.js';

export const kubeletClientSigner = 'kubernetes.io/kube-apiserver-client-kubelet';
export const bootstrappersGroup = 'system:bootstrappers';
export const nodesGroup = 'system:nodes';
export const nodeUserPrefix = 'system:node:';
/** What a kubelet client certificate may be used for; kubelet asks for all three or the last two without key encipherment. */
export const kubeletClientUsages: readonly string[] = ['digital signature', 'key encipherment', 'client auth'];

/** What the CSR itself asks for, read from its PEM. */
export interface RequestedCertificate {
  /** Subject attributes in order, as [type, value] (`CN`, `O`, or an OID for unnamed types). */
  readonly subject: readonly (readonly [string, string])[];
  /** True when the CSR asks for subject alternative names (DNS, IP, email, URI). */
  readonly hasAlternativeNames: boolean;
}

export type NodeClientDecision =
  | { readonly approve: true; readonly nodeName: string }
  | { readonly approve: false; readonly reason: string };

/** The subject as `CN=a,O=b`, for messages. */
export function formatSubject(subject: RequestedCertificate['subject']): string {
  return subject.map(([type, value]) => `${type}=${value}`).join(',') || '<empty>';
}

/** The node name a CSR subject requests, or a reason it is not a node client subject. */
export function nodeSubjectName(requested: RequestedCertificate): { name: string } | { reason: string } {
  const wanted = `subject must be exactly CN=${nodeUserPrefix}<name>,O=${nodesGroup}; got ${formatSubject(requested.subject)}`;
  const common = requested.subject.filter(([type]) => type === 'CN').map(([, value]) => value);
  const organizations = requested.subject.filter(([type]) => type === 'O').map(([, value]) => value);
  if (requested.subject.length !== 2 || common.length !== 1 || organizations.length !== 1) return { reason: wanted };
  const cn = common[0] as string;
  if (organizations[0] !== nodesGroup || !cn.startsWith(nodeUserPrefix) || cn.length === nodeUserPrefix.length) return { reason: wanted };
  if (requested.hasAlternativeNames) return { reason: 'a node client certificate carries no subject alternative names (DNS, IP, email, URI)' };
  return { name: cn.slice(nodeUserPrefix.length) };
}

/** The node a user acts for (`system:node:<name>` in `system:nodes`), or null. */
function requesterNode(user: UserInfo): string | null {
  if (!user.groups.includes(nodesGroup) || !user.name.startsWith(nodeUserPrefix)) return null;
  const name = user.name.slice(nodeUserPrefix.length);
  return name === '' ? null : name;
}

/** Whether the API server signs this CSR now, and if not, why (worded for the requester). */
export function decideNodeClient(input: {
  readonly signerName: string;
  readonly usages: readonly string[];
  readonly requested: RequestedCertificate;
  readonly requester: UserInfo;
}): NodeClientDecision {
  const { signerName, usages, requested, requester } = input;
  if (signerName !== kubeletClientSigner) return { approve: false, reason: `signerName ${JSON.stringify(signerName)} is not auto-approved; only ${kubeletClientSigner} is` };
  const extra = usages.filter((usage) => !kubeletClientUsages.includes(usage));
  if (extra.length > 0) return { approve: false, reason: `usages ${JSON.stringify(extra)} are not allowed for ${kubeletClientSigner}; allowed: ${kubeletClientUsages.join(', ')}` };
  if (!usages.includes('client auth')) return { approve: false, reason: `usages must include "client auth" for ${kubeletClientSigner}` };
  const subject = nodeSubjectName(requested);
  if ('reason' in subject) return { approve: false, reason: subject.reason };
  if (requester.groups.includes(bootstrappersGroup)) return { approve: true, nodeName: subject.name };
  const node = requesterNode(requester);
  if (node === null) return { approve: false, reason: `only a bootstrapper (group ${bootstrappersGroup}) or the node itself gets a node client certificate signed automatically` };
  if (node !== subject.name) return { approve: false, reason: `node ${node} may renew only its own certificate (CN=${nodeUserPrefix}${node}), not CN=${nodeUserPrefix}${subject.name}` };
  return { approve: true, nodeName: subject.name };
}

/** Subject alternative name extension OID (RFC 5280 §4.2.1.6). */
const subjectAltNameOid = '2.5.29.17';

/** Reads a PEM CSR (throws on a malformed one); checks nothing. */
export function parseCertificateRequest(pem: string): { csr: x509.Pkcs10CertificateRequest; requested: RequestedCertificate } {
  const csr = new x509.Pkcs10CertificateRequest(pem);
  const subject: [string, string][] = [];
  for (const rdn of csr.subjectName.toJSON()) {
    for (const [type, values] of Object.entries(rdn)) for (const value of values) subject.push([type, value]);
  }
  return { csr, requested: { subject, hasAlternativeNames: csr.extensions.some((e) => e.type === subjectAltNameOid) } };
}
