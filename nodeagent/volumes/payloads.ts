/**
 * What the files of a configMap, secret, downwardAPI or projected volume should hold now: a
 * payload (path → content and mode) for the atomic writer, computed from the API's objects.
 *
 * Decision: the kubelet's rules: without `items`, every key becomes a file of its name; with
 * `items`, only those keys, at their paths; an item's `mode` beats the volume's `defaultMode`
 * (0644 by default). A missing object or key fails the set-up unless the reference is `optional`,
 * in which case the object counts as empty.
 */
import type { ConfigMapProjection, DownwardAPIVolumeFile, KeyToPath, Pod, SecretProjection, Volume, VolumeProjection } from 'kubernetes-types/core/v1.js';
import { findContainer, podFieldValue, resourceFieldValue, type ClusterReader } from '../env/index.js';
import type { FileProjection } from './atomic-writer.js';
import { VolumeSetUpError } from './errors.js';
import { volumeLimits } from './limits.js';
import type { TokenManager } from './token-manager.js';

export interface PayloadContext {
  readonly pod: Pod;
  readonly podIp: string | null;
  readonly nodeIp: string;
  readonly reader: ClusterReader;
  readonly tokens: TokenManager;
  /** Logs a warning the first time for `key` only (a refresh repeats the same condition every period). */
  readonly warnOnce: (key: string, message: string, fields: Readonly<Record<string, unknown>>) => void;
}

/** The volume ServiceAccount admission adds to every pod (API access for apps that want it). */
const apiAccessVolumePrefix = 'kube-api-access-';

type MutablePayload = Map<string, FileProjection>;

function put(payload: MutablePayload, volume: string, relative: string, file: FileProjection): void {
  if (payload.size >= volumeLimits.payloadFilesMax) throw new VolumeSetUpError(`volume ${volume}: more than ${volumeLimits.payloadFilesMax} files`, volume);
  payload.set(relative, file);
}

/** The payload of a volume rendered from API objects; null for the other volume kinds. */
export async function volumePayload(volume: Volume, context: PayloadContext): Promise<Map<string, FileProjection> | null> {
  const payload: MutablePayload = new Map();
  if (volume.configMap !== undefined) {
    const source = volume.configMap;
    await addKeys(payload, volume.name, { kind: 'configmap', name: source.name ?? '', items: source.items, optional: source.optional, mode: source.defaultMode }, context);
    return payload;
  }
  if (volume.secret !== undefined) {
    const source = volume.secret;
    await addKeys(payload, volume.name, { kind: 'secret', name: source.secretName ?? '', items: source.items, optional: source.optional, mode: source.defaultMode }, context);
    return payload;
  }
  if (volume.downwardAPI !== undefined) {
    await addDownwardApi(payload, volume.name, volume.downwardAPI.items ?? [], volume.downwardAPI.defaultMode, context);
    return payload;
  }
  if (volume.projected !== undefined) {
    for (const source of volume.projected.sources ?? []) await addProjection(payload, volume.name, source, volume.projected.defaultMode, context);
    return payload;
  }
  return null;
}

interface KeySource {
  readonly kind: 'configmap' | 'secret';
  readonly name: string;
  readonly items: readonly KeyToPath[] | undefined;
  readonly optional: boolean | undefined;
  readonly mode: number | undefined;
}

async function addKeys(payload: MutablePayload, volume: string, source: KeySource, context: PayloadContext): Promise<void> {
  const namespace = context.pod.metadata?.namespace ?? 'default';
  const data = source.kind === 'configmap' ? await context.reader.configMapData(namespace, source.name) : await context.reader.secretData(namespace, source.name);
  const defaultMode = source.mode ?? volumeLimits.defaultFileMode;
  if (data === null) {
    if (source.optional === true) return;
    throw new VolumeSetUpError(`volume ${volume}: ${source.kind} "${source.name}" not found; create it or mark the volume optional`, volume);
  }
  if (source.items === undefined || source.items.length === 0) {
    for (const key of Object.keys(data).sort()) put(payload, volume, key, { data: data[key] ?? Buffer.alloc(0), mode: defaultMode });
    return;
  }
  for (const item of source.items) {
    const value = data[item.key];
    if (value === undefined) {
      if (source.optional === true) continue;
      throw new VolumeSetUpError(`volume ${volume}: key "${item.key}" not found in ${source.kind} "${source.name}"`, volume);
    }
    put(payload, volume, item.path, { data: value, mode: item.mode ?? defaultMode });
  }
}

async function addDownwardApi(payload: MutablePayload, volume: string, items: readonly DownwardAPIVolumeFile[], mode: number | undefined, context: PayloadContext): Promise<void> {
  const defaultMode = mode ?? volumeLimits.defaultFileMode;
  for (const item of items) {
    let value: string | undefined;
    if (item.fieldRef !== undefined) {
      value = podFieldValue(item.fieldRef.fieldPath, { pod: context.pod, podIp: context.podIp, nodeIp: context.nodeIp });
    } else if (item.resourceFieldRef !== undefined) {
      const ref = item.resourceFieldRef;
      const container = findContainer(context.pod, ref.containerName ?? '');
      value = container === undefined ? undefined : resourceFieldValue(container, { resource: ref.resource, divisor: ref.divisor }, await context.reader.allocatable());
    }
    if (value === undefined) throw new VolumeSetUpError(`volume ${volume}: item ${item.path} names an unsupported field or an unknown container`, volume);
    put(payload, volume, item.path, { data: Buffer.from(value, 'utf8'), mode: item.mode ?? defaultMode });
  }
}

async function addProjection(payload: MutablePayload, volume: string, source: VolumeProjection, mode: number | undefined, context: PayloadContext): Promise<void> {
  if (source.configMap !== undefined) {
    const c: ConfigMapProjection = source.configMap;
    await addKeys(payload, volume, { kind: 'configmap', name: c.name ?? '', items: c.items, optional: c.optional, mode }, context);
  } else if (source.secret !== undefined) {
    const s: SecretProjection = source.secret;
    await addKeys(payload, volume, { kind: 'secret', name: s.name ?? '', items: s.items, optional: s.optional, mode }, context);
  } else if (source.downwardAPI !== undefined) {
    await addDownwardApi(payload, volume, source.downwardAPI.items ?? [], mode, context);
  } else if (source.serviceAccountToken !== undefined) {
    const spec = source.serviceAccountToken;
    let token: string;
    try {
      token = await context.tokens.token(context.pod, { audience: spec.audience, expirationSeconds: spec.expirationSeconds }, volume);
    } catch (error) {
      // The injected API-access volume is in every pod; most apps never read its token. A refused
      // TokenRequest (403/404) leaves the file out, logged and retried at each refresh, rather than
      // keeping every pod from starting; a volume the pod declares itself stays strict.
      if (!volume.startsWith(apiAccessVolumePrefix) || !(error instanceof VolumeSetUpError) || error.transient) throw error;
      context.warnOnce(`${context.pod.metadata?.uid ?? ''}/${volume}/token`, 'left the token out of the API access volume', { pod: context.pod.metadata?.name, volume, error: error.message });
      return;
    }
    put(payload, volume, spec.path, { data: Buffer.from(token, 'utf8'), mode: mode ?? volumeLimits.defaultFileMode });
  } else {
    throw new VolumeSetUpError(`volume ${volume}: a projected source this agent does not support (configMap, secret, downwardAPI, serviceAccountToken are)`, volume);
  }
}
