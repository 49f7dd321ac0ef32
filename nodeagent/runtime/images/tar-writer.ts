/**
 * A minimal POSIX ustar writer: regular files, directories and symbolic links, with every
 * owner, group and time fixed, so the same inputs give the same bytes (a layer's digest is its
 * content's, and a rebuilt image keeps its id).
 *
 * Decision: our own writer instead of the `tar` binary or a dependency: images are a few files,
 * GNU tar adds its own headers and times unless told many flags, and the result must be
 * byte-identical for caching by content. Names longer than ustar's 100 bytes are split into
 * prefix/name; longer than that is refused (no image of ours has such paths).
 */
import { assert } from '../../../bus/assert.js';

export type TarEntry =
  | { readonly type: 'file'; readonly path: string; readonly mode: number; readonly data: Uint8Array }
  | { readonly type: 'directory'; readonly path: string; readonly mode: number }
  | { readonly type: 'symlink'; readonly path: string; readonly target: string };

const blockBytes = 512;
const encoder = new TextEncoder();

/** The archive's bytes: the entries in the given order, then the two zero blocks that end a tar. */
export function writeTar(entries: readonly TarEntry[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const entry of entries) {
    parts.push(header(entry));
    if (entry.type === 'file') {
      parts.push(entry.data);
      const padding = (blockBytes - (entry.data.length % blockBytes)) % blockBytes;
      if (padding > 0) parts.push(new Uint8Array(padding));
    }
  }
  parts.push(new Uint8Array(blockBytes * 2));
  return concat(parts);
}

function header(entry: TarEntry): Uint8Array {
  const block = new Uint8Array(blockBytes);
  const path = entry.type === 'directory' && !entry.path.endsWith('/') ? `${entry.path}/` : entry.path;
  const [prefix, name] = splitPath(path);
  writeString(block, 0, 100, name);
  const mode = entry.type === 'symlink' ? 0o777 : entry.mode;
  writeOctal(block, 100, 8, mode);
  writeOctal(block, 108, 8, 0); // uid
  writeOctal(block, 116, 8, 0); // gid
  writeOctal(block, 124, 12, entry.type === 'file' ? entry.data.length : 0);
  writeOctal(block, 136, 12, 0); // mtime: fixed, for reproducible digests
  block.fill(0x20, 148, 156); // checksum field counts as spaces while summing
  block[156] = entry.type === 'file' ? 0x30 : entry.type === 'directory' ? 0x35 : 0x32;
  if (entry.type === 'symlink') writeString(block, 157, 100, entry.target);
  writeString(block, 257, 6, 'ustar');
  writeString(block, 263, 2, '00');
  writeString(block, 265, 32, 'root');
  writeString(block, 297, 32, 'root');
  writeString(block, 345, 155, prefix);
  let sum = 0;
  for (const byte of block) sum += byte;
  writeString(block, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return block;
}

/** ustar keeps up to 155 bytes of directory in `prefix` and 100 of the rest in `name`. */
function splitPath(path: string): [string, string] {
  if (encoder.encode(path).length <= 100) return ['', path];
  const cut = path.lastIndexOf('/', path.length - 2);
  assert(cut > 0, `tar path has no directory to split: ${path}`);
  const prefix = path.slice(0, cut);
  const name = path.slice(cut + 1);
  assert(encoder.encode(prefix).length <= 155 && encoder.encode(name).length <= 100, `tar path too long for ustar: ${path}`);
  return [prefix, name];
}

function writeString(block: Uint8Array, offset: number, length: number, value: string): void {
  const bytes = encoder.encode(value);
  assert(bytes.length <= length, `tar header field too long (${bytes.length} > ${length}): ${value}`);
  block.set(bytes, offset);
}

function writeOctal(block: Uint8Array, offset: number, length: number, value: number): void {
  const digits = value.toString(8).padStart(length - 1, '0');
  assert(digits.length === length - 1, `tar numeric field overflows ${length} bytes: ${value}`);
  writeString(block, offset, length, `${digits}\0`);
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const part of parts) total += part.length;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
