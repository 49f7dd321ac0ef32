/**
 * Image garbage collection follows the kubelet's policy: nothing happens below the high
 * threshold; above it, unused images are removed least recently used first until usage is at
 * the low threshold; images a container uses (in any state), pinned images (pause) and images
 * younger than the minimum age are kept; a shortfall is reported. The loop runs its pass on the
 * injected clock's period against a fake runtime, and a failed removal does not stop the pass.
 */
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../../bus/clock.js';
import { createJsonLogger } from '../../../bus/logger.js';
import {
  defaultImageGcLimits, imagesInUse, observeImages, planImageGc, startImageGc, type ImageRecord,
} from '../../../nodeagent/runtime/image-gc.js';
import type { ContainerRuntime, ContainerStatus, ImageFsUsage, ImageInfo } from '../../../nodeagent/runtime/types.js';

const image = (id: string, tags: string[], sizeBytes: number): ImageInfo => ({ id, tags, sizeBytes });
const container = (imageRef: string, state: ContainerStatus['state'] = 'running'): ContainerStatus => ({
  id: `c-${imageRef}`, sandboxId: 's', name: 'c', attempt: 0, state, createdAtMs: 0, startedAtMs: 0, finishedAtMs: null,
  exitCode: null, reason: null, message: null, logPath: '/dev/null', image: imageRef, labels: {},
});
const limits = { ...defaultImageGcLimits, minAgeMs: 1_000 };
const old: ImageRecord = { firstDetectedMs: 0, lastUsedMs: 0 };

describe('planImageGc', () => {
  const images = [image('sha256:a', ['a:1'], 30), image('sha256:b', ['b:1'], 30), image('sha256:c', ['c:1'], 30)];

  it('does nothing below the high threshold', () => {
    const plan = planImageGc({ usage: { usedBytes: 84, capacityBytes: 100 }, images, records: new Map(), inUse: new Set(), nowMs: 10_000, limits });
    expect(plan).toEqual({ bytesToFree: 0, remove: [], shortBytes: 0 });
  });

  it('removes least recently used unused images down to the low threshold', () => {
    const records = new Map([
      ['sha256:a', { firstDetectedMs: 0, lastUsedMs: 5_000 }],
      ['sha256:b', { firstDetectedMs: 0, lastUsedMs: 1_000 }],
      ['sha256:c', { firstDetectedMs: 0, lastUsedMs: 3_000 }],
    ]);
    const plan = planImageGc({ usage: { usedBytes: 90, capacityBytes: 100 }, images, records, inUse: new Set(), nowMs: 10_000, limits });
    expect(plan.bytesToFree).toBe(10);
    expect(plan.remove.map((i) => i.id)).toEqual(['sha256:b']);
    expect(plan.shortBytes).toBe(0);
  });

  it('keeps images in use and images younger than the minimum age, and reports the shortfall', () => {
    const records = new Map([['sha256:a', old], ['sha256:b', old], ['sha256:c', { firstDetectedMs: 9_500, lastUsedMs: 9_500 }]]);
    const plan = planImageGc({ usage: { usedBytes: 95, capacityBytes: 100 }, images, records, inUse: new Set(['sha256:a']), nowMs: 10_000, limits });
    expect(plan.remove.map((i) => i.id)).toEqual(['sha256:b']);
    expect(plan.bytesToFree).toBe(15);
    expect(plan.shortBytes).toBe(0);
    const tight = planImageGc({ usage: { usedBytes: 99, capacityBytes: 100 }, images, records, inUse: new Set(['sha256:a']), nowMs: 10_000, limits });
    expect(tight.remove.map((i) => i.id)).toEqual(['sha256:b']);
    expect(tight.shortBytes).toBe(0);
  });

  it('reports a shortfall when everything is in use', () => {
    const records = new Map(images.map((i) => [i.id, old] as const));
    const plan = planImageGc({ usage: { usedBytes: 90, capacityBytes: 100 }, images, records, inUse: new Set(images.map((i) => i.id)), nowMs: 10_000, limits });
    expect(plan.remove).toEqual([]);
    expect(plan.shortBytes).toBe(10);
  });
});

describe('usage tracking', () => {
  it('matches containers by id or tag (also docker.io-qualified) and pins', () => {
    const images = [image('sha256:a', ['docker.io/library/nginx:1'], 1), image('sha256:b', ['kubus.local/pause:3.10'], 1), image('sha256:c', [], 1), image('sha256:d', [], 1)];
    const used = imagesInUse(images, [container('nginx:1', 'exited'), container('sha256:c')], ['kubus.local/pause:3.10']);
    expect([...used].sort()).toEqual(['sha256:a', 'sha256:b', 'sha256:c']);
  });

  it('records first detection once, refreshes last use while used, and forgets gone images', () => {
    const images = [image('sha256:a', [], 1), image('sha256:b', [], 1)];
    const first = observeImages(new Map(), images, new Set(['sha256:a']), 100, 10);
    const second = observeImages(first, [images[0]!], new Set(), 200, 10);
    expect(second.get('sha256:a')).toEqual({ firstDetectedMs: 100, lastUsedMs: 100 });
    expect(second.has('sha256:b')).toBe(false);
    const third = observeImages(second, [images[0]!], new Set(['sha256:a']), 300, 10);
    expect(third.get('sha256:a')).toEqual({ firstDetectedMs: 100, lastUsedMs: 300 });
  });
});

describe('startImageGc', () => {
  it('removes unused images on its period, skips failed removals, and stops', async () => {
    const clock = new SimulatedClock();
    let images = [image('sha256:old', ['old:1'], 5), image('sha256:broken', ['broken:1'], 5), image('sha256:used', ['used:1'], 10)];
    let usage: ImageFsUsage = { usedBytes: 90, capacityBytes: 100 };
    const removed: string[] = [];
    const runtime = {
      imageFsUsage: async () => usage,
      listImages: async () => images,
      listContainers: async () => [container('used:1')],
      removeImage: async (id: string) => {
        if (id === 'sha256:broken') throw new Error('in use by a container created since');
        removed.push(id);
        images = images.filter((i) => i.id !== id);
        usage = { usedBytes: usage.usedBytes - 5, capacityBytes: 100 };
      },
    } as unknown as ContainerRuntime;
    const lines: string[] = [];
    const gc = startImageGc(runtime, clock, createJsonLogger({ level: 'info', write: (line) => lines.push(line) }), { ...limits, periodMs: 60_000, minAgeMs: 60_000 });
    // The first pass only records the images: none is old enough yet.
    expect((await gc.runOnce())?.remove).toEqual([]);
    clock.advance(60_000);
    const deadline = Date.now() + 5_000;
    while (!lines.some((line) => line.includes('could not remove image')) && Date.now() < deadline) await new Promise((resolve) => setImmediate(resolve));
    expect(removed).toEqual(['sha256:old']);
    expect(lines.some((line) => line.includes('could not remove image'))).toBe(true);
    gc.stop();
    usage = { usedBytes: 99, capacityBytes: 100 };
    clock.advance(10 * 60_000);
    await new Promise((resolve) => setImmediate(resolve));
    expect(removed).toEqual(['sha256:old']);
  });

  it('does nothing for image-less runtimes', async () => {
    const runtime = { imageFsUsage: async () => null } as unknown as ContainerRuntime;
    const gc = startImageGc(runtime, new SimulatedClock(), createJsonLogger({ level: 'error' }));
    expect(await gc.runOnce()).toBeNull();
    gc.stop();
  });
});
