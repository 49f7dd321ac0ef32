/**
 * One informer per resource for every loop of a component (the scheduler's, or all the controller
 * manager's): a resource asked for by three controllers is listed and watched once.
 */
import type { Clock } from '../../../bus/clock.js';
import type { Logger } from '../../../bus/logger.js';
import { KubusError, type ErrorFields } from '../../../bus/errors.js';
import type { KubeObject } from '../../objects/meta.js';
import { SharedInformer } from './informer.js';
import type { ApiClient, Informer, InformerFactory, ResourceRef } from './types.js';

export class InformerSyncTimeoutError extends KubusError {
  override readonly name = 'InformerSyncTimeoutError';
  readonly code = 'informerSyncTimeout';
  constructor(readonly resources: readonly string[], readonly timeoutMs: number) {
    super(`informers not synced within ${timeoutMs} ms: ${resources.join(', ')}`);
  }
  override fields(): ErrorFields {
    return { resources: this.resources, timeoutMs: this.timeoutMs };
  }
}

export class SharedInformerFactory implements InformerFactory {
  private readonly informers = new Map<string, SharedInformer>();
  private started = false;

  constructor(private readonly options: { readonly api: ApiClient; readonly clock: Clock; readonly logger: Logger; readonly objectsMax?: number }) {}

  informer<T extends KubeObject = KubeObject>(resource: ResourceRef): Informer<T> {
    const id = `${resource.group}/${resource.resource}`;
    let informer = this.informers.get(id);
    if (informer === undefined) {
      informer = new SharedInformer({
        api: this.options.api, resource, clock: this.options.clock, logger: this.options.logger,
        ...(this.options.objectsMax !== undefined ? { objectsMax: this.options.objectsMax } : {}),
      });
      this.informers.set(id, informer);
      // Asked for after start (a loop that subscribes late): starts at once.
      if (this.started) informer.start();
    }
    return informer as unknown as Informer<T>;
  }

  start(): void {
    this.started = true;
    for (const informer of this.informers.values()) informer.start();
  }

  stop(): void {
    this.started = false;
    for (const informer of this.informers.values()) informer.stop();
  }

  async waitForSync(timeoutMs: number): Promise<void> {
    const pending = [...this.informers.values()].filter((informer) => !informer.hasSynced());
    if (pending.length === 0) return;
    let timer = -1;
    const deadline = new Promise<never>((_, reject) => {
      timer = this.options.clock.setTimeout(() => {
        const names = pending.filter((i) => !i.hasSynced()).map((i) => `${i.resource.resource}${i.resource.group === '' ? '' : `.${i.resource.group}`}`);
        reject(new InformerSyncTimeoutError(names, timeoutMs));
      }, timeoutMs);
    });
    try {
      await Promise.race([Promise.all(pending.map((informer) => informer.whenSynced())), deadline]);
    } finally {
      this.options.clock.clearTimeout(timer);
    }
  }
}
