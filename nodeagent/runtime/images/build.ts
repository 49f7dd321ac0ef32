/**
 * Builds the images kubus needs when no registry is reachable (the pause image every cri
 * sandbox runs, and busybox for the README's examples and the tests) as docker-archive tars
 * that the cri runtime imports with `ctr images import` and the docker runtime with
 * `docker load`. Runtimes own the importing; this file only makes the tars.
 *
 * Decision: cached by content: the file name carries a digest of every input (pause source and
 * compiler version; busybox binary and applet list), so a cache hit is a stat and a changed
 * input builds a new file. Writes go to a temporary name then `rename`, so agents and tests
 * building the same image at once never see a partial tar.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildDockerArchive, hostImageArchitecture, type ImageSpec } from './docker-archive.js';
import { ImageBuildError } from './errors.js';
import { busyboxCacheKey, busyboxImageSpec, readBusybox, type BusyboxInputs } from './busybox.js';
import { pauseCacheKey, pauseImageSpec, type PauseInputs } from './pause.js';

/** The references pods (and the cri runtime's sandbox_image) use for the local images. */
export const localImageRefs = {
  pause: 'kubus.local/pause:3.10',
  busybox: 'kubus.local/busybox:1.35',
} as const;

export type LocalImageName = keyof typeof localImageRefs;
export const localImageNames = Object.keys(localImageRefs) as LocalImageName[];

export interface LocalImage {
  readonly name: LocalImageName;
  readonly reference: string;
  /** The docker-archive tar. */
  readonly path: string;
  /** `sha256:<hex>` of the config: the id `docker images` / `ctr images ls` show once imported. */
  readonly imageId: string;
}

export interface BuildInputs {
  /** The C compiler for pause (default `gcc` from PATH). */
  readonly gcc?: string;
  /** The static busybox (default: /bin/busybox, else /usr/bin/busybox). */
  readonly busybox?: string;
}

/** The tar of image `name` in `cacheDir`, built when not there yet; returns its path. */
export async function buildLocalImage(name: LocalImageName, cacheDir: string, inputs: BuildInputs = {}): Promise<string> {
  return (await describeLocalImage(name, cacheDir, inputs)).path;
}

/** Like `buildLocalImage`, with the reference and image id a runtime checks before importing. */
export async function describeLocalImage(name: LocalImageName, cacheDir: string, inputs: BuildInputs = {}): Promise<LocalImage> {
  await mkdir(cacheDir, { recursive: true });
  const recipe = await recipeOf(name, inputs);
  const base = join(cacheDir, `${name}-${recipe.key.slice(0, 16)}`);
  const cached = await readCached(base, name);
  if (cached !== null) return cached;
  const spec = await recipe.spec(cacheDir);
  const archive = buildDockerArchive(spec, hostImageArchitecture());
  const image: LocalImage = { name, reference: spec.reference, path: `${base}.tar`, imageId: archive.imageId };
  const suffix = `.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await writeFile(`${base}.tar${suffix}`, archive.bytes);
    await rename(`${base}.tar${suffix}`, `${base}.tar`);
    // The id file last: its presence says the tar beside it is complete.
    await writeFile(`${base}.json${suffix}`, JSON.stringify({ reference: image.reference, imageId: image.imageId }));
    await rename(`${base}.json${suffix}`, `${base}.json`);
  } catch (error) {
    await rm(`${base}.tar${suffix}`, { force: true });
    await rm(`${base}.json${suffix}`, { force: true });
    throw new ImageBuildError(spec.reference, `writing ${base}.tar`, (error as Error).message);
  }
  return image;
}

/** Every local image (pause and busybox), built in turn; what `kubus up` and the e2e tests prepare. */
export async function describeLocalImages(cacheDir: string, inputs: BuildInputs = {}): Promise<Readonly<Record<LocalImageName, LocalImage>>> {
  const pause = await describeLocalImage('pause', cacheDir, inputs);
  const busybox = await describeLocalImage('busybox', cacheDir, inputs);
  return { pause, busybox };
}

/** Which local image a pod's image reference names (`docker.io/`-less exact match), or null. */
export function localImageNameOf(reference: string): LocalImageName | null {
  for (const name of localImageNames) if (localImageRefs[name] === reference) return name;
  return null;
}

interface Recipe {
  readonly key: string;
  spec(workDir: string): Promise<ImageSpec>;
}

async function recipeOf(name: LocalImageName, inputs: BuildInputs): Promise<Recipe> {
  if (name === 'pause') {
    const pauseInputs: PauseInputs = { gcc: inputs.gcc ?? 'gcc' };
    return { key: await pauseCacheKey(pauseInputs), spec: (workDir) => pauseImageSpec(pauseInputs, workDir) };
  }
  const busyboxInputs: BusyboxInputs = inputs.busybox === undefined ? {} : { busybox: inputs.busybox };
  const binary = await readBusybox(busyboxInputs);
  return { key: busyboxCacheKey(binary), spec: async () => busyboxImageSpec(binary) };
}

async function readCached(base: string, name: LocalImageName): Promise<LocalImage | null> {
  try {
    const meta = JSON.parse(await readFile(`${base}.json`, 'utf8')) as { reference?: unknown; imageId?: unknown };
    if (typeof meta.reference !== 'string' || typeof meta.imageId !== 'string') return null;
    return { name, reference: meta.reference, path: `${base}.tar`, imageId: meta.imageId };
  } catch {
    return null;
  }
}
