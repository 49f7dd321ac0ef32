/**
 * Writing the scripted cloud: what a chaos runner or a test uses to change the `sim` provider's
 * cloud while it runs. Each change rewrites the whole file atomically (a temporary file renamed
 * over it), so the provider, which reads the file on every call, sees the old cloud or the new
 * one and never half of each.
 */
import { renameSync, writeFileSync } from 'node:fs';
import type { NodeAddress } from 'kubernetes-types/core/v1.js';
import type { InstanceState } from './config.js';

export interface SimInstanceSpec {
  readonly name: string;
  readonly zone?: string;
  readonly region?: string;
  readonly instanceType?: string;
  readonly addresses?: readonly (string | NodeAddress)[];
  readonly state?: InstanceState;
}

export interface SimCloudSpec {
  readonly seed?: number;
  readonly latencyMs?: number;
  readonly jitterMs?: number;
  readonly failureRate?: number;
  /** A CIDR or a list of addresses. */
  readonly loadBalancerPool?: string | readonly string[];
  readonly instances?: readonly SimInstanceSpec[];
}

export class SimCloudFile {
  private spec: SimCloudSpec;
  private writes = 0;

  /** Writes `spec` to `path` at once (the provider reads it at start). */
  constructor(readonly path: string, spec: SimCloudSpec) {
    this.spec = spec;
    this.write();
  }

  get current(): SimCloudSpec {
    return this.spec;
  }

  /** Replaces the fields given; the rest stay. */
  update(change: Partial<SimCloudSpec>): void {
    this.spec = { ...this.spec, ...change };
    this.write();
  }

  setInstanceState(name: string, state: InstanceState): void {
    const instances = this.spec.instances ?? [];
    if (!instances.some((instance) => instance.name === name)) throw new RangeError(`the scripted cloud has no instance ${name}`);
    this.update({ instances: instances.map((instance) => (instance.name === name ? { ...instance, state } : instance)) });
  }

  /** Removes the instance from the cloud altogether (as a cloud forgets a long-terminated one). */
  removeInstance(name: string): void {
    this.update({ instances: (this.spec.instances ?? []).filter((instance) => instance.name !== name) });
  }

  private write(): void {
    const temporary = `${this.path}.${process.pid}.${++this.writes}.tmp`;
    writeFileSync(temporary, `${JSON.stringify(this.spec, null, 2)}\n`);
    renameSync(temporary, this.path);
  }
}
