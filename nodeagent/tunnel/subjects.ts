/**
 * The tunnel's subjects, under the node's own `node.<N>.>` (the only thing an agent may receive):
 * opens to `node.<N>.tunnel`, frames of streams it accepted on `node.<N>.tunnel.<id>`, frames of
 * streams it dialled on `node.<N>.tunnel.dialed.<id>` (a separate endpoint, so the dialer and the
 * server each have one subscription and never see each other's frames).
 */
import { subjects } from '../../bus/subjects.js';

export function tunnelSubject(cluster: string, node: string): string {
  // nodeAll is `kubus.<c>.node.<N>.>`: the tunnel is one token below the node.
  return `${subjects(cluster).nodeAll(node).slice(0, -2)}.tunnel`;
}

export function tunnelDialerSubject(cluster: string, node: string): string {
  return `${tunnelSubject(cluster, node)}.dialed`;
}
