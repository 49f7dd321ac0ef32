/**
 * Scans for zero bytes a word at a time where the bytes are 4-aligned: segments are megabytes of
 * zeros after their last record, and a byte loop over 64 MiB costs ~100 ms at every start.
 */

/** Index of the last non-zero byte at or after `from`, or `from - 1` when all are zero. */
export function lastNonZeroByte(bytes: Uint8Array, from: number): number {
  let end = bytes.length;
  if (bytes.byteOffset % 4 === 0) {
    const words = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length >>> 2);
    const firstWord = Math.ceil(from / 4);
    for (let i = bytes.length - 1; i >= words.length * 4 && i >= from; i--) if (bytes[i] !== 0) return i;
    let word = words.length - 1;
    while (word >= firstWord && words[word] === 0) word--;
    end = Math.min(end, (word + 1) * 4);
  }
  for (let i = end - 1; i >= from; i--) if (bytes[i] !== 0) return i;
  return from - 1;
}

export function isZero(bytes: Uint8Array): boolean {
  return lastNonZeroByte(bytes, 0) < 0;
}
