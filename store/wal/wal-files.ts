/**
 * The byte-level file seam the WAL writes through: one directory of files. `NodeWalFiles` is the
 * real disk; `MemoryWalFiles` is the simulation's, with power-cut semantics, so the simulation runs
 * the very WAL code the member runs.
 *
 * Durability contract (what a caller may rely on after a power cut): bytes written to a file are
 * durable once `sync(name)` returned; a file's creation, rename or removal is durable once
 * `syncDirectory()` returned. Before that, either outcome may be found.
 */
export interface WalFiles {
  /** Names of the files in the directory, in no particular order. */
  list(): string[];
  /** The file's size in bytes. */
  size(name: string): number;
  /** `length` bytes from `offset` (default: the whole file); fewer at the end of the file. */
  read(name: string, offset?: number, length?: number): Uint8Array;
  /** Creates a new file of `bytes` zero bytes (written, not sparse); it must not exist yet. */
  create(name: string, bytes: number): void;
  /** Writes `data` at `offset`, extending the file if it ends before. */
  write(name: string, offset: number, data: Uint8Array): void;
  /** Makes the file's written bytes durable (fdatasync). */
  sync(name: string): void;
  truncate(name: string, bytes: number): void;
  /** Replaces `to` if it exists. */
  rename(from: string, to: string): void;
  remove(name: string): void;
  /** Makes creations, renames and removals in the directory durable. */
  syncDirectory(): void;
  close(): void;
}
