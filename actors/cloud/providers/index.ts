/**
 * The shipped providers, registered by name (H6 fills this: `local`, `sim`). Loaded by the
 * registry before the first lookup, so a process without a cloud provider never loads them.
 */
export {};
