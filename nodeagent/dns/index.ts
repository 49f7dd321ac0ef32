/**
 * The node's cluster DNS server (issue 12 §3): `<svc>.<ns>.svc.<domain>`, pods, SRV, forwarding.
 */
import type { AgentContext, NodeServicesConfig } from '../agent-context.js';
import type { ServiceCatalog } from '../services/catalog.js';

/** STUB (issue 12, H4 replaces). */
export async function startClusterDns(
  _ctx: Pick<AgentContext, 'nodeName' | 'clock' | 'logger'>,
  _deps: { readonly catalog: ServiceCatalog; readonly config: NodeServicesConfig },
): Promise<{ readonly address: string; readonly port: number; stop(): Promise<void> } | null> {
  return null;
}
