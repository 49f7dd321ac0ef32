/**
 * Pod addresses for the process runtime: one per sandbox from the node's loopback pod CIDR,
 * persisted in `<dir>/runtime/ips.json` after every change so a restarted agent keeps them;
 * `hostNetwork` sandboxes and every sandbox of a node whose CIDR is not loopback (a real host
 * without a pod network: nothing would route a 10.x pod address to a host process) use the
 * node's address, and `status()` says so.
 */
import type { Logger } from '../../../bus/logger.js';
import { PodCidrUnavailableError } from '../errors.js';
import { IpAllocator, isLoopbackCidr, parseIpv4Cidr, type IpAllocatorState } from '../ip-allocator.js';
import type { PodSandboxConfig } from '../types.js';
import { readJson, writeJsonAtomic } from './layout.js';

export class PodNetwork {
  private allocator: IpAllocator | null = null;

  constructor(
    private readonly ipsFile: string,
    private readonly podCidr: () => string | null,
    private readonly nodeIp: string,
    private readonly logger: Logger,
  ) {}

  /** A note for `status()` when pods cannot get their own addresses, else null. */
  note(): string | null {
    const cidr = this.podCidr();
    if (cidr === null) return 'the node has no pod CIDR yet: sandboxes wait for one';
    if (!isLoopbackCidr(parseIpv4Cidr(cidr))) return `pod CIDR ${cidr} is not loopback: pods share the node address ${this.nodeIp} (ports must not collide)`;
    return null;
  }

  assign(sandboxId: string, config: PodSandboxConfig): string {
    if (config.hostNetwork) return this.nodeIp;
    const cidr = this.podCidr();
    if (config.ip !== undefined) {
      if (cidr !== null && isLoopbackCidr(parseIpv4Cidr(cidr))) {
        const previous = this.current(cidr).reserve(config.ip, sandboxId);
        if (previous !== undefined) this.logger.warn('pod address taken over from an older sandbox', { ip: config.ip, sandboxId, previous });
        this.save();
      }
      return config.ip;
    }
    if (cidr === null) throw new PodCidrUnavailableError();
    if (!isLoopbackCidr(parseIpv4Cidr(cidr))) return this.nodeIp;
    const ip = this.current(cidr).allocate(sandboxId);
    this.save();
    return ip;
  }

  release(sandboxId: string): void {
    const cidr = this.podCidr();
    if (cidr === null || !isLoopbackCidr(parseIpv4Cidr(cidr))) return;
    this.current(cidr).release(sandboxId);
    this.save();
  }

  private current(cidr: string): IpAllocator {
    if (this.allocator === null || this.allocator.cidr.text !== cidr) {
      const saved = this.allocator?.snapshot() ?? readJson<IpAllocatorState>(this.ipsFile);
      this.allocator = new IpAllocator(parseIpv4Cidr(cidr), saved);
    }
    return this.allocator;
  }

  private save(): void {
    if (this.allocator !== null) writeJsonAtomic(this.ipsFile, this.allocator.snapshot());
  }
}
