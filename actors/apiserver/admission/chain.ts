/**
 * The admission chain, in Kubernetes' order: NamespaceLifecycle → defaulting + LimitRanger →
 * NodeRestriction → mutating webhooks → (defaulting again, as the decoder does after a patch) and
 * validation → ResourceQuota → validating webhooks. Dry-run requests run all of it; the store then
 * persists nothing. The plugins are pure functions; this file only gathers what they read.
 *
 * Decision: the kind's own stages (defaulting, LimitRanger, validation, quota) run for the main
 * resource and its `status` only. The other subresources carry objects of another kind (a
 * policy/v1 Eviction, a Binding, a Scale): pod defaulting or validation would reject or mangle
 * them. NamespaceLifecycle, NodeRestriction and the webhooks see every request, as in Kubernetes.
 */
import { SystemClock, type Clock, type Logger } from '../../../bus/index.js';
import { admit as defaultAndValidate, runsBuiltInStages, type Admission, type AdmissionRequest } from '../http/admission.js';
import type { ObjectStorage } from '../http/objects-port.js';
import { applyDefaults } from '../defaults.js';
import { findResource, type ResourceInfo } from '../registry/resources.js';
import { objectKey } from '../registry/storage-codec.js';
import { ApiError, apiErrors } from '../status.js';
import type { KubeObject } from '../types.js';
import { CallSlots } from './call-slots.js';
import { admissionLimits } from './limits.js';
import { applyLimitRanges } from './limit-ranger.js';
import { admitNamespaceLifecycle, isTerminating } from './namespace-lifecycle.js';
import { admitNodeRestriction } from './node-restriction.js';
import { admitPodPlugins, finishPodCreate } from './pod-admission.js';
import { checkQuotas, quotaAfterCreate, trackedNames } from './resource-quota.js';
import { WebhookConfigurationCache } from './webhook-cache.js';
import type { callWebhook } from './webhook-client.js';
import { runMutatingWebhooks, runValidatingWebhooks, type WebhookDeps } from './webhooks.js';



const core = (resource: string): ResourceInfo => findResource('', 'v1', resource) as ResourceInfo;

export interface AdmissionChainOptions {
  readonly objects: ObjectStorage;
  readonly logger: Logger;
  /** Timers of the webhook configuration cache's resumes; default: the system clock. */
  readonly clock?: Clock;
  /** The HTTPS webhook call; tests may answer without a server. */
  readonly call?: typeof callWebhook;
  /**
   * Namespaces as this member's watch sees them (undefined: unknown, or the watch is down): an
   * Active one answers NamespaceLifecycle without a read. The create's txn compares the
   * namespace's modRevision, so a stale Active answer costs a retry, never content in a
   * terminating namespace; anything else is read as before.
   */
  readonly namespaces?: (name: string) => KubeObject | undefined;
}

/**
 * Admission reads the member's own applied state (resourceVersion 0), as Kubernetes' admission
 * plugins read their informer caches: no quorum round per write, and within the write's 2 s
 * budget when quorum is lost (the write itself is then refused with 503 "not applied").
 */
const localRead = { resourceVersion: '0' } as const;

export class AdmissionChain implements Admission {
  private readonly cache: WebhookConfigurationCache;
  private readonly slots = new CallSlots(admissionLimits.webhookCallsInFlightMax, admissionLimits.webhookCallsQueuedMax);

  constructor(private readonly options: AdmissionChainOptions) {
    this.cache = new WebhookConfigurationCache(options.objects, options.logger.child({ component: 'admission' }), options.clock ?? new SystemClock());
  }

  /** Starts watching webhook configurations. */
  start(): this {
    this.cache.start();
    return this;
  }

  stop(): void {
    this.cache.stop();
  }

  async admit(request: AdmissionRequest): Promise<KubeObject | null> {
    const namespaces = new Map<string, Promise<KubeObject | null>>();
    const lookup = (name: string): Promise<KubeObject | null> => {
      let found = namespaces.get(name);
      if (found === undefined) namespaces.set(name, found = this.namespace(name));
      return found;
    };
    const { info } = request;
    const builtIn = runsBuiltInStages(request.subresource);
    await admitNamespaceLifecycle(request, lookup);
    let object = request.object === null || !builtIn ? request.object : applyDefaults(info, request.object);
    if (object !== null && request.operation === 'CREATE' && request.subresource === null && isPods(info) && request.namespace !== null) {
      object = applyLimitRanges(object, await this.policies(core('limitranges'), request.namespace));
    }
    if (object !== null && builtIn) object = await admitPodPlugins({ objects: this.options.objects }, request, object);
    admitNodeRestriction({ ...request, object });
    const deps: WebhookDeps = {
      slots: this.slots, logger: this.options.logger,
      namespaceLabels: async (r) => (r.info.namespaced && r.namespace !== null ? (await lookup(r.namespace))?.metadata.labels ?? {} : null),
      ...(this.options.call !== undefined ? { call: this.options.call } : {}),
    };
    object = await runMutatingWebhooks(deps, await this.cache.webhooks('mutating'), { ...request, object });
    object = finishPodCreate(request, object);
    if (object !== null && builtIn) object = defaultAndValidate(info, object, request.old);
    if (object !== null && request.operation === 'CREATE' && request.subresource === null && info.namespaced && request.namespace !== null) {
      await this.checkQuota(info, request.namespace, object, request.guard);
    }
    await runValidatingWebhooks(deps, await this.cache.webhooks('validating'), { ...request, object });
    return object;
  }

  private async namespace(name: string): Promise<KubeObject | null> {
    const seen = this.options.namespaces?.(name);
    if (seen !== undefined && !isTerminating(seen)) return seen;
    try {
      return await this.options.objects.get(core('namespaces'), null, name, localRead);
    } catch (error) {
      if (error instanceof ApiError && error.httpStatus === 404) return null;
      throw error;
    }
  }

  private async policies(info: ResourceInfo, namespace: string): Promise<KubeObject[]> {
    return (await this.options.objects.list(info, namespace, { ...localRead, limit: admissionLimits.policyObjectsMax })).items;
  }

  private async checkQuota(info: ResourceInfo, namespace: string, object: KubeObject, guard: AdmissionRequest['guard']): Promise<void> {
    const quotas = await this.policies(core('resourcequotas'), namespace);
    if (trackedNames(info, quotas).length === 0) return;
    const existing = await this.options.objects.list(info, namespace, { ...localRead, limit: admissionLimits.quotaUsageObjectsMax });
    if (existing.continue !== undefined && existing.continue !== '') {
      throw apiErrors.forbidden(`${info.resource} "${object.metadata.name ?? ''}" is forbidden: quota usage cannot be computed: namespace ${namespace} holds more than ${admissionLimits.quotaUsageObjectsMax} ${info.resource}`);
    }
    const usedAfter = checkQuotas(info, object, quotas, existing.items);
    for (const quota of quotas) {
      const next = quotaAfterCreate(info, quota, usedAfter);
      const revision = Number(quota.metadata.resourceVersion);
      if (next !== null && Number.isSafeInteger(revision)) {
        guard?.({ key: objectKey(core('resourcequotas'), namespace, quota.metadata.name ?? ''), modRevision: revision, next });
      }
    }
  }
}

const isPods = (info: ResourceInfo): boolean => info.group === '' && info.resource === 'pods';
