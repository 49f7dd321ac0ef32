/**
 * What the stored cluster says about a node joining (issue 11 §2, server side):
 * - which bootstrap token joined a node: its newest approved CSR for `system:node:<name>` whose
 *   requester was `system:bootstrap:<id>` (renewals by the node itself do not change it);
 * - whether a live node holds a name: its Node exists and its Lease in `kube-node-lease` was renewed
 *   within its duration. A bootstrap token may not take over such a name (csr-signing.ts).
 * The decisions are pure functions; the reads are thin wrappers over the object storage.
 */
import type { ObjectStorage } from '../http/objects-port.js';
import { findResource, type ResourceInfo } from '../registry/resources.js';
import { nullWhenAbsent } from '../authn/node-identity-guard.js';
import { nodeLeaseNamespace } from '../authz/node-authorizer.js';
import type { KubeObject } from '../types.js';
import { nodeSubjectName, parseCertificateRequest } from './csr-subject.js';

export const csrJoinLimits = {
  /** CSRs read per page while looking for a node's joining token (first issue or re-join only). */
  csrPageSize: 500,
  /** Pages at most: 10,000 CSRs; a cluster that keeps more should garbage-collect them (Kubernetes keeps them an hour). */
  csrPagesMax: 20,
} as const;

const bootstrapUserPrefix = 'system:bootstrap:';

function resource(group: string, version: string, name: string): ResourceInfo {
  const info = findResource(group, version, name);
  if (info === undefined) throw new Error(`the ${name} resource is not registered`);
  return info;
}

type Obj = Record<string, unknown>;
const obj = (value: unknown): Obj => (typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Obj) : {});

function approved(csr: KubeObject): boolean {
  const conditions = obj(csr['status'])['conditions'];
  return Array.isArray(conditions) && conditions.some((c) => obj(c)['type'] === 'Approved' && obj(c)['status'] !== 'False');
}

/** The node a CSR certifies, or null when it is not a node client request. */
export function csrNodeName(csr: KubeObject): string | null {
  try {
    const pem = Buffer.from(String(obj(csr['spec'])['request'] ?? ''), 'base64').toString('utf8');
    const subject = nodeSubjectName(parseCertificateRequest(pem).requested);
    return 'name' in subject ? subject.name : null;
  } catch {
    return null;
  }
}

/**
 * Pure: among `csrs`, the bootstrap token id of the newest approved bootstrapper CSR for `node`
 * ('' when none), leaving out `excluded` (a revoked token: a re-join cannot have used it).
 */
export function joiningToken(csrs: readonly KubeObject[], node: string, options: { excluded?: string; nodeOf?: (csr: KubeObject) => string | null } = {}): string {
  const nodeOf = options.nodeOf ?? csrNodeName;
  let best: { at: string; id: string } | null = null;
  for (const csr of csrs) {
    const username = obj(csr['spec'])['username'];
    if (typeof username !== 'string' || !username.startsWith(bootstrapUserPrefix) || !approved(csr)) continue;
    if (options.excluded !== undefined && username === `${bootstrapUserPrefix}${options.excluded}`) continue;
    const at = csr.metadata.creationTimestamp ?? '';
    if (best !== null && at < best.at) continue;
    if (nodeOf(csr) !== node) continue;
    best = { at, id: username.slice(bootstrapUserPrefix.length) };
  }
  return best?.id ?? '';
}

export async function bootstrapTokenOfNode(objects: Pick<ObjectStorage, 'list'>, node: string, excluded?: string): Promise<string> {
  const info = resource('certificates.k8s.io', 'v1', 'certificatesigningrequests');
  const all: KubeObject[] = [];
  let next: string | undefined;
  for (let page = 0; page < csrJoinLimits.csrPagesMax; page++) {
    const result = await objects.list(info, null, { limit: csrJoinLimits.csrPageSize, ...(next !== undefined ? { continue: next } : {}) });
    all.push(...result.items);
    next = result.continue;
    if (next === undefined || next === '') break;
  }
  return joiningToken(all, node, excluded !== undefined ? { excluded } : {});
}

/** Pure: true when the Lease was renewed less than its duration ago. */
export function leaseLive(lease: KubeObject | null, nowMs: number): boolean {
  if (lease === null) return false;
  const spec = obj(lease['spec']);
  const renewed = Date.parse(String(spec['renewTime'] ?? ''));
  const duration = spec['leaseDurationSeconds'];
  if (!Number.isFinite(renewed) || typeof duration !== 'number') return false;
  return renewed + duration * 1000 > nowMs;
}

/** True when a Node `name` exists and its Lease is live: a running node holds the name. */
export async function liveNodeHolds(objects: Pick<ObjectStorage, 'get'>, name: string, nowMs: number): Promise<boolean> {
  const node = await objects.get(resource('', 'v1', 'nodes'), null, name).catch(nullWhenAbsent);
  if (node === null) return false;
  const lease = await objects.get(resource('coordination.k8s.io', 'v1', 'leases'), nodeLeaseNamespace, name).catch(nullWhenAbsent);
  return leaseLive(lease, nowMs);
}
