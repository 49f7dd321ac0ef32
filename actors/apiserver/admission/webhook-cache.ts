/**
 * The Mutating/ValidatingWebhookConfigurations, kept in memory by list + watch
 * (registry/watched-collection.ts) so that admission reads no store per request, as Kubernetes'
 * informer does. Admission waits a bounded time for the first list.
 */
import type { Clock, Logger, TimerId } from '../../../bus/index.js';
import { WatchedCollection, type CollectionSource } from '../registry/watched-collection.js';
import { findResource, type ResourceInfo } from '../registry/resources.js';
import { apiErrors } from '../status.js';
import { admissionLimits } from './limits.js';
import type { WebhookSpec } from './webhook-matching.js';

export type WebhookKind = 'mutating' | 'validating';

const infos: Readonly<Record<WebhookKind, ResourceInfo>> = {
  mutating: findResource('admissionregistration.k8s.io', 'v1', 'mutatingwebhookconfigurations') as ResourceInfo,
  validating: findResource('admissionregistration.k8s.io', 'v1', 'validatingwebhookconfigurations') as ResourceInfo,
};

/** A webhook with the configuration it belongs to (for messages and ordering). */
export interface ConfiguredWebhook {
  readonly configuration: string;
  readonly webhook: WebhookSpec;
}

export class WebhookConfigurationCache {
  private readonly sets: Record<WebhookKind, WatchedCollection>;
  private readonly waiters: (() => void)[] = [];

  constructor(objects: CollectionSource, logger: Logger, private readonly clock: Clock) {
    const onChange = (): void => { if (this.synced()) for (const wake of this.waiters.splice(0)) wake(); };
    this.sets = {
      mutating: new WatchedCollection(infos.mutating, { source: objects, clock, logger, onChange }),
      validating: new WatchedCollection(infos.validating, { source: objects, clock, logger, onChange }),
    };
  }

  start(): void {
    this.sets.mutating.start();
    this.sets.validating.start();
  }

  stop(): void {
    this.sets.mutating.stop();
    this.sets.validating.stop();
  }

  private synced(): boolean {
    return this.sets.mutating.hasSynced && this.sets.validating.hasSynced;
  }

  /** The webhooks of one kind, configurations in name order and webhooks in their listed order (as Kubernetes calls them). */
  async webhooks(kind: WebhookKind): Promise<ConfiguredWebhook[]> {
    if (!this.synced()) await this.waitForSync();
    const configurations = [...this.sets[kind].values()].sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
    return configurations.flatMap((configuration) => {
      const webhooks = configuration['webhooks'];
      if (!Array.isArray(webhooks)) return [];
      return (webhooks as WebhookSpec[]).filter((w) => typeof w?.name === 'string').map((webhook) => ({ configuration: configuration.metadata.name ?? '', webhook }));
    });
  }

  private async waitForSync(): Promise<void> {
    let timer: TimerId | undefined;
    let wake: () => void = () => undefined;
    const synced = new Promise<boolean>((resolve) => { wake = () => resolve(true); this.waiters.push(wake); });
    const timedOut = new Promise<boolean>((resolve) => { timer = this.clock.setTimeout(() => resolve(false), admissionLimits.webhookCacheSyncWaitMs); });
    const ok = await Promise.race([synced, timedOut]);
    if (timer !== undefined) this.clock.clearTimeout(timer);
    // A waiter that gave up leaves the list, so requests during a long outage do not pile up here.
    const index = this.waiters.indexOf(wake);
    if (index >= 0) this.waiters.splice(index, 1);
    if (!ok) throw apiErrors.unavailable('admission webhook configurations are not loaded yet; retry shortly');
  }
}
