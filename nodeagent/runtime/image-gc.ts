/**
 * Image garbage collection, Kubernetes' policy (kubelet `imageGCManager`): when the image
 * filesystem is at least `highThresholdPercent` full, remove unused images, least recently used
 * first, until it is at `lowThresholdPercent`; never an image a container uses (running or not:
 * an exited container may be restarted), never a pinned one (the sandbox's pause image), never
 * one first seen less than `minAgeMs` ago (an image just pulled for a pod about to start).
 *
 * Decision: the decisions are pure (`observeImages`, `planImageGc`), the loop only gathers the
 * runtime's answers and performs the plan. "Last used" is when the collector last saw a
 * container using the image, as the kubelet tracks it; a restarted agent starts with every
 * image first seen now, so nothing is removed for `minAgeMs` after a start (the kubelet too
 * forgets its records on restart).
 *
 * Decision: a plain timer loop, not a state machine: one periodic step with no states to tell
 * apart; a pass never overlaps the next (the next is scheduled after the pass ends).
 */
import type { Clock, TimerId } from '../../bus/clock.js';
import type { Logger } from '../../bus/logger.js';
import type { ContainerRuntime, ContainerStatus, ImageFsUsage, ImageInfo } from './types.js';

export interface ImageGcLimits {
  /** Pass interval: the kubelet's ImageGCPeriod (5 min). */
  readonly periodMs: number;
  /** Collect when usage reaches this percent (kubelet `imageGCHighThresholdPercent`, 85). */
  readonly highThresholdPercent: number;
  /** Free down to this percent (kubelet `imageGCLowThresholdPercent`, 80). */
  readonly lowThresholdPercent: number;
  /** An image first seen this recently is kept (kubelet `imageMinimumGCAge`, 2 min). */
  readonly minAgeMs: number;
  /** Images removed in one pass: a pass on a runtime with thousands of images must end; the next pass continues. */
  readonly removalsPerPassMax: number;
  /** Images tracked: entries beyond it are images the runtime no longer lists (dropped each pass); a bound against a runaway list. */
  readonly trackedImagesMax: number;
}

export const defaultImageGcLimits: ImageGcLimits = {
  periodMs: 5 * 60_000,
  highThresholdPercent: 85,
  lowThresholdPercent: 80,
  minAgeMs: 2 * 60_000,
  removalsPerPassMax: 100,
  trackedImagesMax: 10_000,
};

export interface ImageRecord {
  readonly firstDetectedMs: number;
  readonly lastUsedMs: number;
}

/** Image id → when first seen and last seen in use. */
export type ImageRecords = ReadonlyMap<string, ImageRecord>;

/** Whether a container's image reference names this image (by id, by tag, or by `docker.io/library/`-less tag). */
export function imageMatches(image: ImageInfo, reference: string): boolean {
  if (image.id === reference || image.id === `sha256:${reference}`) return true;
  return image.tags.some((tag) => tag === reference || tag === `docker.io/library/${reference}` || tag === `docker.io/${reference}`);
}

/** The ids of `images` some container (in any state) or pin refers to. */
export function imagesInUse(images: readonly ImageInfo[], containers: readonly ContainerStatus[], pinned: readonly string[]): Set<string> {
  const used = new Set<string>();
  const references = [...containers.map((container) => container.image), ...pinned];
  for (const image of images) {
    if (references.some((reference) => imageMatches(image, reference))) used.add(image.id);
  }
  return used;
}

/** The records after one observation: new images first seen now, used ones last used now, gone ones forgotten. */
export function observeImages(records: ImageRecords, images: readonly ImageInfo[], inUse: ReadonlySet<string>, nowMs: number, trackedMax: number): Map<string, ImageRecord> {
  const next = new Map<string, ImageRecord>();
  for (const image of images.slice(0, trackedMax)) {
    const known = records.get(image.id);
    const firstDetectedMs = known?.firstDetectedMs ?? nowMs;
    const lastUsedMs = inUse.has(image.id) ? nowMs : (known?.lastUsedMs ?? firstDetectedMs);
    next.set(image.id, { firstDetectedMs, lastUsedMs });
  }
  return next;
}

export interface ImageGcPlan {
  /** Bytes above the low threshold; 0 when usage is below the high threshold. */
  readonly bytesToFree: number;
  /** Images to remove, in order. */
  readonly remove: readonly ImageInfo[];
  /** The plan frees less than asked (everything else is in use or too young), as the kubelet warns. */
  readonly shortBytes: number;
}

