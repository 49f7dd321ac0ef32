/**
 * Local images without a registry: the tar writer's archives are read back by GNU tar (names,
 * modes, symlinks, long paths) and are byte-identical for the same input; the docker-archive
 * layout has the manifest, config and layer the engines expect, with the image id being the
 * config's digest; the ELF check tells static from dynamic binaries; and `describeLocalImage`
 * builds pause (gcc) and busybox (the host's busybox-static) once, then answers from its cache,
 * and names the package to install when a tool is missing.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  buildDockerArchive, describeLocalImage, elfLinkage, ImageBuildToolError, localImageNameOf, localImageRefs, parseAppletList,
  splitReference, writeTar,
} from '../../../nodeagent/runtime/images/index.js';

const dir = mkdtempSync(join(tmpdir(), 'kubus-test-h3-images-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function listTar(bytes: Uint8Array): string[] {
  const file = join(dir, `list-${Math.random().toString(16).slice(2)}.tar`);
  writeFileSync(file, bytes);
  return execFileSync('tar', ['tvf', file], { encoding: 'utf8' }).trim().split('\n');
}

function extract(tarFile: string, member: string): Buffer {
  return execFileSync('tar', ['xOf', tarFile, member], { maxBuffer: 64 * 1024 * 1024 });
}

describe('writeTar', () => {
  it('writes files, directories and symlinks GNU tar reads back, the same bytes every time', () => {
    const longPath = `${'deep/'.repeat(25)}file`;
    const entries = [
      { type: 'directory', path: 'bin', mode: 0o755 },
      { type: 'file', path: 'bin/hello', mode: 0o755, data: new TextEncoder().encode('hi\n') },
      { type: 'symlink', path: 'bin/sh', target: '/bin/hello' },
      { type: 'file', path: longPath, mode: 0o644, data: new Uint8Array(700) },
    ] as const;
    const bytes = writeTar(entries);
    expect(bytes.length % 512).toBe(0);
    expect(Buffer.from(writeTar(entries)).equals(Buffer.from(bytes))).toBe(true);
    const listing = listTar(bytes);
    expect(listing[0]).toMatch(/^drwxr-xr-x root\/root\s+0 1970-01-01 00:00 bin\/$/);
    expect(listing[1]).toMatch(/^-rwxr-xr-x root\/root\s+3 .* bin\/hello$/);
    expect(listing[2]).toMatch(/bin\/sh -> \/bin\/hello$/);
    expect(listing[3]).toMatch(new RegExp(`700 .* ${longPath}$`));
  });
});

describe('docker archive', () => {
  it('holds manifest, config and layer; the image id is the config digest and the diff id the layer digest', () => {
    const archive = buildDockerArchive({
      reference: 'kubus-test-h3/tiny:1', layer: [{ type: 'file', path: 'x', mode: 0o644, data: new Uint8Array([1, 2, 3]) }],
      cmd: ['sh'], env: ['PATH=/bin'], createdBy: 'test',
    }, 'amd64');
    const file = join(dir, 'tiny.tar');
    writeFileSync(file, archive.bytes);
    const manifest = JSON.parse(extract(file, 'manifest.json').toString()) as [{ Config: string; RepoTags: string[]; Layers: string[] }];
    expect(manifest[0].RepoTags).toEqual(['kubus-test-h3/tiny:1']);
    const config = extract(file, manifest[0].Config);
    expect(`sha256:${createHash('sha256').update(config).digest('hex')}`).toBe(archive.imageId);
    const parsed = JSON.parse(config.toString()) as { os: string; architecture: string; config: { Cmd: string[] }; rootfs: { diff_ids: string[] } };
    expect(parsed).toMatchObject({ os: 'linux', architecture: 'amd64', config: { Cmd: ['sh'] } });
    const layer = extract(file, manifest[0].Layers[0] ?? '');
    expect(parsed.rootfs.diff_ids).toEqual([`sha256:${createHash('sha256').update(layer).digest('hex')}`]);
    expect(archive.layerDiffId).toBe(parsed.rootfs.diff_ids[0]);
    expect(JSON.parse(extract(file, 'repositories').toString())).toHaveProperty(['kubus-test-h3/tiny', '1']);
  });

  it('splits references at the tag, not at a registry port', () => {
    expect(splitReference('kubus.local/busybox:1.35')).toEqual({ repository: 'kubus.local/busybox', tag: '1.35' });
    expect(splitReference('localhost:5000/app')).toEqual({ repository: 'localhost:5000/app', tag: 'latest' });
  });
});

describe('binaries', () => {
  it('tells static from dynamic ELF files', () => {
    expect(elfLinkage(new Uint8Array(readFileSync('/bin/ls')))).toBe('dynamic');
    expect(elfLinkage(new TextEncoder().encode('#!/bin/sh\necho not elf, padded to be long enough for a header\n'))).toBe('notElf');
  });

  it('keeps applet paths that are safe and relative', () => {
    expect(parseAppletList('usr/bin/tar\nbin/sh\n\nbin/busybox\n../etc/x\n/sbin/init\nbad path\n')).toEqual(['bin/sh', 'sbin/init', 'usr/bin/tar']);
  });

  it('maps references to local image names', () => {
    expect(localImageNameOf(localImageRefs.busybox)).toBe('busybox');
    expect(localImageNameOf('busybox:1.35')).toBeNull();
  });
});

describe('describeLocalImage', () => {
  it('builds busybox with its applets and a static pause, then answers from the cache', async () => {
    const cache = join(dir, 'cache');
    const busybox = await describeLocalImage('busybox', cache);
    expect(busybox.reference).toBe('kubus.local/busybox:1.35');
    const manifest = JSON.parse(extract(busybox.path, 'manifest.json').toString()) as [{ Layers: string[]; Config: string }];
    const layerFile = join(dir, 'busybox-layer.tar');
    writeFileSync(layerFile, extract(busybox.path, manifest[0].Layers[0] ?? ''));
    const layer = execFileSync('tar', ['tvf', layerFile], { encoding: 'utf8' });
    expect(layer).toMatch(/ bin\/busybox\n/);
    expect(layer).toMatch(/ bin\/sh -> \/bin\/busybox\n/);
    expect(layer).toMatch(/\/tar -> \/bin\/busybox\n/);
    expect(layer).toMatch(/\/httpd -> \/bin\/busybox\n/);
    expect(JSON.parse(extract(busybox.path, manifest[0].Config).toString())).toMatchObject({ config: { Cmd: ['sh'] } });

    const pause = await describeLocalImage('pause', cache);
    const pauseManifest = JSON.parse(extract(pause.path, 'manifest.json').toString()) as [{ Layers: string[] }];
    const pauseLayer = join(dir, 'pause-layer.tar');
    writeFileSync(pauseLayer, extract(pause.path, pauseManifest[0].Layers[0] ?? ''));
    const binary = execFileSync('tar', ['xOf', pauseLayer, 'pause'], { maxBuffer: 64 * 1024 * 1024 });
    expect(elfLinkage(new Uint8Array(binary))).toBe('static');

    const before = statSync(busybox.path).mtimeMs;
    const again = await describeLocalImage('busybox', cache);
    expect(again).toEqual(busybox);
    expect(statSync(again.path).mtimeMs).toBe(before);
  });

  it('names the package when a tool is missing or unusable', async () => {
    const cache = join(dir, 'missing');
    await expect(describeLocalImage('pause', cache, { gcc: join(dir, 'no-gcc') })).rejects.toThrow(/apt-get install -y gcc/);
    await expect(describeLocalImage('busybox', cache, { busybox: '/bin/ls' })).rejects.toSatisfy(
      (error: unknown) => error instanceof ImageBuildToolError && /dynamically linked/.test(error.message) && /busybox-static/.test(error.message),
    );
  });
});
