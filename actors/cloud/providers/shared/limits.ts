/**
 * Bounds shared by the shipped providers (`local`, `sim`). Each has its reason beside it.
 */
export const providerLimits = {
  /** A `--cloud-config` file is a few lines of YAML; a larger one is a mistake (a log, a binary), refused before parsing. */
  configFileBytesMax: 1024 * 1024,
  /**
   * Addresses one pool may hold: a /16. The pool is walked (probing for a free address) inside
   * a controller's provider call, which must stay well under its timeout; 65,536 steps do.
   */
  poolAddressesMax: 65_536,
} as const;
