/**
 * A Kubernetes Event about a pod, written by the node (`events` create is allowed to nodes).
 * Best effort: a failure is logged, never thrown, since an Event only informs.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { Logger } from '../../bus/logger.js';
import type { ApiClient } from '../../actors/controllers/runtime/types.js';
import { coreResources } from '../env/index.js';

export async function recordPodEvent(options: {
  readonly api: ApiClient;
  readonly pod: Pod;
  readonly nodeName: string;
  readonly now: Date;
  readonly type: 'Normal' | 'Warning';
  readonly reason: string;
  readonly message: string;
  readonly logger: Logger;
}): Promise<void> {
  const { pod } = options;
  const namespace = pod.metadata?.namespace ?? 'default';
  const time = options.now.toISOString().replace(/\.\d+Z$/, 'Z');
  const event = {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: `${pod.metadata?.name ?? 'pod'}.${options.now.getTime().toString(16)}`, namespace },
    involvedObject: { apiVersion: 'v1', kind: 'Pod', name: pod.metadata?.name, namespace, uid: pod.metadata?.uid },
    reason: options.reason,
    message: options.message,
    type: options.type,
    source: { component: 'kubelet', host: options.nodeName },
    firstTimestamp: time,
    lastTimestamp: time,
    count: 1,
  };
  try {
    await options.api.create(coreResources.events, namespace, event);
  } catch (error) {
    options.logger.debug('could not record an Event', { reason: options.reason, error: (error as Error).message });
  }
}
