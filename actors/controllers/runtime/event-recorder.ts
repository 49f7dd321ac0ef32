/**
 * core/v1 Events about objects, as client-go's recorder writes them: the first occurrence of an
 * (object, type, reason, message) is created; repeats bump `count` and `lastTimestamp` of the same
 * Event (a bounded LRU of what was written). Best effort: failures are logged, never thrown, and
 * writes beyond `eventsInFlightMax` are dropped and counted.
 */
import type { Logger } from '../../../bus/logger.js';
import type { KubeObject } from '../../objects/meta.js';
import { isNotFound } from './api-errors.js';
import { refs } from './resource-refs.js';
import { runtimeLimits } from './limits.js';
import type { ApiClient, EventRecorder } from './types.js';

export interface EventRecorderOptions {
  readonly api: ApiClient;
  /** `source.component` and `reportingComponent`: `kube-controller-manager`, `default-scheduler`, ... */
  readonly component: string;
  /** `reportingInstance` and `source.host`: this process's identity. */
  readonly instance: string;
  /** Wall time: Event timestamps are read by people next to other systems' clocks. */
  readonly wallClock: () => Date;
  readonly logger: Logger;
  readonly cacheMax?: number;
  readonly inFlightMax?: number;
}

interface Written {
  readonly namespace: string;
  readonly name: string;
  count: number;
}

export class ApiEventRecorder implements EventRecorder {
  private readonly written = new Map<string, Written>();
  private inFlight = 0;
  private sequence = 0;
  /** Events dropped because too many were in flight (reported in the log as they happen). */
  dropped = 0;

  constructor(private readonly options: EventRecorderOptions) {}

  record(object: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): void {
    try {
      if (this.inFlight >= (this.options.inFlightMax ?? runtimeLimits.eventsInFlightMax)) {
        this.dropped++;
        this.options.logger.warn('event dropped: too many in flight', { reason, object: object.metadata?.name, dropped: this.dropped });
        return;
      }
      this.inFlight++;
      void this.write(object, type, reason, message).finally(() => this.inFlight--);
    } catch (error) {
      this.options.logger.warn('event not recorded', { reason, error });
    }
  }

  /** Resolves when no write is in flight (tests). */
  async flush(): Promise<void> {
    while (this.inFlight > 0) await new Promise((resolve) => setTimeout(resolve, 5));
  }

  private async write(object: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    const meta = object.metadata ?? {};
    const namespace = meta.namespace !== undefined && meta.namespace !== '' ? meta.namespace : 'default';
    const cacheKey = JSON.stringify([meta.uid ?? '', namespace, meta.name ?? '', object.kind ?? '', type, reason, message]);
    const now = this.options.wallClock().toISOString().replace(/\.\d+Z$/, 'Z');
    const previous = this.written.get(cacheKey);
    try {
      if (previous !== undefined) {
        this.touch(cacheKey, previous);
        previous.count++;
        try {
          await this.options.api.patch(refs.events, previous.namespace, previous.name, { count: previous.count, lastTimestamp: now }, 'merge');
          return;
        } catch (error) {
          if (!isNotFound(error)) throw error;
          this.written.delete(cacheKey); // the Event expired or was deleted: start a new one
        }
      }
      // client-go names an Event <object>.<hex time>; a sequence suffix keeps two in the same millisecond apart.
      const name = `${meta.name ?? 'unknown'}.${this.options.wallClock().getTime().toString(16)}${(this.sequence++ % 0x10000).toString(16).padStart(4, '0')}`;
      await this.options.api.create(refs.events, namespace, {
        apiVersion: 'v1', kind: 'Event',
        metadata: { name, namespace },
        involvedObject: {
          apiVersion: object.apiVersion, kind: object.kind, name: meta.name, namespace: meta.namespace, uid: meta.uid, resourceVersion: meta.resourceVersion,
        },
        reason, message, type,
        source: { component: this.options.component },
        count: 1, firstTimestamp: now, lastTimestamp: now,
        reportingComponent: this.options.component, reportingInstance: this.options.instance,
      });
      this.touch(cacheKey, { namespace, name, count: 1 });
    } catch (error) {
      this.options.logger.warn('event not recorded', { reason, object: meta.name, namespace, error });
    }
  }

  /** LRU: most recent last; the oldest goes beyond the bound. */
  private touch(key: string, entry: Written): void {
    this.written.delete(key);
    this.written.set(key, entry);
    if (this.written.size > (this.options.cacheMax ?? runtimeLimits.eventCacheMax)) {
      const oldest = this.written.keys().next().value;
      if (oldest !== undefined) this.written.delete(oldest);
    }
  }
}
