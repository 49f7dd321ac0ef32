/**
 * Images in the engine: Kubernetes' pull policy over inspect and pull, local image tars loaded
 * at open, and the image store's numbers for image GC (`docker system df`'s layer total and the
 * data root's filesystem).
 *
 * Decision: references under `kubus.local/` name images kubus builds on the node
 * (nodeagent/runtime/images/); no registry serves them, so they are never pulled, whatever the
 * policy (`:latest` would otherwise mean Always and fail on every start).
 */
import { statfs } from 'node:fs/promises';
import { ImagePullError } from '../errors.js';
import type { ImageFsUsage, ImageInfo, ImagePullAuth, ImagePullPolicy } from '../types.js';
import { dockerLimits as limits } from './limits.js';
import { withTimeout, type Engine } from './timeout.js';

const localRegistry = 'kubus.local';
const dockerHub = 'docker.io';

// Docker's reference grammar, simplified: [host[:port]/]path[:tag][@sha256:digest]. The first
// component is a host only when it looks like one (a dot, a port, localhost); the path is lower-case.
const pathComponent = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const pathPattern = new RegExp(`^${pathComponent}(?:/${pathComponent})*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$`);
const hostPattern = /^(?:[a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)*)(?::[0-9]+)?$/;

export function isValidReference(image: string): boolean {
  if (image.length === 0 || image.length > 4096) return false;
  const slash = image.indexOf('/');
  const hasHost = slash > 0 && registryOf(image) !== dockerHub;
  if (hasHost && !hostPattern.test(image.slice(0, slash))) return false;
  return pathPattern.test(hasHost ? image.slice(slash + 1) : image);
}

/** The registry host of a reference (`docker.io` for Docker Hub's short names). */
export function registryOf(image: string): string {
  const slash = image.indexOf('/');
  if (slash < 0) return dockerHub;
  const first = image.slice(0, slash);
  return first.includes('.') || first.includes(':') || first === 'localhost' ? first : dockerHub;
}

/** A reference with its tag made explicit: an engine pull without one fetches every tag. */
export function withDefaultTag(image: string): string {
  if (image.includes('@')) return image;
  const lastSlash = image.lastIndexOf('/');
  return image.slice(lastSlash + 1).includes(':') ? image : `${image}:latest`;
}

/** The credentials for the image's registry (`https://index.docker.io/v1/` and friends match Docker Hub). */
export function authFor(image: string, auths: readonly ImagePullAuth[]): ImagePullAuth | undefined {
  const registry = registryOf(image);
  return auths.find((auth) => normalizeRegistry(auth.registry) === registry);
}

