/**
 * Bounds of the local image builder (STYLE rule 5), each with its reason.
 */
export const localImageLimits = {
  /** Compiling the pause program: ≈0.3 s here; a loaded CI host may take several seconds, a hung gcc must not hold an agent's start forever. */
  compileTimeoutMs: 60_000,
  /** `busybox --list-full` and `gcc --version` answer at once; anything slower is a broken tool. */
  probeTimeoutMs: 10_000,
  /** Output read from those tools: the applet list is ≈4 KiB, gcc's diagnostics a few KiB. */
  toolOutputBytesMax: 1024 * 1024,
  /** A file put into an image layer: busybox-static is ≈2 MiB, the pause program ≈0.7 MiB; a larger one is not the file we meant. */
  layerFileBytesMax: 64 * 1024 * 1024,
  /** Applet links made for busybox: it has ≈400 applets; more means the list is not an applet list. */
  appletsMax: 2_000,
} as const;
