/**
 * A one-layer image as a docker-archive tar (the `docker save` layout): `<layer>/layer.tar`,
 * `<config digest>.json`, `manifest.json` and `repositories`. Both `docker load` and
 * `ctr -n k8s.io images import` read it, so the docker and cri runtimes import the same file.
 *
 * Pure: bytes in, bytes out. The image id is the sha256 of the config JSON and the layer's
 * diff id the sha256 of layer.tar, as the engines compute them, so a loaded image's id is the
 * one reported here.
 */
import { createHash } from 'node:crypto';
import { writeTar, type TarEntry } from './tar-writer.js';

export interface ImageSpec {
  /** `registry/repository:tag`, as pods name it. */
  readonly reference: string;
  readonly layer: readonly TarEntry[];
  readonly entrypoint?: readonly string[];
  readonly cmd?: readonly string[];
  readonly env: readonly string[];
  readonly workingDir?: string;
  /** What built it, for `docker history`. */
  readonly createdBy: string;
}

export interface DockerArchive {
  readonly bytes: Uint8Array;
  /** `sha256:<hex>` of the config: the image id the engines report. */
  readonly imageId: string;
  readonly layerDiffId: string;
}

/** Timestamps are fixed so the same content always gives the same image id. */
const createdFixed = '1970-01-01T00:00:00Z';

export function buildDockerArchive(spec: ImageSpec, architecture: string): DockerArchive {
  const layerTar = writeTar(spec.layer);
  const layerDigest = sha256(layerTar);
  const config = {
    architecture,
    os: 'linux',
    created: createdFixed,
    config: {
      Env: [...spec.env],
      ...(spec.entrypoint ? { Entrypoint: [...spec.entrypoint] } : {}),
      ...(spec.cmd ? { Cmd: [...spec.cmd] } : {}),
      ...(spec.workingDir ? { WorkingDir: spec.workingDir } : {}),
    },
    rootfs: { type: 'layers', diff_ids: [`sha256:${layerDigest}`] },
    history: [{ created: createdFixed, created_by: spec.createdBy }],
  };
  const configBytes = new TextEncoder().encode(JSON.stringify(config));
  const configDigest = sha256(configBytes);
  const { repository, tag } = splitReference(spec.reference);
  const manifest = [{ Config: `${configDigest}.json`, RepoTags: [spec.reference], Layers: [`${layerDigest}/layer.tar`] }];
  const repositories = { [repository]: { [tag]: layerDigest } };
  const encode = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));
  const bytes = writeTar([
    { type: 'directory', path: layerDigest, mode: 0o755 },
    { type: 'file', path: `${layerDigest}/VERSION`, mode: 0o644, data: new TextEncoder().encode('1.0') },
    { type: 'file', path: `${layerDigest}/layer.tar`, mode: 0o644, data: layerTar },
    { type: 'file', path: `${configDigest}.json`, mode: 0o644, data: configBytes },
    { type: 'file', path: 'manifest.json', mode: 0o644, data: encode(manifest) },
    { type: 'file', path: 'repositories', mode: 0o644, data: encode(repositories) },
  ]);
  return { bytes, imageId: `sha256:${configDigest}`, layerDiffId: `sha256:${layerDigest}` };
}

/** `kubus.local/busybox:1.35` → repository `kubus.local/busybox`, tag `1.35` (a port's colon is not a tag's). */
export function splitReference(reference: string): { readonly repository: string; readonly tag: string } {
  const colon = reference.lastIndexOf(':');
  if (colon > reference.lastIndexOf('/')) return { repository: reference.slice(0, colon), tag: reference.slice(colon + 1) };
  return { repository: reference, tag: 'latest' };
}

/** The image architecture of this host, in the OCI's names. */
export function hostImageArchitecture(arch: string = process.arch): string {
  const names: Readonly<Record<string, string>> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
  return names[arch] ?? arch;
}

export function sha256(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}
