/**
 * `<dir>/node.json`: what the agent must know about its Node with the control plane unreachable
 * (after a restart or a host reboot): the Node's uid and its pod CIDR, so the runtime hands out the
 * same pod addresses offline. Written to a temporary file and renamed (never half a file).
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KubusError } from '../../bus/errors.js';

export interface NodeCheckpoint {
  readonly nodeName: string;
  readonly uid: string | null;
  readonly podCidr: string | null;
}

export class NodeCheckpointError extends KubusError {
  override readonly name = 'NodeCheckpointError';
  readonly code = 'nodeCheckpoint';
  constructor(readonly path: string, detail: string) {
    super(`${path}: ${detail}; remove the file to register afresh (pods keep their addresses only once the Node has its pod CIDR again)`);
  }
}

export const nodeCheckpointPath = (dir: string): string => join(dir, 'node.json');

/** The checkpoint, or null when there is none or it names another node (a reused --dir). */
export function readNodeCheckpoint(dir: string, nodeName: string): NodeCheckpoint | null {
  const path = nodeCheckpointPath(dir);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return null;
  }
  let value: Partial<NodeCheckpoint>;
  try {
    value = JSON.parse(text) as Partial<NodeCheckpoint>;
  } catch (error) {
    throw new NodeCheckpointError(path, `not valid JSON (${(error as Error).message})`);
  }
  if (value.nodeName !== nodeName) return null;
  return { nodeName, uid: typeof value.uid === 'string' ? value.uid : null, podCidr: typeof value.podCidr === 'string' ? value.podCidr : null };
}

export function writeNodeCheckpoint(dir: string, checkpoint: NodeCheckpoint): void {
  const path = nodeCheckpointPath(dir);
  writeFileSync(`${path}.tmp`, `${JSON.stringify(checkpoint)}\n`, { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
}
