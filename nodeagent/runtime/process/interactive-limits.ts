/** Bounds of the process runtime's interactive sessions (exec with a terminal, attach), with their reasons. */
export const interactiveLimits = {
  /** How often an attach reads the container's raw output for new bytes: output reaches kubectl at most this late. */
  attachPollMs: 100,
  /** Bytes an attach reads from a raw output file at once (one bus-stream chunk's worth of frames). */
  attachReadBytes: 64 * 1024,
  /** How often a terminal exec looks for its command's terminal (script starts it within milliseconds), to apply a resize. */
  terminalLookupPollMs: 20,
  /** Looks before giving up on resizing: `script` failed to start its child, or the host is stalled. */
  terminalLookupAttemptsMax: 100,
} as const;
