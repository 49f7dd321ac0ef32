/**
 * A cloud controller on a stub cluster, step by step: the FakeApi of the runtime tests with
 * Kubernetes' finalizer semantics added (a delete of an object with finalizers only marks it; the
 * update removing the last finalizer of a marked object deletes it; a status write changes only
 * the status, a main write never the status), real shared informers, the fake cloud, a
 * simulated clock, and a work queue whose keys the test drains (`run`) and whose delayed keys
 * fall due as the test advances time. `afterEach` checks run after every reconcile.
 */
import type { KubeObject } from '../../actors/objects/meta.js';
import { SimulatedClock, createJsonLogger } from '../../bus/index.js';
import { SharedInformerFactory, type ControllerContext, type ControllerSpec, type DeleteOptions, type ResourceRef, type WorkQueue, type WriteOptions } from '../../actors/controllers/runtime/index.js';
import { FakeApi, settle } from '../controllers/runtime/fake-api.js';
import { FakeCloud, fakeProvider } from './fake-cloud.js';
import type { CloudProvider } from '../../actors/cloud/index.js';

export class FinalizingFakeApi extends FakeApi {
  override async update<T = KubeObject>(resource: ResourceRef, namespace: string | undefined, name: string, body: unknown, options?: WriteOptions): Promise<T> {
    const current = await this.get<KubeObject>(resource, namespace, name).catch(() => undefined);
    let next = body as KubeObject;
    if (current !== undefined) {
      const { status: _ignored, ...rest } = next as KubeObject & { status?: unknown };
      next = options?.subresource === 'status'
        ? { ...current, status: (body as { status?: unknown }).status, metadata: { ...current.metadata, resourceVersion: next.metadata.resourceVersion } } as KubeObject
        : { ...rest, ...('status' in current ? { status: (current as { status?: unknown }).status } : {}) } as KubeObject;
    }
    const written = await super.update<KubeObject>(resource, namespace, name, next);
    if (written.metadata.deletionTimestamp !== undefined && (written.metadata.finalizers ?? []).length === 0) await super.delete(resource, namespace, name);
    return written as T;
  }

  override async delete(resource: ResourceRef, namespace: string | undefined, name: string, options?: DeleteOptions): Promise<void> {
    const current = await this.get<KubeObject>(resource, namespace, name);
    if (options?.preconditions?.uid !== undefined && options.preconditions.uid !== current.metadata.uid) throw new Error('precondition failed');
    if ((current.metadata.finalizers ?? []).length === 0) return super.delete(resource, namespace, name);
    if (current.metadata.deletionTimestamp !== undefined) return;
    const { resourceVersion: _rv, ...metadata } = current.metadata;
    await super.update(resource, namespace, name, { ...current, metadata: { ...metadata, deletionTimestamp: '2026-01-01T00:00:00Z' } });
  }
}

/** A work queue the test drains by hand; `addRateLimited` retries after 10 ms of simulated time. */
class StepQueue implements WorkQueue {
  readonly ready = new Set<string>();
  private readonly requeues = new Map<string, number>();
  constructor(private readonly clock: SimulatedClock) {}
  add(key: string): void { this.ready.add(key); }
  addAfter(key: string, delayMs: number): void { this.clock.setTimeout(() => this.ready.add(key), delayMs); }
  addRateLimited(key: string): void {
    this.requeues.set(key, (this.requeues.get(key) ?? 0) + 1);
    this.addAfter(key, 10);
  }
  forget(key: string): void { this.requeues.delete(key); }
  numRequeues(key: string): number { return this.requeues.get(key) ?? 0; }
  get length(): number { return this.ready.size; }
}

export interface RecordedEvent {
  readonly object: string;
  readonly type: string;
  readonly reason: string;
  readonly message: string;
}

export interface HarnessOptions {
  readonly seed?: number;
  readonly options?: Readonly<Record<string, string | number | boolean | undefined>>;
  readonly provider?: (cloud: FakeCloud) => CloudProvider;
}

export class CloudControllerHarness {
  readonly clock = new SimulatedClock();
  readonly api = new FinalizingFakeApi();
  readonly cloud: FakeCloud;
  readonly provider: CloudProvider;
  readonly events: RecordedEvent[] = [];
  /** Errors reconciles threw (the runtime would retry them). */
  readonly thrown: unknown[] = [];
  readonly afterEach: (() => void)[] = [];
  private readonly factory: SharedInformerFactory;
  private readonly queue: StepQueue;
  private readonly ctx: ControllerContext;

  constructor(private readonly spec: (provider: CloudProvider) => ControllerSpec, options: HarnessOptions = {}) {
    this.cloud = new FakeCloud({ clock: this.clock, seed: options.seed ?? 1 });
    this.provider = (options.provider ?? fakeProvider)(this.cloud);
    const logger = createJsonLogger({ level: 'error', write: () => undefined });
    this.factory = new SharedInformerFactory({ api: this.api, clock: this.clock, logger });
    this.queue = new StepQueue(this.clock);
    const events = {
      record: (object: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string) => {
        this.events.push({ object: `${object.metadata.namespace ?? ''}/${object.metadata.name ?? ''}`, type, reason, message });
      },
    };
    this.ctx = { api: this.api, informers: this.factory, events, clock: this.clock, logger, options: options.options ?? {} };
  }

  private controller: ControllerSpec | null = null;
  private cleanup: (() => void) | null = null;

  async start(): Promise<void> {
    this.controller = this.spec(this.provider);
    this.cleanup = this.controller.watch(this.ctx, this.queue) ?? null;
    this.factory.start();
    await this.factory.waitForSync(60_000);
    await settle();
  }

  /** Ends the term: the controller's cleanup, then the informers. */
  stop(): void {
    this.cleanup?.();
    this.cleanup = null;
    this.factory.stop();
  }

  /** Reconciles every ready key until none is left (bounded: a loop that never settles fails the test). */
  async run(stepsMax = 200): Promise<number> {
    const controller = this.controller;
    if (controller === null) throw new Error('harness not started');
    let steps = 0;
    for (;;) {
      await settle();
      const key = this.queue.ready.values().next().value;
      if (key === undefined) return steps;
      if (++steps > stepsMax) throw new Error(`the controller did not settle within ${stepsMax} reconciles`);
      this.queue.ready.delete(key);
      try {
        const result = await controller.reconcile(key, this.ctx, this.queue);
        this.queue.forget(key);
        if (result?.requeueAfterMs !== undefined) this.queue.addAfter(key, result.requeueAfterMs);
      } catch (error) {
        this.thrown.push(error);
        this.queue.addRateLimited(key);
      }
      for (const check of this.afterEach) check();
    }
  }

  /** Moves simulated time on (delayed keys fall due), then runs what became ready. */
  async advance(ms: number): Promise<number> {
    this.clock.advance(ms);
    return this.run();
  }

  reasons(): string[] {
    return this.events.map((e) => e.reason);
  }
}
