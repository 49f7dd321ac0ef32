/**
 * The Mutating/ValidatingWebhookConfigurations, kept in memory by list + watch so that admission
 * reads no store per request (Kubernetes' informer). After the watch ends (store failover,
 * compaction) it re-lists after a pause. Admission waits a bounded time for the first list.
 */
import type { Logger } from '../../../bus/index.js';
import type { ObjectStorage } from '../http/objects-port.js';
import { findResource, type ResourceInfo } from '../registry/resources.js';
import { apiErrors } from '../status.js';
import type { KubeObject } from '../types.js';
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

class ConfigurationSet {
  readonly byName = new Map<string, KubeObject>();
  synced = false;
  private stopWatch: (() => void) | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;

  constructor(private readonly info: ResourceInfo, private readonly objects: ObjectStorage, private readonly logger: Logger, private readonly onSync: () => void) {}

  start(): void {
    void this.relist();
  }

  stop(): void {
    this.stopped = true;
    this.stopWatch?.();
    if (this.timer !== null) clearTimeout(this.timer);
  }

  private later(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.relist(), admissionLimits.webhookCacheRewatchDelayMs);
  }

  private async relist(): Promise<void> {
    if (this.stopped) return;
    try {
      const listed = await this.objects.list(this.info, null, {});
      this.byName.clear();
      for (const item of listed.items) this.byName.set(item.metadata.name ?? '', item);
      this.synced = true;
      this.onSync();
      const handle = await this.objects.watch(this.info, null, { resourceVersion: listed.resourceVersion }, {
        event: (e) => {
          const object = e.object as KubeObject;
          const name = object?.metadata?.name;
          if (typeof name !== 'string') return;
          if (e.type === 'ADDED' || e.type === 'MODIFIED') this.byName.set(name, object);
          else if (e.type === 'DELETED') this.byName.delete(name);
        },
        close: () => { this.stopWatch = null; this.later(); },
      });
      if (this.stopped) handle.stop();
      else this.stopWatch = () => handle.stop();
    } catch (error) {
      this.logger.warn('could not list webhook configurations; retrying', { resource: this.info.resource, error: (error as Error).message });
      this.later();
    }
  }
}

export class WebhookConfigurationCache {
  private readonly sets: Record<WebhookKind, ConfigurationSet>;
  private readonly waiters: (() => void)[] = [];

  constructor(objects: ObjectStorage, logger: Logger) {
    const onSync = (): void => { if (this.synced()) for (const wake of this.waiters.splice(0)) wake(); };
    this.sets = {
      mutating: new ConfigurationSet(infos.mutating, objects, logger, onSync),
      validating: new ConfigurationSet(infos.validating, objects, logger, onSync),
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
    return this.sets.mutating.synced && this.sets.validating.synced;
  }

  /** The webhooks of one kind, configurations in name order and webhooks in their listed order (as Kubernetes calls them). */
  async webhooks(kind: WebhookKind): Promise<ConfiguredWebhook[]> {
    if (!this.synced()) await this.waitForSync();
    const configurations = [...this.sets[kind].byName.values()].sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
    return configurations.flatMap((configuration) => {
      const webhooks = configuration['webhooks'];
      if (!Array.isArray(webhooks)) return [];
      return (webhooks as WebhookSpec[]).filter((w) => typeof w?.name === 'string').map((webhook) => ({ configuration: configuration.metadata.name ?? '', webhook }));
    });
  }

  private async waitForSync(): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let wake: () => void = () => undefined;
    const synced = new Promise<boolean>((resolve) => { wake = () => resolve(true); this.waiters.push(wake); });
    const timedOut = new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), admissionLimits.webhookCacheSyncWaitMs); });
    const ok = await Promise.race([synced, timedOut]);
    clearTimeout(timer);
    // A waiter that gave up leaves the list, so requests during a long outage do not pile up here.
    const index = this.waiters.indexOf(wake);
    if (index >= 0) this.waiters.splice(index, 1);
    if (!ok) throw apiErrors.unavailable('admission webhook configurations are not loaded yet; retry shortly');
  }
}