export function planImageGc(input: {
  readonly usage: ImageFsUsage;
  readonly images: readonly ImageInfo[];
  readonly records: ImageRecords;
  readonly inUse: ReadonlySet<string>;
  readonly nowMs: number;
  readonly limits: ImageGcLimits;
}): ImageGcPlan {
  const { usage, limits } = input;
  if (usage.capacityBytes <= 0) return { bytesToFree: 0, remove: [], shortBytes: 0 };
  const usedPercent = (usage.usedBytes * 100) / usage.capacityBytes;
  if (usedPercent < limits.highThresholdPercent) return { bytesToFree: 0, remove: [], shortBytes: 0 };
  const bytesToFree = Math.max(0, usage.usedBytes - Math.floor((usage.capacityBytes * limits.lowThresholdPercent) / 100));
  const candidates = input.images
    .filter((image) => !input.inUse.has(image.id))
    .filter((image) => {
      const record = input.records.get(image.id);
      return record !== undefined && input.nowMs - record.firstDetectedMs >= limits.minAgeMs;
    })
    .sort((a, b) => {
      const ra = input.records.get(a.id);
      const rb = input.records.get(b.id);
      return (ra?.lastUsedMs ?? 0) - (rb?.lastUsedMs ?? 0) || (ra?.firstDetectedMs ?? 0) - (rb?.firstDetectedMs ?? 0) || a.id.localeCompare(b.id);
    });
  const remove: ImageInfo[] = [];
  let freed = 0;
  for (const image of candidates) {
    if (freed >= bytesToFree || remove.length >= limits.removalsPerPassMax) break;
    remove.push(image);
    freed += image.sizeBytes;
  }
  return { bytesToFree, remove, shortBytes: Math.max(0, bytesToFree - freed) };
}

export interface ImageGcHandle {
  /** Runs one pass now (tests; the loop runs them every `periodMs`). */
  runOnce(): Promise<ImageGcPlan | null>;
  stop(): void;
}

export interface ImageGcOptions {
  /** References never removed: the sandbox (pause) image. */
  readonly pinned?: readonly string[];
}

/** The agent's collector: a pass every `limits.periodMs` against the runtime's image store. */
export function startImageGc(runtime: ContainerRuntime, clock: Clock, logger: Logger, limits: ImageGcLimits = defaultImageGcLimits, options: ImageGcOptions = {}): ImageGcHandle {
  const log = logger.child({ component: 'image-gc' });
  let records: ImageRecords = new Map();
  let timer: TimerId | null = null;
  let stopped = false;
  let running: Promise<ImageGcPlan | null> | null = null;

  const pass = async (): Promise<ImageGcPlan | null> => {
    const usage = await runtime.imageFsUsage();
    if (usage === null) return null; // image-less runtime (process, hollow)
    const [images, containers] = await Promise.all([runtime.listImages(), runtime.listContainers()]);
    const inUse = imagesInUse(images, containers, options.pinned ?? []);
    records = observeImages(records, images, inUse, clock.now(), limits.trackedImagesMax);
    const plan = planImageGc({ usage, images, records, inUse, nowMs: clock.now(), limits });
    for (const image of plan.remove) {
      try {
        await runtime.removeImage(image.id);
        log.info('removed unused image', { image: image.id, tags: image.tags, sizeBytes: image.sizeBytes });
      } catch (error) {
        // A container may have started with it since the listing: the next pass sees it in use.
        log.warn('could not remove image', { image: image.id, error: (error as Error).message });
      }
    }
    if (plan.shortBytes > 0) log.warn('image filesystem above its high threshold; not enough unused images to free', { bytesToFree: plan.bytesToFree, shortBytes: plan.shortBytes });
    return plan;
  };

  const runOnce = (): Promise<ImageGcPlan | null> => {
    running ??= pass().finally(() => { running = null; });
    return running;
  };

  const schedule = (): void => {
    if (stopped) return;
    timer = clock.setTimeout(() => {
      timer = null;
      runOnce()
        .catch((error: unknown) => log.warn('image gc pass failed', { error: (error as Error).message }))
        .finally(schedule);
    }, limits.periodMs);
  };
  schedule();

  return {
    runOnce,
    stop() {
      stopped = true;
      if (timer !== null) clock.clearTimeout(timer);
      timer = null;
    },
  };
}