function normalizeRegistry(registry: string): string {
  const host = registry.replace(/^[a-z]+:\/\//, '').split('/')[0] ?? '';
  return host === 'index.docker.io' || host === 'registry-1.docker.io' ? dockerHub : host;
}

export type PullDecision = 'present' | 'pull' | 'neverPull';

/** Kubernetes' imagePullPolicy, with kubus's local images never pulled. */
export function pullDecision(image: string, policy: ImagePullPolicy, present: boolean): PullDecision {
  const local = registryOf(image) === localRegistry;
  if (present && (policy !== 'Always' || local)) return 'present';
  if (policy === 'Never' || local) return present ? 'present' : 'neverPull';
  return 'pull';
}

export async function ensureImage(engine: Engine, image: string, policy: ImagePullPolicy, auths: readonly ImagePullAuth[]): Promise<void> {
  if (!isValidReference(image)) throw new ImagePullError(image, 'InvalidImageName', 'not a valid image reference ([registry/]name[:tag][@digest], lower-case name)');
  const present = await imagePresent(engine, image);
  const decision = pullDecision(image, policy, present);
  if (decision === 'present') return;
  if (decision === 'neverPull') {
    const why = registryOf(image) === localRegistry ? 'kubus.local images are built on the node, never pulled' : 'imagePullPolicy is Never';
    throw new ImagePullError(image, 'ErrImageNeverPull', `the image is not present on this node and ${why}`);
  }
  await pull(engine, image, authFor(image, auths));
}

export async function imagePresent(engine: Engine, image: string): Promise<boolean> {
  try {
    await withTimeout(engine.clock, engine.docker.getImage(image).inspect(), limits.requestTimeoutMs, `inspect image ${image}`);
    return true;
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return false;
    throw error;
  }
}

async function pull(engine: Engine, image: string, auth: ImagePullAuth | undefined): Promise<void> {
  const authconfig = auth === undefined ? undefined : {
    serveraddress: auth.registry,
    ...(auth.username !== undefined ? { username: auth.username } : {}),
    ...(auth.password !== undefined ? { password: auth.password } : {}),
    ...(auth.auth !== undefined ? { auth: auth.auth } : {}),
    ...(auth.identityToken !== undefined ? { identitytoken: auth.identityToken } : {}),
  };
  try {
    const stream = await engine.docker.pull(withDefaultTag(image), authconfig === undefined ? {} : { authconfig });
    await withTimeout(engine.clock, readProgress(stream), limits.pullTimeoutMs, `pull ${image}`);
  } catch (error) {
    if (error instanceof ImagePullError) throw error;
    throw new ImagePullError(image, 'ErrImagePull', engineMessage(error));
  }
}

/** A pull's progress stream: JSON lines; one with `error` is the pull's failure. */
function readProgress(stream: NodeJS.ReadableStream): Promise<void> {
  return new Promise((resolve, reject) => {
    let pending = '';
    let failure: string | null = null;
    stream.on('data', (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        try {
          const message = JSON.parse(line) as { error?: string };
          if (typeof message.error === 'string') failure ??= message.error;
        } catch {
          // a progress line cut oddly: ignore
        }
      }
    });
    stream.on('end', () => (failure === null ? resolve() : reject(new Error(failure))));
    stream.on('error', reject);
  });
}

/** The engine's own words from a dockerode error (`(HTTP code 404) ... - <message>`). */
export function engineMessage(error: unknown): string {
  const json = (error as { json?: { message?: string } }).json;
  if (json !== undefined && typeof json?.message === 'string') return json.message;
  return error instanceof Error ? error.message : String(error);
}

export async function listImages(engine: Engine): Promise<readonly ImageInfo[]> {
  const images = await withTimeout(engine.clock, engine.docker.listImages(), limits.requestTimeoutMs, 'list images');
  return images.map((image) => ({
    id: image.Id,
    tags: (image.RepoTags ?? []).filter((tag) => tag !== '<none>:<none>'),
    sizeBytes: image.Size,
  }));
}

/** Removes an image; the engine refuses (409) while a container uses it, and that refusal is thrown. */
export async function removeImage(engine: Engine, imageId: string): Promise<void> {
  await withTimeout(engine.clock, engine.docker.getImage(imageId).remove({ force: false, noprune: false }), limits.requestTimeoutMs, `remove image ${imageId}`);
}

export async function imageFsUsage(engine: Engine): Promise<ImageFsUsage> {
  const [df, info] = await Promise.all([
    withTimeout(engine.clock, engine.docker.df() as Promise<{ LayersSize?: number }>, limits.requestTimeoutMs, 'system df'),
    withTimeout(engine.clock, engine.docker.info() as Promise<{ DockerRootDir?: string }>, limits.requestTimeoutMs, 'info'),
  ]);
  const stats = await statfs(info.DockerRootDir ?? '/var/lib/docker').catch(() => statfs('/'));
  return { usedBytes: df.LayersSize ?? 0, capacityBytes: stats.blocks * stats.bsize };
}

/** Loads docker-archive tars (kubus's local images) the engine does not have yet, or has under another id (an older build). */
export async function loadImageTars(engine: Engine, images: readonly { readonly reference: string; readonly tarPath: string; readonly imageId: string }[]): Promise<void> {
  for (const image of images) {
    const present = await withTimeout(engine.clock, engine.docker.getImage(image.reference).inspect(), limits.requestTimeoutMs, `inspect image ${image.reference}`).catch(() => null);
    if (present?.Id === image.imageId) continue;
    const stream = await engine.docker.loadImage(image.tarPath, { quiet: true });
    await withTimeout(engine.clock, readProgress(stream), limits.loadTimeoutMs, `load ${image.tarPath}`);
  }
}
